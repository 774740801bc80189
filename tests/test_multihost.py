"""Faults across a real network: two chat hosts, Redis and PostgreSQL each
in its own network namespace (testing/netns.py), the test's clients on the
machine itself. A chat host cut from Redis for 10 s, from PostgreSQL for
10 s, both chat hosts partitioned from Redis while posts continue, and 20 ms
latency with 1% loss: every acknowledged post reaches every member exactly
once (live or on resume), refusals say what is unreachable, and the same
processes serve again once the network heals (no restart).

Each test prints acked, delivered, lost and duplicated (`pytest -s`) with
the clients of testing/faults.py, and requires zero lost and zero duplicated.
One network, Redis, PostgreSQL cluster and pair of chat processes serve the
module (each test has its own room and users), so later tests also show the
processes survived the earlier faults.
"""

import asyncio
import time
from dataclasses import dataclass

import pytest
import redis

from testing.faults import Member, RedisServer, Tally
from testing.netns import Network, require_netns
from testing.refusals import assert_refused
from testing.servers import Deployment, ServerProcess

from .test_faults import FAST, finish, traffic

pytestmark = pytest.mark.timeout(120)

OUTAGE = 10.0  # seconds a part is unreachable
USERS_PER_TEST = 6


@dataclass
class Hosts:
    net: Network
    deployment: Deployment
    servers: list[ServerProcess]
    redis: RedisServer
    database_url: str
    tokens: dict[str, str]

    def users(self, prefix: str) -> list[tuple[str, str]]:
        names = [f"{prefix}{i}" for i in range(USERS_PER_TEST)]
        return [(name, self.tokens[name]) for name in names]

    async def members(self, prefix: str, room: str, tally: Tally) -> list[Member]:
        """Members spread over both chat hosts (each reconnects to the other
        when its host fails it)."""
        return [
            await Member(name, token, room, self.servers, tally, first=i).start()
            for i, (name, token) in enumerate(self.users(prefix))
        ]

    def on(self, server: int, members: list[Member]) -> Member:
        """A member whose socket is on servers[server] now."""
        for member in members:
            if member.index % len(self.servers) == server and member.client:
                return member
        raise AssertionError(f"no member on server {server}")

    def subscribers(self, room: str) -> int:
        """Chat processes subscribed to the room's channel-layer group."""
        client = redis.Redis(self.redis.host, self.redis.port, socket_timeout=5)
        group = f"{self.deployment.env['CHAT_REDIS_PREFIX']}:layer:__group__chat.room.{room}"
        return client.pubsub_numsub(group)[0][1]

    async def resubscribed(self, room: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while (subs := self.subscribers(room)) < len(self.servers):
            assert time.monotonic() < deadline, f"{subs} processes in {room}'s group"
            await asyncio.sleep(0.1)  # polling Redis for the re-subscription

    def alive(self) -> None:
        for server in self.servers:
            assert server.proc is not None
            assert server.proc.poll() is None, f"a chat process died: {server.log()}"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    require_netns()
    tmp = tmp_path_factory.mktemp("multihost")
    net = Network("c1", "c2", "redis", "pg")
    deployment = None
    try:
        redis_server = net.redis(net["redis"], tmp)
        database_url = net.postgres(net["pg"]).database("chat")
        deployment = Deployment(
            tmp,
            database_url,
            redis_url=redis_server.url,
            ALLOWED_HOSTS=",".join(h.ip for h in net.hosts.values()),
            **FAST,
        )
        names = [f"{p}{i}" for p in "abcd" for i in range(USERS_PER_TEST)]
        tokens = dict(zip(names, deployment.tokens(*names)))
        servers = [
            deployment.server(host=net[name].ip, wrap=net[name].wrap())
            for name in ("c1", "c2")
        ]
        yield Hosts(net, deployment, servers, redis_server, database_url, tokens)
    finally:
        if deployment:
            deployment.stop()
        net.close()


async def redis_outage(hosts, label: str, prefix: str, room: str, cut, restore) -> None:
    """Members post for OUTAGE s while `cut()` keeps Redis from them, then
    `restore()`: nothing lost, both processes alive and subscribed again."""
    tally = Tally()
    members = await hosts.members(prefix, room, tally)
    load = asyncio.create_task(traffic(members, posts=70, pace=0.2))
    await asyncio.sleep(1.0)  # traffic before the fault
    cut()
    await asyncio.sleep(OUTAGE)  # the outage lasts while posts continue
    restore()
    tally.extra["outage_s"] = OUTAGE
    await asyncio.wait_for(load, 60)
    hosts.alive()
    await hosts.resubscribed(room)
    await finish(label, tally, members, hosts.database_url, room)


async def test_chat_host_cut_from_redis(hosts):
    """Chat host c1 cannot reach Redis for 10 s (its link to the rest stays
    up): its posts are still stored and acknowledged (rate limits fall back
    to its memory), members on c2 get c1's posts from the database and c1's
    members get c2's; afterwards both processes are subscribed again."""
    net = hosts.net
    await redis_outage(
        hosts,
        "c1 cut from redis",
        "a",
        "cut-redis",
        cut=lambda: net.block(net["c1"], net["redis"]),
        restore=lambda: net.unblock(net["c1"], net["redis"]),
    )


async def test_chat_host_cut_from_postgres(hosts):
    """Chat host c1 cannot reach PostgreSQL for 10 s: its posts are refused
    with `unavailable` (never acknowledged, never half-stored), c2 keeps
    serving, and c1 stores posts again afterwards without a restart."""
    net, tally, room = hosts.net, Tally(), "cut-pg"
    members = await hosts.members("b", room, tally)
    load = asyncio.create_task(traffic(members, posts=40, pace=0.2))
    await asyncio.sleep(1.0)  # traffic before the fault
    net.block(net["c1"], net["pg"])
    cut_at = time.monotonic()
    await asyncio.sleep(OUTAGE / 2)  # c1's pool notices its database is gone
    probe = hosts.on(0, members)
    frame = await asyncio.wait_for(
        probe.post("probe-cut", "probe-cut", retry=False), 30
    )
    tally.extra["refused_after_s"] = round(time.monotonic() - cut_at, 1)
    tally.extra["refusal"] = frame.get("code")
    await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - cut_at)))
    net.unblock(net["c1"], net["pg"])
    assert_refused(frame, "unavailable", "nothing was stored")
    await probe.post("probe-cut", "probe-cut")  # the retry the error asks for
    await asyncio.wait_for(load, 60)
    hosts.alive()
    # c1 itself stores again (no restart): a post on c1, acknowledged.
    again = hosts.on(0, members)
    frame = await again.post("after-cut", "after-cut", retry=False)
    assert frame["type"] == "ack", frame
    await finish("c1 cut from postgres", tally, members, hosts.database_url, room)


