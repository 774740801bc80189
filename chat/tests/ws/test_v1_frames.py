"""Frames from client to server, and what every member sees."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.models import Message, Room
from testing.refusals import assert_refused

ORIGIN = (b"origin", b"http://localhost:8000")


@database_sync_to_async
def stored(room="lobby"):
    return list(Message.objects.filter(room__name=room).values_list("seq", "text"))


async def nothing(comm, timeout=0.3):
    """Assert that no frame arrives within `timeout`."""
    assert await comm.receive_nothing(timeout=timeout), "an unexpected frame arrived"


async def test_post_reaches_every_member_sender_included(make_user, connect):
    """A post is stored with the next seq and sent to every member, sender included."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.receive_json_from()  # presence: bob joined
    await a.send_json_to({"message": "  hi  "})
    for comm in (a, b):
        frame = await comm.receive_json_from()
        assert {
            k: frame[k] for k in ("type", "seq", "room", "username", "message")
        } == {
            "type": "message",
            "seq": 1,
            "room": "lobby",
            "username": "alice",
            "message": "hi",
        }
        assert frame["ts"].endswith("Z") and len(frame["ts"]) == 24
    assert await stored() == [(1, "hi")]


async def test_client_id_gets_ack_with_seq(make_user, connect):
    """A post with a client_id is acknowledged with its seq."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"type": "message", "message": "x", "client_id": "c-1"})
    frames = [await a.receive_json_from(), await a.receive_json_from()]
    assert {"type": "ack", "client_id": "c-1", "seq": 1} in frames


async def test_repeated_client_id_is_stored_once_on_any_connection(make_user, connect):
    """A repeated (user, client_id) is acked again with the same seq, stored and
    broadcast once, even from another socket."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a1, b = await connect(alice), await connect(bob)
    a2 = await connect(alice)
    await a1.send_json_to({"type": "message", "message": "once", "client_id": "c-9"})
    assert (await b.receive_json_from())["seq"] == 1
    await a2.send_json_to({"type": "message", "message": "once", "client_id": "c-9"})
    ack = await a2.receive_json_from()
    while ack["type"] != "ack":
        ack = await a2.receive_json_from()
    assert ack == {"type": "ack", "client_id": "c-9", "seq": 1}
    await nothing(b)
    assert await stored() == [(1, "once")]


async def test_typing_reaches_others_not_sender_and_is_throttled(make_user, connect):
    """typing goes to the other members, at most once per user per interval."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.receive_json_from()  # presence
    await a.send_json_to({"type": "typing"})
    assert await b.receive_json_from() == {"type": "typing", "username": "alice"}
    await a.send_json_to({"type": "typing"})
    await nothing(b)
    await nothing(a)
    assert await stored() == []


async def test_history_request_pages_older_messages(make_user, connect):
    """history: seq < before, the newest `limit` of them, oldest first, has_more."""
    alice = await make_user("alice")
    a = await connect(alice)
    for i in range(1, 8):
        await a.send_json_to({"message": f"m{i}"})
        await a.receive_json_from()
    await a.send_json_to({"type": "history", "before": 6, "limit": 3})
    page = await a.receive_json_from()
    assert page["type"] == "history"
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5]
    assert (page["has_more"], page["complete"]) == (True, False)
    await a.send_json_to({"type": "history", "before": 3, "limit": 3})
    page = await a.receive_json_from()
    assert [m["seq"] for m in page["messages"]] == [1, 2]
    assert (page["has_more"], page["complete"]) == (False, True)


@pytest.mark.parametrize(
    "frame, code, says",
    [
        ("not json", "bad_json", "not valid JSON"),
        ("[1, 2]", "bad_frame", "must be a JSON object"),
        ('"hi"', "bad_frame", "must be a JSON object"),
        ('{"message": 5}', "bad_frame", '"message" must be a string'),
        ('{"message": "x", "client_id": ""}', "bad_frame", '"client_id" must be'),
        ('{"message": "x", "client_id": 7}', "bad_frame", '"client_id" must be'),
        ('{"type": "history", "limit": 101}', "bad_frame", '"limit" must be'),
        ('{"type": "history", "before": "9"}', "bad_frame", '"before" must be'),
        ('{"type": "history", "limit": true}', "bad_frame", '"limit" must be'),
        ('{"type": 3}', "bad_frame", '"type" must be a string'),
        (
            '{"type": "chat.message", "message": "x"}',
            "unknown_type",
            "unknown frame type 'chat.message'",
        ),
        ('{"type": "websocket.close"}', "unknown_type", "'websocket.close'"),
        ('{"message": "   \\n\\t "}', "empty", "the message is empty"),
    ],
)
async def test_refused_frames_get_an_error_and_the_socket_stays_open(
    make_user, connect, frame, code, says
):
    """A refused frame gets an error with its code and a sentence saying what
    was wrong; nothing is stored or broadcast; the socket keeps working."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_to(text_data=frame)
    assert_refused(await a.receive_json_from(), code, says)
    assert await stored() == []
    await a.send_json_to({"message": "still here"})
    assert (await a.receive_json_from())["message"] == "still here"


