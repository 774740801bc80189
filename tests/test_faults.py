"""Faults under traffic: Redis restarted, a worker SIGKILLed, the database
cut off. Every test counts posts acknowledged, deliveries expected and seen
(live and on resume), duplicates, gaps and reconnects, prints the figures
(`pytest -s`), puts them in every assertion message, and requires zero lost
and zero duplicated.

Our own redis-server, our own server processes and a TCP relay in front of
PostgreSQL: the machine's shared services are never stopped.
"""

import asyncio
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import pytest
import redis

from testing.faults import (
    LibraryMember,
    Member,
    RedisServer,
    Tally,
    TcpProxy,
    caught_up,
    settle,
    start_members,
    stored_posts,
)
from testing.refusals import assert_refused
from testing.wsclient import ChatClient

# Each fault test is bounded (~30 s of work); a hang fails it, never the run.
pytestmark = pytest.mark.timeout(90)

FAST = dict(
    CHAT_RECONCILE_INTERVAL=1,
    CHAT_PRESENCE_HEARTBEAT=0.5,
    CHAT_PRESENCE_TTL=3,
)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


async def traffic(
    members: Sequence[Member | LibraryMember], posts: int, pace: float
) -> None:
    """Each member posts `posts` messages, each until acknowledged."""

    async def one(member: Member | LibraryMember) -> None:
        for i in range(posts):
            cid = f"{member.name}-{i}"
            await member.post(cid, cid)
            await asyncio.sleep(pace)  # pacing the load, not waiting for anything

    await asyncio.gather(*(one(m) for m in members))


async def finish(
    name: str,
    tally: Tally,
    members: Sequence[Member | LibraryMember],
    database_url: str,
    room: str,
) -> str:
    last_seq, _ = stored_posts(database_url, room)
    try:
        await caught_up(members, last_seq)
    finally:
        problems = settle(tally, members, database_url, room)
        report = tally.report(name)
        print("\n" + report)
        for member in members:
            await member.stop()
    assert not problems, f"{problems} {report}"
    assert tally.lost == 0, report
    assert tally.duplicates == 0, report
    assert tally.gaps == 0, report
    assert tally.posts_acked == tally.posts_stored, report
    return report


async def test_redis_restart_under_traffic(scaled_deployment, own_redis):
    """Redis SIGKILLed and restarted empty while six users post on two
    processes: no process dies or hangs, every acknowledged post reaches
    every member (live or on resume), clients that reconnect during the
    outage resume, and both processes are subscribed to the room again."""
    d = scaled_deployment(redis_url=own_redis.url, **FAST)
    servers = [d.server(), d.server()]
    tally, room = Tally(), "redis-restart"
    names = [f"r{i}" for i in range(6)]
    members = await start_members(Member, d, names, room, servers, tally)
    # Two more on the client library (v2 socket), one on each process.
    library = await start_members(
        LibraryMember, d, ["lib0", "lib1"], room, servers, tally
    )
    load = asyncio.create_task(traffic([*members, *library], posts=30, pace=0.1))
    await asyncio.sleep(1.0)  # let traffic run before the fault
    own_redis.kill()
    outage_started = time.monotonic()
    await members[0].reconnect()  # resume while Redis is down, on each process
    await members[1].reconnect()
    await asyncio.sleep(max(0.0, 1.5 - (time.monotonic() - outage_started)))
    own_redis.start()
    tally.extra["redis_outage_s"] = round(time.monotonic() - outage_started, 1)
    await asyncio.wait_for(load, 30)
    assert all(s.proc.poll() is None for s in servers), "a server process died"
    # Still serving, and presence rebuilt: every member online again once each
    # process's heartbeat found Redis empty and wrote its sockets back.
    deadline = time.monotonic() + 10
    while True:
        probe = await ChatClient.connect(servers[0].ws, room, members[0].token)
        await probe.close()
        if probe.hello["online"] == sorted([*names, "lib0", "lib1"]):
            break
        assert time.monotonic() < deadline, f"presence after restart: {probe.hello}"
        await asyncio.sleep(0.2)  # polling: the heartbeat rewrites within 0.5 s
    # Both processes in the room's group again: on pub/sub, redis-py
    # re-subscribes on reconnect and the hub retries the subscriptions that
    # failed meanwhile; on core (CHANNEL_LAYER=core), the hub re-adds them.
    client = redis.Redis(port=own_redis.port, socket_timeout=5)
    layer_prefix = f"{d.env['CHAT_REDIS_PREFIX']}:layer:"
    if d.env.get("CHANNEL_LAYER", "pubsub") == "core":
        group = f"{layer_prefix}:group:chat.room.{room}"
        count = lambda: client.zcard(group)  # noqa: E731
    else:
        group = f"{layer_prefix}__group__chat.room.{room}"
        count = lambda: client.pubsub_numsub(group)[0][1]  # noqa: E731
    deadline = time.monotonic() + 10
    while (subs := count()) < 2:
        assert time.monotonic() < deadline, f"{subs} processes in {group}"
        await asyncio.sleep(0.1)  # polling Redis for the re-subscription
    await finish(
        "redis restart", tally, [*members, *library], d.env["DATABASE_URL"], room
    )


