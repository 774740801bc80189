"""The version 2 socket /ws/ in process (PROTOCOL.md section 5)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.domain.rooms import room_group, user_group
from chat.models import Message
from chat.realtime.hub import get_hub
from chat.services import rooms as room_services
from testing.refusals import assert_refused


@database_sync_to_async
def create_room(owner, name, kind="public", members=()):
    room_services.create_room(owner, name, kind)
    for username in members:
        room_services.add_member(owner, name, username)


@database_sync_to_async
def remove_member(owner, name, username):
    room_services.remove_member(owner, name, username)


@database_sync_to_async
def stored(room):
    return list(
        Message.objects.filter(room__name=room, kind="message").values_list(
            "seq", "text"
        )
    )


@pytest.fixture
async def v2():
    """`await v2(user)`: a /ws/ socket after its hello (on `.hello`)."""
    from config.asgi import application

    opened = []

    async def open_(user):
        comm = WebsocketCommunicator(
            application,
            "/ws/",
            headers=[(b"authorization", f"Bearer {user.token}".encode())],
        )
        connected, _ = await comm.connect()
        assert connected
        opened.append(comm)
        comm.hello = await comm.receive_json_from()
        return comm

    yield open_
    for comm in opened:
        try:
            await comm.disconnect()
        except Exception:
            pass


async def frames_until(comm, kind, room=None):
    """Frames up to and including the first of type `kind` (in `room`)."""
    seen = []
    while True:
        frame = await comm.receive_json_from()
        seen.append(frame)
        if frame["type"] == kind and (room is None or frame.get("room") == room):
            return seen


async def sync(comm, rooms):
    """Sync `rooms`; return {room: history frame}, presence read too."""
    await comm.send_json_to({"type": "sync", "rooms": rooms})
    got = {}
    for _ in rooms:
        history = await comm.receive_json_from()
        assert history["type"] == "history", history
        presence = await comm.receive_json_from()
        assert presence["type"] == "presence" and presence["room"] == history["room"]
        got[history["room"]] = history
    return got


async def nothing(comm, timeout=0.3):
    assert await comm.receive_nothing(timeout=timeout), "an unexpected frame arrived"


async def test_hello_is_first_with_v2_and_the_users_room_summaries(make_user, v2):
    """hello: v 2, the username, a summary per room the user is a member of
    (members listed for private rooms), nothing of rooms the user is not in."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "dev", "private", members=["bob"])
    await create_room(alice, "secret", "private")
    b = await v2(bob)
    assert b.hello["type"] == "hello" and b.hello["v"] == 2
    assert b.hello["username"] == "bob"
    rooms = {s["room"]: s for s in b.hello["rooms"]}
    assert set(rooms) == {"dev"}
    assert rooms["dev"]["kind"] == "private"
    assert rooms["dev"]["members"] == ["alice", "bob"]
    assert {"last_seq", "last_read_seq", "unread", "mentions", "notify"} <= set(
        rooms["dev"]
    )


