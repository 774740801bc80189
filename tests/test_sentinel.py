"""Redis Sentinel: the master SIGKILLed under traffic, Sentinel promotes its
replica, and the same two server processes follow it (CHAT_REDIS_SENTINELS,
REDIS_URL naming the master) with nothing lost or duplicated.
"""

import asyncio
import subprocess
import time
from typing import cast

import pytest
import redis

from testing.faults import Member, RedisServer, Tally, start_members
from testing.servers import free_port

from .test_faults import FAST, finish, traffic

pytestmark = pytest.mark.timeout(90)


class Sentinel:
    """One redis-server in sentinel mode watching `master` (quorum 1)."""

    def __init__(self, tmp_path, master: RedisServer) -> None:
        self.port = free_port()
        conf = tmp_path / f"sentinel-{self.port}.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode no\n"
            f"sentinel monitor chatmaster 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds chatmaster 1000\n"
            "sentinel failover-timeout chatmaster 5000\n"
        )
        self.proc = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"],
            stdout=open(tmp_path / f"sentinel-{self.port}.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        self.client = redis.Redis(port=self.port, socket_timeout=2)

    def wait(self, what: str, condition, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except redis.RedisError:
                pass  # not listening yet
            assert time.monotonic() < deadline, f"sentinel: {what}"
            time.sleep(0.1)  # polling Sentinel's view: it has no push we can await

    def master_port(self) -> int:
        addr = self.client.sentinel_get_master_addr_by_name("chatmaster")
        return int(cast("tuple[bytes | str, int]", addr)[1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def sentinel_pair(tmp_path):
    master = RedisServer(tmp_path).start()
    replica = RedisServer(
        tmp_path, args=("--replicaof", "127.0.0.1", str(master.port))
    ).start()
    sentinel = Sentinel(tmp_path, master)
    try:
        sentinel.wait(
            "knows the replica",
            lambda: sentinel.client.sentinel_slaves("chatmaster"),
        )
        yield master, replica, sentinel
    finally:
        sentinel.stop()
        replica.stop()
        master.stop()


async def test_sentinel_failover_under_traffic(scaled_deployment, sentinel_pair):
    """The master is SIGKILLed while six users post on two processes:
    Sentinel promotes the replica, both processes follow it without a
    restart (re-subscribed on the new master), and every acknowledged post
    reaches every member exactly once."""
    master, replica, sentinel = sentinel_pair
    d = scaled_deployment(
        redis_url="redis://chatmaster/0",
        CHAT_REDIS_SENTINELS=f"127.0.0.1:{sentinel.port}",
        **FAST,
    )
    servers = [d.server(), d.server()]
    tally, room = Tally(), "failover"
    names = [f"s{i}" for i in range(6)]
    members = await start_members(Member, d, names, room, servers, tally)
    load = asyncio.create_task(traffic(members, posts=50, pace=0.2))
    await asyncio.sleep(1.0)  # traffic before the fault
    group = f"{d.env['CHAT_REDIS_PREFIX']}:layer:__group__chat.room.{room}"
    old = redis.Redis(port=master.port, socket_timeout=2)
    assert old.pubsub_numsub(group)[0][1] == 2, "not on the master before"
    master.kill()
    killed = time.monotonic()
    await asyncio.to_thread(
        sentinel.wait,
        "promotes the replica",
        lambda: sentinel.master_port() == replica.port,
    )
    tally.extra["failover_s"] = round(time.monotonic() - killed, 1)
    await asyncio.wait_for(load, 60)
    assert all(s.proc.poll() is None for s in servers), "a server process died"
    new = redis.Redis(port=replica.port, socket_timeout=2)
    deadline = time.monotonic() + 15
    while (subs := new.pubsub_numsub(group)[0][1]) < 2:
        assert time.monotonic() < deadline, f"{subs} processes on the new master"
        await asyncio.sleep(0.1)  # polling Redis for the re-subscription
    await finish("sentinel failover", tally, members, d.env["DATABASE_URL"], room)