async def test_binary_frame_is_bad_frame(make_user, connect):
    """A binary frame is refused with bad_frame."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_to(bytes_data=b'{"message": "hi"}')
    assert_refused(await a.receive_json_from(), "bad_frame", "binary frames are not")


async def test_too_long_message_is_refused(make_user, connect, settings):
    """A message over CHAT_MAX_MESSAGE_LENGTH (after stripping) is too_long."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "  " + "x" * 10 + "  "})
    assert (await a.receive_json_from())["message"] == "x" * 10
    await a.send_json_to({"message": "x" * 11})
    error = await a.receive_json_from()
    assert error["code"] == "too_long" and "10" in error["detail"]
    assert await stored() == [(1, "x" * 10)]


async def test_frame_over_size_limit_closes_1009(make_user, connect, settings):
    """A frame over CHAT_MAX_FRAME_BYTES closes the socket with 1009."""
    settings.CHAT_MAX_FRAME_BYTES = 1024
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_to(text_data='{"message": "' + "é" * 600 + '"}')  # 1,200+ bytes
    assert await a.receive_output() == {"type": "websocket.close", "code": 1009}


async def test_locked_room_refuses_posts_with_forbidden_but_reads(make_user, connect):
    """In a locked room posts get `forbidden`; history is still served."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "before the lock"})
    await a.receive_json_from()
    await database_sync_to_async(Room.objects.filter(name="lobby").update)(locked=True)
    await a.send_json_to({"message": "after"})
    assert_refused(await a.receive_json_from(), "forbidden", "'lobby' is locked")
    await a.send_json_to({"type": "history"})
    assert [m["message"] for m in (await a.receive_json_from())["messages"]] == [
        "before the lock"
    ]
    assert await stored() == [(1, "before the lock")]


async def test_rate_limit_is_per_user_across_sockets(make_user, connect, settings):
    """The token bucket is per user: two sockets share it; over it, rate_limited."""
    settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    settings.CHAT_RATE_LIMIT_BURST = 3
    alice = await make_user("alice")
    a1, a2 = await connect(alice), await connect(alice)
    for text in ("1", "2", "3"):
        await (a1 if text != "2" else a2).send_json_to({"message": text})
    await a2.send_json_to({"message": "4"})
    frames = [await a2.receive_json_from() for _ in range(4)]
    (refused,) = [f for f in frames if f["type"] == "error"]
    assert_refused(refused, "rate_limited", "too many messages")
    assert sorted(text for _, text in await stored()) == ["1", "2", "3"]


async def test_rate_limit_kept_up_closes_1008(make_user, connect, settings):
    """Refused CHAT_RATE_LIMIT_CLOSE_AFTER times in a row, the socket is closed
    1008, after the ack of the post it had sent before."""
    settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    settings.CHAT_RATE_LIMIT_BURST = 1
    settings.CHAT_RATE_LIMIT_CLOSE_AFTER = 3
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "spam", "client_id": "s-1"})
    for _ in range(3):
        await a.send_json_to({"message": "spam"})
    frames = []
    while True:
        output = await a.receive_output()
        if output["type"] == "websocket.close":
            break
        frames.append(output)
    assert output["code"] == 1008
    codes = [frame["text"] for frame in frames if '"type":"error"' in frame["text"]]
    assert len(codes) == 2 and all("rate_limited" in code for code in codes)
    # The post accepted before the close was stored and its ack was sent first.
    assert any('"type":"ack"' in frame["text"] for frame in frames)
    assert await stored() == [(1, "spam")]


async def test_presence_counts_each_user_once_and_follows_leaves(make_user, connect):
    """presence: sorted, each user once however many sockets; sent when it changes."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    b1 = await connect(bob)
    assert await a.receive_json_from() == {
        "type": "presence",
        "online": ["alice", "bob"],
    }
    b2 = await connect(bob)
    assert b2.hello["online"] == ["alice", "bob"]
    await nothing(a)  # bob's second tab changes nothing
    await b1.disconnect()
    await nothing(a)
    await b2.disconnect()
    assert await a.receive_json_from() == {"type": "presence", "online": ["alice"]}