async def test_sync_sends_history_then_live_events_once_in_order(make_user, v2):
    """sync: a history frame with `room` (null: the newest page), then that
    room's live events, once each, in seq order; other rooms' posts not."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "lobby")
    await create_room(alice, "dev")
    a = await v2(alice)
    got = await sync(a, {"lobby": None})
    assert got["lobby"]["room"] == "lobby" and got["lobby"]["last_seq"] == 1
    assert got["lobby"]["messages"] == []  # the member event is not a message
    b = await v2(bob)
    for n in range(3):
        await b.send_json_to({"type": "message", "room": "lobby", "message": f"m{n}"})
    await b.send_json_to({"type": "message", "room": "dev", "message": "elsewhere"})
    seqs: list[tuple[int, str]] = []
    while len(seqs) < 3:
        frame = await a.receive_json_from()
        if frame["type"] == "message":
            assert frame["room"] == "lobby"
            seqs.append((frame["seq"], frame["message"]))
    # bob's first post made him a member (a member event takes seq 2).
    assert [text for _, text in seqs] == ["m0", "m1", "m2"]
    assert [s for s, _ in seqs] == sorted({s for s, _ in seqs})
    await nothing(a)


async def test_sync_since_replays_every_event_including_deletions(make_user, v2):
    """sync with since: every event after it, a deletion of an older message
    included, so a client that was away converges."""
    alice = await make_user("alice")
    await create_room(alice, "lobby")
    a = await v2(alice)
    await sync(a, {"lobby": None})
    for text in ("one", "two"):
        await a.send_json_to({"type": "message", "room": "lobby", "message": text})
    frames = [await a.receive_json_from() for _ in range(2)]
    last = frames[-1]["seq"]
    await a.send_json_to({"type": "unsync", "rooms": ["lobby"]})
    await a.send_json_to({"type": "delete", "room": "lobby", "seq": frames[0]["seq"]})
    await nothing(a)  # not synced: no live event
    got = await sync(a, {"lobby": last})
    replay = got["lobby"]["messages"]
    assert [(f["type"], f.get("target")) for f in replay] == [
        ("deleted", frames[0]["seq"])
    ]
    assert got["lobby"]["complete"] is True


async def test_post_is_acked_with_room_and_reply_to_is_kept(make_user, v2):
    """message with client_id: stored once, `ack` names room, client_id, seq;
    reply_to names the thread root."""
    alice = await make_user("alice")
    await create_room(alice, "lobby")
    a = await v2(alice)
    await sync(a, {"lobby": None})
    await a.send_json_to(
        {"type": "message", "room": "lobby", "message": "root", "client_id": "c-1"}
    )
    got = await frames_until(a, "ack")
    ack = got[-1]
    assert ack == {"type": "ack", "room": "lobby", "client_id": "c-1", "seq": 2}
    await a.send_json_to(
        {"type": "message", "room": "lobby", "message": "re", "reply_to": 2}
    )
    frames = await frames_until(a, "message")
    while frames[-1]["message"] != "re":
        frames = await frames_until(a, "message")
    assert frames[-1]["reply_to"] == 2
    assert await stored("lobby") == [(2, "root"), (3, "re")]


@pytest.mark.parametrize(
    "frame, code, says",
    [
        (
            {"type": "message", "room": "secret", "message": "x", "client_id": "k"},
            "not_found",
            "no room named 'secret'",
        ),
        (
            {"type": "message", "room": "nowhere", "message": "x", "client_id": "k"},
            "not_found",
            "no room named 'nowhere'",
        ),
        ({"type": "history", "room": "secret"}, "not_found", "no room named 'secret'"),
        (
            {"type": "read", "room": "secret", "seq": 1},
            "not_found",
            "no room named 'secret'",
        ),
        (
            {"type": "edit", "room": "lobby", "seq": 99, "message": "x"},
            "not_found",
            "99",
        ),
        (
            {"type": "react", "room": "lobby", "seq": 1, "emoji": "no"},
            "bad_frame",
            "emoji",
        ),
        (
            {"type": "message", "room": "lobby", "message": " ", "client_id": "k"},
            "empty",
            "the message is empty",
        ),
        (
            {"type": "message", "room": "bad room!", "message": "x"},
            "bad_frame",
            "room",
        ),
        ({"type": "typing", "room": "dev"}, "bad_frame", "dev"),
        (
            {"type": "frobnicate", "room": "lobby"},
            "unknown_type",
            "unknown frame type 'frobnicate'",
        ),
    ],
)
async def test_refused_frames_get_an_error_with_room_and_client_id(
    make_user, v2, frame, code, says
):
    """A refused frame gets an error with code, a detail saying what was wrong,
    its room and client_id; nothing is stored; the socket stays open."""
    alice, carol = await make_user("alice"), await make_user("carol")
    await create_room(alice, "secret", "private")
    await create_room(alice, "lobby")
    c = await v2(carol)
    await c.send_json_to(frame)
    error = assert_refused(await c.receive_json_from(), code, says)
    assert error["room"] == frame["room"]
    assert error.get("client_id") == frame.get("client_id")
    assert await stored("secret") == []
    await c.send_json_to(
        {"type": "message", "room": "lobby", "message": "still", "client_id": "s"}
    )
    await frames_until(c, "ack")
    await c.send_json_to({"type": "history", "room": "lobby"})
    assert [
        m["message"] for m in (await frames_until(c, "history"))[-1]["messages"]
    ] == ["still"]


async def test_private_room_answers_as_a_room_that_does_not_exist(make_user, v2):
    """sync of a private room by a non-member: the same not_found as for a
    room that does not exist (but for the name)."""
    alice, carol = await make_user("alice"), await make_user("carol")
    await create_room(alice, "secret", "private")
    c = await v2(carol)
    await c.send_json_to({"type": "sync", "rooms": {"secret": None}})
    hidden = await c.receive_json_from()
    await c.send_json_to({"type": "sync", "rooms": {"nothere": None}})
    missing = await c.receive_json_from()
    assert hidden["code"] == missing["code"] == "not_found"
    assert hidden["detail"].replace("secret", "X") == missing["detail"].replace(
        "nothere", "X"
    )


async def test_typing_and_presence_per_synced_room(make_user, v2):
    """typing reaches the room's other synced sockets with `room`; presence
    frames name the room."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "lobby")
    a, b = await v2(alice), await v2(bob)
    await sync(a, {"lobby": None})
    await sync(b, {"lobby": None})
    assert (await frames_until(a, "presence", "lobby"))[-1]["online"] == [
        "alice",
        "bob",
    ]
    await b.send_json_to({"type": "typing", "room": "lobby"})
    assert (await frames_until(a, "typing"))[-1] == {
        "type": "typing",
        "room": "lobby",
        "username": "bob",
    }
    await nothing(b)


