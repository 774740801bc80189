"""Sharded Redis: REDIS_URL names two redis-servers (comma-separated); the
channel layer and the shared state spread rooms over both, and posts,
presence and typing still cross between two server processes.
"""

import asyncio

import pytest
import redis

from testing.faults import RedisServer
from testing.wsclient import ChatClient

pytestmark = pytest.mark.timeout(90)

ROOMS = [f"team-{i}" for i in range(8)]


@pytest.fixture
def two_redis(tmp_path):
    servers = [RedisServer(tmp_path).start(), RedisServer(tmp_path).start()]
    yield servers
    for server in servers:
        server.stop()


async def test_rooms_spread_over_two_redis_shards(scaled_deployment, two_redis):
    """Eight rooms, a member of each on each of two processes: every post
    reaches the other process's member through pub/sub (the reconcile loop,
    slowed to 60 s, cannot have delivered it), each room's group and
    presence live on exactly one shard, and both shards carry rooms."""
    d = scaled_deployment(
        redis_url=",".join(r.url for r in two_redis),
        CHAT_RECONCILE_INTERVAL=60,
        # Our own two Redis servers: the default prefix, so the spread below
        # is the same every run (channels_redis's own hash put all eight
        # rooms on one shard).
        CHAT_REDIS_PREFIX="chat",
    )
    alice, bob = d.tokens("alice", "bob")
    p1, p2 = d.server(), d.server()
    prefix = d.env["CHAT_REDIS_PREFIX"]
    clients = [redis.Redis(r.host, r.port, socket_timeout=5) for r in two_redis]
    groups, presence = [0, 0], [0, 0]
    for room in ROOMS:
        a = await ChatClient.connect(p1.ws, room, alice)
        b = await ChatClient.connect(p2.ws, room, bob)
        assert b.hello["online"] == ["alice", "bob"], b.hello  # presence, shared
        await a.post(f"hello {room}", client_id=room)
        got = await b.next("message", timeout=3)
        assert (got["username"], got["message"]) == ("alice", f"hello {room}")
        await b.send({"type": "typing"})
        assert (await a.next("typing", timeout=3))["username"] == "bob"
        # While both are in: the room's group on one shard (both processes
        # subscribed there), its presence hash on one shard.
        group = f"{prefix}:layer:__group__chat.room.{room}"
        subs = [c.pubsub_numsub(group)[0][1] for c in clients]
        assert sorted(subs) == [0, 2], f"{room}: subscribers per shard {subs}"
        groups[subs.index(2)] += 1
        held = [c.exists(f"{prefix}:presence:{room}") for c in clients]
        assert sorted(held) == [0, 1], f"{room}: presence hash per shard {held}"
        presence[held.index(1)] += 1
        await a.close()
        await b.close()
    for i, client in enumerate(clients):  # every shard has its heartbeats
        assert client.exists(f"{prefix}:procs"), f"no process set on shard {i}"
    assert all(groups), f"rooms per shard (layer groups): {groups}"
    assert all(presence), f"rooms per shard (presence): {presence}"
    print(f"\n[shards] layer groups per shard {groups}; presence keys {presence}")


async def test_rate_limit_shared_across_processes_on_shards(
    scaled_deployment, two_redis
):
    """One user's token bucket, on whichever shard holds it, is shared by
    its sockets on both processes: a burst of 4 across them, then refusals."""
    d = scaled_deployment(
        redis_url=",".join(r.url for r in two_redis),
        CHAT_RATE_LIMIT_PER_SECOND=0.1,
        CHAT_RATE_LIMIT_BURST=4,
    )
    (token,) = d.tokens("carol")
    p1, p2 = d.server(), d.server()
    one = await ChatClient.connect(p1.ws, "limits", token)
    two = await ChatClient.connect(p2.ws, "limits", token)
    answers = []
    for i in range(6):
        client = (one, two)[i % 2]
        await client.post(f"m{i}", client_id=f"m{i}")
        while (frame := await client.recv())["type"] not in ("ack", "error"):
            pass
        answers.append(frame.get("code", frame["type"]))
    assert answers == ["ack"] * 4 + ["rate_limited"] * 2, answers
    await asyncio.gather(one.close(), two.close())


async def test_one_shard_down_leaves_the_other_shards_rooms_live(
    scaled_deployment, two_redis
):
    """One of two shards SIGKILLed: rooms on the other shard still cross
    between the processes through pub/sub (reconcile slowed to 60 s), posts
    in the dead shard's rooms are still acknowledged; once it is back (empty)
    those rooms cross again, with no restart."""
    from chat.realtime.redis_layer import shard_index

    d = scaled_deployment(
        redis_url=",".join(r.url for r in two_redis),
        CHAT_RECONCILE_INTERVAL=60,
        CHAT_REDIS_PREFIX="chat",
        CHAT_PRESENCE_HEARTBEAT=0.5,
        CHAT_PRESENCE_TTL=3,
    )
    alice, bob = d.tokens("alice", "bob")
    p1, p2 = d.server(), d.server()
    on: dict[int, list[str]] = {0: [], 1: []}
    for room in ROOMS:
        on[shard_index(f"chat:layer:__group__chat.room.{room}", 2)].append(room)
    live, dead = on[0][0], on[1][0]
    pairs = {}
    for room in (live, dead):
        pairs[room] = (
            await ChatClient.connect(p1.ws, room, alice),
            await ChatClient.connect(p2.ws, room, bob),
        )
    two_redis[1].kill()
    a, b = pairs[live]
    await a.post("still live", client_id="live-1")
    assert (await b.next("message", timeout=5))["message"] == "still live"
    a, b = pairs[dead]
    await a.post("shard down", client_id="dead-1")
    assert (await a.next("ack", timeout=10))["type"] == "ack"  # stored anyway
    two_redis[1].start()
    # Back, empty: the hub re-subscribes (redis-py reconnects); a post
    # crosses live again within a few seconds.
    deadline = asyncio.get_running_loop().time() + 15
    n = 0
    while True:
        n += 1
        await a.post(f"back {n}", client_id=f"back-{n}")
        try:
            while (await b.next("message", timeout=1))["message"] != f"back {n}":
                pass
            break
        except TimeoutError:
            assert asyncio.get_running_loop().time() < deadline, "not live again"
    print(f"\n[one shard down] live room crossed; back after {n} posts")
    for x, y in pairs.values():
        await x.close()
        await y.close()
