"""Graceful restart (chat/realtime/drain.py) on real server processes: SIGTERM turns
/readyz to 503 and refuses handshakes at once, open sockets are served for
the drain window and then closed with 1012 after their acks and queued
frames; under traffic on two processes, nothing acknowledged is lost and the
clients resume on the other process."""

import asyncio
import json
import signal
import sqlite3
import time

import httpx
import pytest
import websockets

from testing.faults import Member, Tally, caught_up, settle, start_members
from testing.wsclient import ChatClient

pytestmark = pytest.mark.timeout(90)


async def closed_with(ws) -> tuple[int, list[dict]]:
    """Read until the socket closes: its close code and the frames before it."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006, frames


async def test_sigterm_drains_then_closes_with_1012(deployment):
    """After SIGTERM: /readyz 503 (draining) on the first request and /healthz
    200; a new handshake is refused with HTTP 503 saying why; an open socket
    still gets its posts acknowledged during the drain window, and is closed
    with 1012 once the window is over; then the process exits."""
    d = deployment(CHAT_DRAIN_SECONDS="2")
    (token,) = d.tokens("alice")
    server = d.server()
    client = await ChatClient.connect(server.ws, "lobby", token)
    signalled = time.monotonic()
    server.signal(signal.SIGTERM)
    ready = httpx.get(f"{server.http}/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "draining"
    assert httpx.get(f"{server.http}/healthz").status_code == 200
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ChatClient.connect(server.ws, "lobby", token)
    assert refused.value.response.status_code == 503
    assert b"restarting" in refused.value.response.body
    await client.post("still here", client_id="c-1")
    assert (await client.next("ack"))["seq"] == 1  # served during the window
    code, _ = await closed_with(client.ws)
    assert code == 1012
    assert time.monotonic() - signalled >= 1.9  # not before the window ended
    assert server.proc.wait(15) is not None
    log = server.log()
    assert "event=drain seconds=2.0 sockets=1" in log
    assert "event=refused path=/ws/chat/lobby/ reason=draining" in log
    assert "without completing handshake" not in log


async def test_posts_taken_before_the_close_are_acknowledged_first(deployment):
    """A burst of posts, then SIGTERM with no drain window: every post the
    server stored was acknowledged on the socket before its 1012 (acks and
    queued frames flushed, not dropped with the socket)."""
    d = deployment(CHAT_DRAIN_SECONDS="0")
    (token,) = d.tokens("bob")
    server = d.server()
    client = await ChatClient.connect(server.ws, "burst", token)
    for i in range(200):
        await client.post(f"post {i}", client_id=f"b-{i}")
    server.signal(signal.SIGTERM)
    code, frames = await closed_with(client.ws)
    assert code == 1012
    server.proc.wait(15)
    acked = {f["client_id"] for f in frames if f["type"] == "ack"}
    db = d.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("select client_id from chat_message")}
    assert stored, "nothing was stored before the close"
    assert stored == acked, f"stored without ack: {sorted(stored - acked)[:5]}"


class RestartingMember(Member):
    """A member that notes the close code of every socket it lost."""

    def _setup(self) -> None:
        super()._setup()
        self.close_codes: list[int] = []

    async def _connect(self) -> None:
        if self.client is not None and self.client.ws.close_code is not None:
            self.close_codes.append(self.client.ws.close_code)
        await super()._connect()


async def test_rolling_restart_under_traffic(scaled_deployment):
    """Two processes on PostgreSQL and Redis, six users posting; one process
    gets SIGTERM (a rolling restart's step): it answers /readyz with 503 at
    once, its three clients are closed with 1012 after the drain window and
    resume on the other process; no acknowledged post is lost, none is
    stored twice, no gap; then the process comes back on its port."""
    d = scaled_deployment(CHAT_DRAIN_SECONDS="1.5", CHAT_RECONCILE_INTERVAL="1")
    servers = [d.server(), d.server()]
    tally, room = Tally(), "rolling"
    names = [f"g{i}" for i in range(6)]
    restarting_members = await start_members(
        RestartingMember, d, names, room, servers, tally
    )
    members: list[Member] = list(restarting_members)

    async def traffic() -> None:
        async def one(member: Member) -> None:
            for i in range(30):
                cid = f"{member.name}-{i}"
                await member.post(cid, cid)
                await asyncio.sleep(0.1)  # pacing the load

        await asyncio.gather(*(one(m) for m in members))

    load = asyncio.create_task(traffic())
    await asyncio.sleep(1.0)  # traffic before the restart
    restarting = servers[1]
    restarting.signal(signal.SIGTERM)
    assert httpx.get(f"{restarting.http}/readyz").status_code == 503
    assert restarting.proc.wait(20) is not None  # drained and exited
    await asyncio.wait_for(load, 40)
    moved = [m for m in restarting_members if m.close_codes]
    assert len(moved) == 3, {m.name: m.close_codes for m in restarting_members}
    assert all(m.close_codes == [1012] for m in moved), [m.close_codes for m in moved]
    # The restarted process serves again on the same port.
    servers[1] = d.server(port=restarting.port)
    probe = await ChatClient.connect(servers[1].ws, room, members[0].token)
    await probe.close()
    database = d.env["DATABASE_URL"]
    from testing.faults import stored_posts

    last_seq, _ = stored_posts(database, room)
    try:
        await caught_up(members, last_seq)
    finally:
        problems = settle(tally, members, database, room)
        report = tally.report("rolling restart")
        print("\n" + report)
        for member in members:
            await member.stop()
    assert not problems, f"{problems} {report}"
    assert tally.lost == 0 and tally.duplicates == 0 and tally.gaps == 0, report
    assert tally.posts_acked == tally.posts_stored == 180, report