async def test_presence_changes_close_together_come_as_one_frame(
    make_user, connect, settings
):
    """Users joining within CHAT_PRESENCE_COALESCE reach the others as one
    presence frame with the newest list, not one frame per join."""
    settings.CHAT_PRESENCE_COALESCE = 0.5
    alice, bob, carol = [await make_user(name) for name in ("alice", "bob", "carol")]
    a = await connect(alice)
    await connect(bob)
    await connect(carol)
    assert await a.receive_json_from() == {
        "type": "presence",
        "online": ["alice", "bob", "carol"],
    }
    await nothing(a)


async def test_deactivated_user_sockets_close_4403(make_user, connect):
    """Deactivating a user closes its sockets with 4403."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.receive_json_from()  # presence

    def deactivate():
        alice.is_active = False
        alice.save()

    await database_sync_to_async(deactivate)()
    assert await a.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }
    await b.send_json_to({"message": "bob stays"})
    frame = await b.receive_json_from()
    while frame["type"] != "message":
        frame = await b.receive_json_from()
    assert frame["message"] == "bob stays"


async def test_logout_closes_that_sessions_sockets_4403(make_user, connect):
    """Logging out closes the sockets opened with that session, not token sockets."""
    alice = await make_user("alice")
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    browser = await connect(alice, headers=[cookie, ORIGIN])
    bot = await connect(alice)
    await database_sync_to_async(client.post)("/accounts/logout/")
    assert await browser.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }
    await bot.send_json_to({"message": "bot still on"})
    assert (await bot.receive_json_from())["message"] == "bot still on"


async def test_deleted_token_closes_its_sockets_4403(make_user, connect):
    """Deleting an API token closes the sockets it opened."""
    alice = await make_user("alice")
    a = await connect(alice)
    await database_sync_to_async(lambda: alice.api_tokens.all().delete())()
    assert await a.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }


async def test_replies_keep_the_order_of_the_frames(make_user, connect):
    """Posts are stored while later frames are read, but the answers come in
    frame order: a post's ack before the error for the bad frame sent after
    it, and before the history page asked for after both."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"type": "message", "message": "first", "client_id": "p1"})
    await a.send_to(text_data="not json")
    await a.send_json_to({"type": "message", "message": "second", "client_id": "p2"})
    await a.send_json_to({"message": "   "})
    await a.send_json_to({"type": "history", "limit": 5})
    replies: list[dict] = []
    while len(replies) < 5:
        frame = await a.receive_json_from()
        if frame["type"] != "message":
            replies.append(frame.get("code") or frame.get("client_id") or frame["type"])
    assert replies == ["p1", "bad_json", "p2", "empty", "history"]
