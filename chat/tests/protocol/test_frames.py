"""The frame types (chat/protocol/frames.py), their JSON Schema at /api/v1/protocol.json,
and the fixture that holds every frame an in-process socket sends to it."""

import jsonschema
import orjson
import pytest
from django.test import Client

from chat.protocol import events
from chat.protocol.frames import protocol_schema
from chat.protocol.v1 import CloseCode, ErrorCode, constants
from chat.tests.schema_check import frame_errors

TS = "2026-11-23T22:20:00.123Z"


def test_protocol_json_is_a_json_schema_of_every_frame():
    """GET (and HEAD) /api/v1/protocol.json: a valid 2020-12 JSON Schema whose
    ServerFrame names every server frame of PROTOCOL.md version 2, with the
    error and close codes; public, no credentials needed."""
    client = Client()
    reply = client.get("/api/v1/protocol.json")
    assert reply.status_code == 200
    assert reply["Content-Type"] == "application/schema+json"
    schema = orjson.loads(reply.content)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == protocol_schema()
    kinds = {
        schema["$defs"][ref["$ref"].rpartition("/")[2]]["properties"]["type"]["const"]
        for ref in schema["$defs"]["ServerFrame"]["oneOf"]
    }
    assert kinds == {
        "hello",
        "history",
        "message",
        "ack",
        "presence",
        "typing",
        "error",
        "deleted",
        "edited",
        "reaction",
        "member",
        "topic",
        "room",
        "read",
        "removed",
    }
    assert schema["x-error-codes"] == [code.value for code in ErrorCode]
    assert schema["x-close-codes"] == {c.name: c.value for c in CloseCode}
    assert schema["x-constants"] == constants()
    assert client.head("/api/v1/protocol.json").status_code == 200
    assert client.get("/api/v1/protocol.json/").content == reply.content
    assert client.post("/api/v1/protocol.json").status_code == 405


def test_every_frame_the_server_builds_is_valid():
    """Each builder in chat/protocol/events.py makes a frame its schema accepts."""
    message = events.message_frame(
        seq=3, room="lobby", username="alice", text="hi", ts=TS
    )
    built = [
        events.hello_frame(room="lobby", username="alice", online=["a"], last_seq=0),
        events.history_frame(
            messages=[message, events.tombstone(message)], complete=True, has_more=False
        ),
        message,
        events.message_frame(
            seq=4, room="lobby", username="bob", text="", ts=TS, deleted=True
        ),
        events.ack_frame(client_id="c-1", seq=3),
        events.presence_frame(["alice", "bob"]),
        events.typing_frame("bob"),
        *(
            events.event_frame(kind, seq=5, room="lobby", ts=TS, username="bob", **f)  # type: ignore[arg-type]
            for kind, f in [
                ("deleted", {"target": 3}),
                ("edited", {"target": 3, "message": "x", "edited_at": TS}),
                ("reaction", {"target": 3, "emoji": "👍", "users": ["bob"]}),
                ("topic", {"topic": "t", "by": "bob"}),
                ("member", {"op": "join", "by": "alice"}),
            ]
        ),
        events.read_frame(room="lobby", seq=3),
        events.removed_frame("lobby"),
        *(events.error_frame(code, "why") for code in ErrorCode),
    ]
    whole = jsonschema.Draft202012Validator(protocol_schema())
    for frame in built:
        assert frame_errors(frame) == [], frame
        assert whole.is_valid(frame), frame  # the document itself agrees


@pytest.mark.parametrize(
    "frame, wrong",
    [
        ({"type": "typing", "username": "bob", "extra": 1}, "extra"),
        ({"type": "ack", "client_id": "c-1", "seq": 0}, "seq"),
        ({"type": "error", "code": "no_such_code", "detail": "x"}, "code"),
        ({"type": "presence"}, "online"),
        ({"type": "hello", "v": 2, "username": "a", "rooms": [{"room": "x"}]}, "rooms"),
        ({"type": "nope"}, "'nope'"),
        (
            {"type": "message", "seq": 1, "room": "Lobby", "username": "a"}
            | {"message": "hi", "ts": TS},
            "room",
        ),
        (
            {"type": "message", "seq": 1, "room": "lobby", "username": "a"}
            | {"message": "hi", "ts": "2026-11-23 22:20:00"},
            "ts",
        ),
    ],
)
def test_a_frame_off_its_type_is_refused_naming_the_field(frame, wrong):
    errors = frame_errors(frame)
    assert errors and any(wrong in error for error in errors), errors


def test_history_items_are_room_events():
    """A history page may hold every kind of room event (resume), nothing else."""
    edited = {"type": "edited", "seq": 5, "room": "lobby", "username": "a", "ts": TS}
    edited |= {"target": 3, "message": "new", "edited_at": TS}
    page = events.history_frame(messages=[edited], complete=True, has_more=False)
    assert frame_errors(page) == []
    page["messages"].append(events.typing_frame("bob"))
    assert frame_errors(page)


def test_client_frames_schema():
    """#/$defs/ClientFrame accepts what a client may send (docs/protocol.md)."""
    schema = protocol_schema()
    client = jsonschema.Draft202012Validator({**schema, "$ref": "#/$defs/ClientFrame"})
    for frame in [
        {"message": "hi"},
        {"type": "message", "message": "hi", "client_id": "c-17"},
        {"type": "typing"},
        {"type": "history", "before": 120, "limit": 50},
        {"type": "sync", "rooms": {"lobby": 118, "dev": None}},
        {"type": "react", "room": "lobby", "seq": 119, "emoji": "👍", "on": True},
        {"type": "read", "room": "lobby", "seq": 141, "force": True},
    ]:
        assert client.is_valid(frame), frame
    assert not client.is_valid({"type": "message", "message": 5})
    assert not client.is_valid({"type": "history", "before": 0})


async def test_a_socket_frame_off_the_schema_fails_its_test(
    make_user, connect, monkeypatch
):
    """The autouse fixture checks what in-process sockets send: an error frame
    built with an undeclared field fails the receive, naming the schema."""
    alice = await make_user("alice")
    comm = await connect(alice)
    monkeypatch.setattr(
        "chat.ws.v1.events.error_frame",
        lambda code, detail: {"type": "error", "code": code, "detail": detail, "x": 1},
    )
    await comm.send_to(text_data="not json")
    with pytest.raises(AssertionError, match="protocol.json"):
        await comm.receive_json_from()