async def test_partition_chat_hosts_from_redis(hosts):
    """Redis's link is down for 10 s (both chat hosts partitioned from it)
    while everyone posts: posts are acknowledged throughout, each host's
    members get the other host's posts from the database, and pub/sub
    resumes on the same processes afterwards."""
    net = hosts.net
    await redis_outage(
        hosts,
        "partition from redis",
        "c",
        "partition",
        cut=lambda: net.down(net["redis"]),
        restore=lambda: net.up(net["redis"]),
    )


async def test_latency_and_loss(hosts):
    """20 ms between any two hosts (10 ms on each host's link) and 1% loss
    on every path (0.5% a link): nothing lost, nothing duplicated."""
    net, tally, room = hosts.net, Tally(), "lossy"
    for host in net.hosts.values():
        net.delay(host, 10, 0.5)
    try:
        members = await hosts.members("d", room, tally)
        started = time.monotonic()
        await traffic(members, posts=30, pace=0.1)
        # Each member posts in turn, waiting for each ack: the mean ack time.
        ack_s = (time.monotonic() - started) / 30 - 0.1
        tally.extra["mean_ack_ms"] = round(ack_s * 1000)
        tally.extra["one_way_ms"] = 20
        tally.extra["loss_percent"] = 1
        await finish("20 ms, 1% loss", tally, members, hosts.database_url, room)
    finally:
        for host in net.hosts.values():
            net.delay(host, 0, 0)
    hosts.alive()