async def test_worker_killed_under_traffic(scaled_deployment):
    """A server process SIGKILLed while six users post: its clients reconnect
    to the other process and resume, no acknowledged post is lost, and a post
    retried with the same client_id after the kill is stored once."""
    d = scaled_deployment(**FAST)
    servers = [d.server(), d.server()]
    tally, room = Tally(), "worker-kill"
    names = [f"k{i}" for i in range(6)]
    members = await start_members(Member, d, names, room, servers, tally)
    # Two more on the client library, both first on the process to be killed.
    library = await start_members(
        LibraryMember, d, ["lib0", "lib1"], room, servers, tally, first=1
    )
    load = asyncio.create_task(traffic([*members, *library], posts=30, pace=0.1))
    await asyncio.sleep(1.5)  # let traffic run before the fault
    servers[1].kill()
    await asyncio.wait_for(load, 30)
    # Retry each member's latest acknowledged post with its client_id, now on
    # the surviving process: acknowledged again with the same seq, not stored.
    same = 0
    for member in members:
        cid, seq = max(member.acked.items(), key=lambda item: item[1])
        frame = await member.post(cid, cid)
        same += frame["seq"] == seq
    tally.extra["retried_after_kill_same_seq"] = same
    lib_reconnects = sum(lib.client.reconnects for lib in library)
    tally.extra["library_reconnects"] = lib_reconnects
    report = await finish(
        "worker kill", tally, [*members, *library], d.env["DATABASE_URL"], room
    )
    assert same == len(members), report
    assert lib_reconnects >= 2, report  # both library clients moved over
    assert tally.reconnects >= 3, report  # the killed process's three clients


async def test_database_unreachable_for_seconds(scaled_deployment, tmp_path):
    """PostgreSQL cut off for ~2 s behind a TCP relay: posts get an error
    `unavailable`, never an ack; nothing is half-stored (seqs stay 1..N, a
    refused post is absent); the servers recover without a restart and the
    refused posts, sent again with their client_id, are stored once."""
    d = scaled_deployment(**FAST)
    direct = d.env["DATABASE_URL"]
    parts = urlsplit(direct)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    try:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (f"{userinfo}@" if userinfo else "") + f"127.0.0.1:{proxy.port}"
        relayed = parts._replace(netloc=netloc).geturl()
        servers = [d.server(DATABASE_URL=relayed), d.server(DATABASE_URL=relayed)]
        tally, room = Tally(), "db-cut"
        names = [f"d{i}" for i in range(4)]
        members = await start_members(Member, d, names, room, servers, tally)
        steady, probes = members[:2], members[2:]
        load = asyncio.create_task(traffic(steady, posts=30, pace=0.1))
        await asyncio.sleep(1.0)  # let traffic run before the fault
        proxy.cut()
        cut_at = time.monotonic()
        refused = []
        for member in probes:
            for i in range(3):
                cid = f"{member.name}-cut-{i}"
                frame = await member.post(cid, cid, retry=False)
                # Not acknowledged while cut off; says to send it again.
                assert_refused(frame, "unavailable", "nothing was stored")
                refused.append((member, cid))
        await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - cut_at)))
        proxy.restore()
        tally.extra["db_outage_s"] = round(time.monotonic() - cut_at, 1)
        _, rows = stored_posts(direct, room)
        stored_cids = {cid for _, cid, _ in rows}
        assert not stored_cids & {cid for _, cid in refused}, (
            "a refused post was stored"
        )
        for member, cid in refused:  # the client's retry, as the error says
            await member.post(cid, cid)
        await asyncio.wait_for(load, 30)
        tally.extra["refused_then_retried"] = len(refused)
        await finish("database cut", tally, members, direct, room)
    finally:
        proxy.close()