async def test_read_reaches_every_socket_of_the_user(make_user, v2):
    """read moves last_read_seq; the user's sockets get `read` and `room`."""
    alice = await make_user("alice")
    await create_room(alice, "lobby")
    a1, a2 = await v2(alice), await v2(alice)
    await sync(a1, {"lobby": None})
    await a1.send_json_to({"type": "message", "room": "lobby", "message": "x"})
    await frames_until(a1, "message")
    await a1.send_json_to({"type": "read", "room": "lobby", "seq": 2, "force": True})
    await a1.send_json_to({"type": "read", "room": "lobby", "seq": 1, "force": True})
    read = (await frames_until(a2, "read"))[-1]
    assert read == {"type": "read", "room": "lobby", "seq": 2}
    summary = (await frames_until(a2, "room"))[-1]
    assert summary["room"] == "lobby" and summary["last_read_seq"] == 2


async def test_edit_delete_react_reach_synced_sockets_as_events(make_user, v2):
    """edit, delete, react: `edited`, `reaction`, `deleted` events with their
    own seq and the target, in seq order."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "lobby")
    a, b = await v2(alice), await v2(bob)
    await sync(b, {"lobby": None})
    await a.send_json_to({"type": "message", "room": "lobby", "message": "tpyo"})
    posted = (await frames_until(b, "message"))[-1]
    seq = posted["seq"]
    await a.send_json_to(
        {"type": "edit", "room": "lobby", "seq": seq, "message": "typo"}
    )
    await a.send_json_to({"type": "react", "room": "lobby", "seq": seq, "emoji": "👍"})
    await a.send_json_to({"type": "delete", "room": "lobby", "seq": seq})
    got = [await b.receive_json_from() for _ in range(3)]
    assert [(f["type"], f["seq"], f["target"]) for f in got] == [
        ("edited", seq + 1, seq),
        ("reaction", seq + 2, seq),
        ("deleted", seq + 3, seq),
    ]
    assert got[0]["message"] == "typo" and got[1]["users"] == ["alice"]


async def test_removed_member_gets_removed_and_nothing_more(make_user, v2):
    """A member removed from a private room gets `removed` and no more of its
    events; a post there is then not_found."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "dev", "private", members=["bob"])
    a, b = await v2(alice), await v2(bob)
    await sync(b, {"dev": None})
    await remove_member(alice, "dev", "bob")
    removed = [f for f in await frames_until(b, "removed") if f["type"] == "removed"]
    assert removed == [{"type": "removed", "room": "dev"}]
    await sync(a, {"dev": None})
    await a.send_json_to({"type": "message", "room": "dev", "message": "after"})
    await frames_until(a, "message")
    await b.send_json_to({"type": "message", "room": "dev", "message": "x"})
    frames = await frames_until(b, "error")
    assert_refused(frames[-1], "not_found", "no room named 'dev'")
    assert not [f for f in frames if f["type"] in ("message", "removed")]


async def test_hub_subscribes_once_per_room_and_per_user(make_user, v2):
    """Two sockets of one user syncing the same room: one layer subscription
    for the room and one for the user's group on this process."""
    alice = await make_user("alice")
    await create_room(alice, "lobby")
    a1, a2 = await v2(alice), await v2(alice)
    await sync(a1, {"lobby": None})
    await sync(a2, {"lobby": None})
    hub = get_hub()
    layer = hub.layer
    assert list(layer.groups[room_group("lobby")]) == [hub.channel]
    assert list(layer.groups[user_group(alice.pk)]) == [hub.channel]
    await a1.disconnect()
    await a2.disconnect()
    assert "lobby" not in hub.rooms and alice.pk not in hub.user_sockets
    assert not layer.groups.get(room_group("lobby"))
    assert not layer.groups.get(user_group(alice.pk))


