"""The version 2 socket across two server processes on Redis and PostgreSQL:
delivery exactly once in seq order, per-user frames, access loss."""

import pytest
import websockets

from .wsclient import ChatClient, UserClient


def make_rooms(d, script: str) -> None:
    """Run room services in a manage.py shell (it publishes through Redis,
    as the admin or the API would)."""
    d.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from chat.services import rooms\n"
        "U = get_user_model().objects.get\n" + script,
    )


async def test_v2_delivery_across_processes_once_in_seq_order(scaled_deployment):
    """alice on process 1 synced to a private room gets every post bob makes
    on process 2, once, in seq order; carol (not a member) on process 2
    gets not_found for it."""
    d = scaled_deployment()
    alice, bob, carol = d.tokens("alice", "bob", "carol")
    make_rooms(
        d,
        "rooms.create_room(U(username='alice'), 'dev', 'private')\n"
        "rooms.add_member(U(username='alice'), 'dev', 'bob')\n",
    )
    s1, s2 = d.server(), d.server()
    a = await UserClient.connect(s1.ws, alice)
    b = await UserClient.connect(s2.ws, bob)
    c = await UserClient.connect(s2.ws, carol)
    assert [r["room"] for r in a.hello["rooms"]] == ["dev"]
    assert c.hello["rooms"] == []
    history = (await a.sync({"dev": None}))["dev"]
    start = history["last_seq"]
    posts = 40
    for n in range(posts):
        await b.send({"type": "message", "room": "dev", "message": f"p{n}"})
    got = [await a.next("message", "dev") for _ in range(posts)]
    assert [f["seq"] for f in got] == list(range(start + 1, start + posts + 1))
    assert [f["message"] for f in got] == [f"p{n}" for n in range(posts)]
    await c.send({"type": "sync", "rooms": {"dev": None}})
    error = await c.next("error")
    assert (error["code"], error["room"]) == ("not_found", "dev")
    for client in (a, b, c):
        await client.close()


async def test_v2_per_user_frames_reach_the_users_sockets_on_every_process(
    scaled_deployment,
):
    """A read on alice's socket on process 1 reaches her socket on process 2
    as `read` and `room` frames."""
    d = scaled_deployment()
    (alice,) = d.tokens("alice")
    make_rooms(d, "rooms.create_room(U(username='alice'), 'lobby')\n")
    s1, s2 = d.server(), d.server()
    a1 = await UserClient.connect(s1.ws, alice)
    a2 = await UserClient.connect(s2.ws, alice)
    await a1.sync({"lobby": None})
    await a1.send(
        {"type": "message", "room": "lobby", "message": "x", "client_id": "c-1"}
    )
    ack = await a1.next("ack")
    await a1.send({"type": "read", "room": "lobby", "seq": ack["seq"], "force": True})
    assert await a2.next("read") == {"type": "read", "room": "lobby", "seq": ack["seq"]}
    summary = await a2.next("room")
    assert summary["room"] == "lobby" and summary["last_read_seq"] == ack["seq"]
    await a1.close()
    await a2.close()


async def test_v2_removed_member_gets_removed_on_the_other_process(scaled_deployment):
    """bob, removed from a private room by a change made elsewhere, gets
    `removed` on his socket within seconds and no more of the room's events;
    his v1 socket to it closes 4403."""
    d = scaled_deployment()
    alice, bob = d.tokens("alice", "bob")
    make_rooms(
        d,
        "rooms.create_room(U(username='alice'), 'dev', 'private')\n"
        "rooms.add_member(U(username='alice'), 'dev', 'bob')\n",
    )
    s1, s2 = d.server(), d.server()
    a = await UserClient.connect(s1.ws, alice)
    b = await UserClient.connect(s2.ws, bob)
    await a.sync({"dev": None})
    await b.sync({"dev": None})
    b1 = await ChatClient.connect(s2.ws, "dev", bob)
    make_rooms(d, "rooms.remove_member(U(username='alice'), 'dev', 'bob')\n")
    assert await b.next("removed", timeout=10) == {"type": "removed", "room": "dev"}
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await b1.recv(timeout=10)
    assert closed.value.rcvd.code == 4403
    await a.send(
        {"type": "message", "room": "dev", "message": "secret", "client_id": "k"}
    )
    await a.next("ack")
    try:
        frame = await b.next("message", timeout=1.0)
    except TimeoutError:
        frame = None
    assert frame is None, frame
    await a.close()
    await b.close()


async def test_v2_unsynced_room_updates_reach_the_sidebar_across_processes(
    scaled_deployment,
):
    """bob reads one room on process 2; alice's posts to another of his rooms,
    on process 1, reach him as `room` summaries with the new unread count,
    and none of that room's messages."""
    d = scaled_deployment()
    alice, bob = d.tokens("alice", "bob")
    make_rooms(
        d,
        "rooms.create_room(U(username='alice'), 'dev', 'private')\n"
        "rooms.add_member(U(username='alice'), 'dev', 'bob')\n"
        "rooms.create_room(U(username='bob'), 'lobby')\n",
    )
    s1, s2 = d.server(), d.server(CHAT_SUMMARY_INTERVAL=0.1)
    b = await UserClient.connect(s2.ws, bob)
    await b.sync({"lobby": None})
    a = await UserClient.connect(s1.ws, alice)
    for n in range(3):
        await a.send({"type": "message", "room": "dev", "message": f"m{n}"})
    summary = await b.next("room", "dev")
    while summary["unread"] < 3:
        summary = await b.next("room", "dev")
    assert summary["unread"] == 3
    assert not [f for f in b.pending if f["type"] == "message"]
    await a.close()
    await b.close()
