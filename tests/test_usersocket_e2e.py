"""The version 2 socket across two server processes on Redis and PostgreSQL:
delivery exactly once in seq order, per-user frames, access loss."""

import asyncio

import pytest
import websockets

from testing.refusals import assert_refused
from testing.wsclient import ChatClient, UserClient


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


async def dev_on_two_processes(d):
    """alice's private room `dev` with bob; two processes, alice's /ws/ on
    the first and bob's on the second: (s1, s2, alice's, bob's)."""
    alice, bob = d.tokens("alice", "bob")
    make_rooms(
        d,
        "rooms.create_room(U(username='alice'), 'dev', 'private')\n"
        "rooms.add_member(U(username='alice'), 'dev', 'bob')\n",
    )
    s1, s2 = d.server(), d.server()
    a = await UserClient.connect(s1.ws, alice)
    b = await UserClient.connect(s2.ws, bob)
    return s1, s2, a, b


async def test_v2_delivery_across_processes_once_in_seq_order(scaled_deployment):
    """alice on process 1 synced to a private room gets every post bob makes
    on process 2, once, in seq order; carol (not a member) on process 2
    gets not_found for it."""
    d = scaled_deployment()
    (carol,) = d.tokens("carol")
    _, s2, a, b = await dev_on_two_processes(d)
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
    error = assert_refused(await c.next("error"), "not_found", "no room named 'dev'")
    assert error["room"] == "dev"
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
    _, s2, a, b = await dev_on_two_processes(d)
    await a.sync({"dev": None})
    await b.sync({"dev": None})
    b1 = await ChatClient.connect(s2.ws, "dev", d.token["bob"])
    make_rooms(d, "rooms.remove_member(U(username='alice'), 'dev', 'bob')\n")
    assert await b.next("removed", timeout=10) == {"type": "removed", "room": "dev"}
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await b1.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
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


async def test_v2_resync_while_others_post_on_two_processes_sees_every_seq_once(
    scaled_deployment,
):
    """Posters on both processes; a reader on one keeps unsyncing and syncing
    the room again from the last seq it saw, on the same socket: it sees
    every event seq exactly once, in order (history, then live)."""
    d = scaled_deployment()
    alice, bob, dave = d.tokens("alice", "bob", "dave")
    make_rooms(d, "rooms.create_room(U(username='dave'), 'busy')\n")
    s1, s2 = d.server(), d.server()
    per_poster = 60

    async def poster(server, token: str, name: str) -> set[int]:
        client = await UserClient.connect(server.ws, token)
        acked = set()
        for n in range(per_poster):
            await client.send(
                {
                    "type": "message",
                    "room": "busy",
                    "message": f"{name}-{n}",
                    "client_id": f"{name}-{n}",
                }
            )
            acked.add((await client.next("ack"))["seq"])
        await client.close()
        return acked

    reader = await UserClient.connect(s1.ws, dave)
    seen: list[int] = []
    resyncs = 0

    async def next_live(until_acked: asyncio.Event) -> dict | None:
        """The room's next event; None once every acked post was seen."""
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            if until_acked.is_set() and seen[-1] >= last_seq[0]:
                return None
            try:
                frame = await reader.recv(timeout=0.2)
            except TimeoutError:
                continue  # no frame yet: look at the posters again
            if frame.get("room") == "busy" and "seq" in frame:
                return frame
        raise AssertionError(f"no live event in 15 s after {seen[-1:]}")

    async def read(until_acked: asyncio.Event) -> None:
        nonlocal resyncs
        since = None
        while True:
            await reader.send({"type": "sync", "rooms": {"busy": since}})
            while True:  # frames of the previous sync come before the history
                frame = await reader.recv(timeout=15)
                if frame["type"] == "history" and frame.get("room") == "busy":
                    break
            assert since is None or frame["complete"], frame
            seen.extend(m["seq"] for m in frame["messages"])
            if since is None:
                seen[:] = list(range(1, frame["last_seq"] + 1))  # before the posts
            for _ in range(7):  # a few live events, then sync again
                live = await next_live(until_acked)
                if live is None:
                    return
                seen.append(live["seq"])
            await reader.send({"type": "unsync", "rooms": ["busy"]})
            since = seen[-1]
            resyncs += 1

    last_seq = [0]
    done = asyncio.Event()

    async def posters() -> tuple[set[int], set[int]]:
        sets = await asyncio.gather(poster(s1, alice, "a"), poster(s2, bob, "b"))
        last_seq[0] = max(max(s) for s in sets)
        done.set()
        return sets

    sets, _ = await asyncio.wait_for(asyncio.gather(posters(), read(done)), 120)
    acked = set().union(*sets)
    assert len(acked) == 2 * per_poster
    assert seen == list(range(1, last_seq[0] + 1)), "a gap, a duplicate or a reorder"
    assert resyncs > 5
    await reader.close()