async def test_rooms_not_synced_get_room_summary_updates_only(make_user, v2, settings):
    """A member room the socket has not synced sends no events, only `room`
    summaries recounted from the log (unread, last_seq); a room joined later
    too."""
    settings.CHAT_SUMMARY_INTERVAL = 0.05
    alice, bob = await make_user("alice"), await make_user("bob")
    await create_room(alice, "dev", "private", members=["bob"])
    await create_room(alice, "lobby")
    b = await v2(bob)
    await sync(b, {"lobby": None})
    a = await v2(alice)
    for text in ("one", "two"):
        await a.send_json_to(
            {"type": "message", "room": "dev", "message": text, "client_id": text}
        )
        await frames_until(a, "ack")
    seen = []
    summary = {"unread": 0}
    while summary["unread"] < 2:
        seen += await frames_until(b, "room", "dev")
        summary = seen[-1]
    assert summary["last_seq"] == 4 and summary["last_read_seq"] < 4
    assert not [f for f in seen if f["type"] == "message"]
    await create_room(alice, "new", "private", members=["bob"])
    joined = (await frames_until(b, "room", "new"))[-1]
    await a.send_json_to({"type": "message", "room": "new", "message": "hi"})
    summary = joined
    while summary["unread"] < 1:
        summary = (await frames_until(b, "room", "new"))[-1]
    assert summary["last_seq"] > joined["last_seq"]


async def test_v2_refusals_in_a_row_close_1008_and_sockets_per_user_are_capped(
    make_user, v2, settings
):
    """The v2 socket keeps the v1 limits: refused frames in a row close it
    1008; past CHAT_MAX_SOCKETS_PER_USER a handshake is refused."""
    from config.asgi import application

    settings.CHAT_RATE_LIMIT_CLOSE_AFTER = 3
    settings.CHAT_MAX_SOCKETS_PER_USER = 1
    alice = await make_user("alice")
    a = await v2(alice)
    extra = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"authorization", f"Bearer {alice.token}".encode())],
    )
    connected, _ = await extra.connect()
    assert not connected
    for _ in range(3):
        await a.send_json_to({"type": "sync", "rooms": {"nowhere": None}})
    for _ in range(2):
        assert_refused(
            await a.receive_json_from(), "not_found", "no room named 'nowhere'"
        )
    assert (await a.receive_output())["code"] == 1008


async def test_history_request_pages_older_messages_of_the_named_room(make_user, v2):
    """history with room, before and limit: older messages of that room,
    oldest first, with has_more, in a frame that names the room."""
    alice = await make_user("alice")
    await create_room(alice, "lobby")
    a = await v2(alice)
    for n in range(5):
        await a.send_json_to(
            {
                "type": "message",
                "room": "lobby",
                "message": f"m{n}",
                "client_id": f"{n}",
            }
        )
        await frames_until(a, "ack")
    await a.send_json_to({"type": "history", "room": "lobby", "before": 5, "limit": 2})
    page = (await frames_until(a, "history"))[-1]
    assert page["room"] == "lobby"
    assert [m["message"] for m in page["messages"]] == ["m1", "m2"]
    assert page["has_more"] is True and page["complete"] is False


@pytest.mark.parametrize("origin", [b"http://localhost:8000", b"https://evil.example"])
async def test_v2_authenticates_as_v1_session_with_origin_or_refused(make_user, origin):
    """Same authentication as v1: a session cookie with an allowed Origin
    connects as its user; with a foreign Origin, or no credentials, refused
    before accept."""
    from django.test import Client

    from config.asgi import application

    alice = await make_user("alice")

    @database_sync_to_async
    def cookie():
        client = Client()
        client.force_login(alice)
        return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    # The Origin must be the handshake's own scheme://host:port (chat.ws.handshake).
    host = (b"host", b"localhost:8000")
    comm = WebsocketCommunicator(
        application, "/ws/", headers=[await cookie(), host, (b"origin", origin)]
    )
    connected, _ = await comm.connect()
    assert connected == (origin == b"http://localhost:8000")
    if connected:
        assert (await comm.receive_json_from())["username"] == "alice"
        await comm.disconnect()
    anonymous = WebsocketCommunicator(application, "/ws/")
    assert (await anonymous.connect())[0] is False
