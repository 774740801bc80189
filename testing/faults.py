"""Parts that fail on purpose, and clients that keep count.

- `RedisServer`: our own redis-server on a spare port, to stop and restart
  (never the machine's shared one).
- `TcpProxy`: a TCP relay to PostgreSQL that the test can cut and restore,
  so a server loses its database without the shared PostgreSQL noticing.
- `Member` and `Tally`: a client that reconnects (to any live server) and
  resumes with `since`, retries unacknowledged posts with the same
  client_id, and counts what it saw; `Tally` adds the figures up.
"""

import asyncio
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self, TypeVar

import psycopg
import websockets

from .servers import Deployment, ServerProcess, free_port
from .wsclient import ChatClient

# --- our own Redis ---


class RedisServer:
    """`host` and `wrap` (a command prefix) run it in a network namespace
    (testing/netns.py)."""

    def __init__(self, tmp_path, host: str = "127.0.0.1", wrap=(), args=()) -> None:
        self.host, self.wrap, self.args = host, tuple(wrap), tuple(args)
        self.port = free_port()
        self.log_path = tmp_path / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [
                *self.wrap,
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--save",
                "",
                "--appendonly",
                "no",
                # Reached from other namespaces' addresses too (testing/netns.py).
                "--protected-mode",
                "no",
                "--dir",  # a replica writes the RDB it receives: not in the tree
                str(self.log_path.parent),
                *self.args,
            ],
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)  # a port that is not open yet: nothing to await
        raise TimeoutError(f"redis-server on {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: Redis goes away without a goodbye, and comes back empty."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def commandstats(self) -> dict[str, int]:
        import redis

        info = redis.Redis(self.host, self.port).info("commandstats")
        return {name.removeprefix("cmdstat_"): v["calls"] for name, v in info.items()}


# --- a TCP relay we can cut ---


class TcpProxy:
    """Relays 127.0.0.1:<port> to `upstream`, in its own thread (the tests'
    own loop blocks while servers start). `cut()` closes every relayed
    connection and refuses new ones until `restore()`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    async def _relay(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _cut(self) -> None:
        assert self._server is not None  # started
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        try:
            self.cut()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


# --- clients that keep count ---


@dataclass
class Tally:
    posts_acked: int = 0
    posts_stored: int = 0
    members: int = 0
    deliveries_expected: int = 0
    deliveries_seen: int = 0
    live: int = 0
    resumed: int = 0
    duplicates: int = 0
    gaps: int = 0
    reconnects: int = 0
    retries: int = 0
    refused: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.deliveries_expected - self.deliveries_seen

    def report(self, name: str) -> str:
        figures = {
            "posts_acked": self.posts_acked,
            "posts_stored": self.posts_stored,
            "members": self.members,
            "deliveries_expected": self.deliveries_expected,
            "deliveries_seen": self.deliveries_seen,
            "live": self.live,
            "on_resume": self.resumed,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "reconnects": self.reconnects,
            "retries": self.retries,
            "errors_unavailable": self.refused,
            **self.extra,
        }
        return f"[{name}] " + " ".join(f"{k}={v}" for k, v in figures.items())


class Disconnected(Exception):
    pass


class Counting:
    """A member of `room` as `name` (by `token`), failing over among
    `servers` from `servers[first]`: what it saw, counted into the tally
    (each seq once, in order), and the posts acknowledged to it."""

    def __init__(
        self,
        name: str,
        token: str,
        room: str,
        servers: list[ServerProcess],
        tally: Tally,
        first: int = 0,
    ) -> None:
        self.name, self.token, self.room = name, token, room
        self.servers, self.tally, self.index = servers, tally, first
        self.last_seq = 0
        self.seen: dict[int, str] = {}  # seq -> text
        self.acked: dict[str, int] = {}  # client_id -> seq
        self._reader: asyncio.Task | None = None
        self._setup()

    def _setup(self) -> None:
        """The subclass's own state."""

    async def start(self) -> Self:
        raise NotImplementedError

    def record(self, seq: int, text: str, resumed: bool) -> None:
        if seq in self.seen:
            self.tally.duplicates += 1
            return
        if seq != self.last_seq + 1:
            self.tally.gaps += 1
        self.seen[seq] = text
        self.last_seq = max(self.last_seq, seq)
        if resumed:
            self.tally.resumed += 1
        else:
            self.tally.live += 1


class Member(Counting):
    """One user's socket in a room that survives the failures under test."""

    def _setup(self) -> None:
        self.client: ChatClient | None = None
        self.connected = asyncio.Event()
        self.waiting: dict[str, asyncio.Future] = {}
        self._stopping = False

    # --- connection ---

    async def start(self) -> Self:
        await self._connect()
        return self

    async def _connect(self) -> None:
        delay = 0.05
        while not self._stopping:
            server = self.servers[self.index % len(self.servers)]
            try:
                client = await ChatClient.connect(
                    server.ws, self.room, self.token, since=self.last_seq, timeout=5
                )
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                self.index += 1  # that one is down: try the next process
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            self.client = client
            for message in client.history["messages"]:
                self._record(message, resumed=True)
            self._reader = asyncio.create_task(self._read(client))
            self.connected.set()
            return

    async def reconnect(self) -> None:
        """Close this socket and resume on the next process."""
        self.tally.reconnects += 1
        self.connected.clear()
        assert self._reader is not None and self.client is not None  # connected
        self._reader.cancel()
        await self.client.close()
        self._fail_waiting()
        self.index += 1
        await self._connect()

    async def _read(self, client: ChatClient) -> None:
        try:
            while True:
                frame = json.loads(await client.ws.recv())
                kind = frame["type"]
                if kind == "message":
                    self._record(frame, resumed=False)
                elif (
                    kind in ("ack", "error") and frame.get("client_id") in self.waiting
                ):
                    future = self.waiting.pop(frame["client_id"])
                    if not future.done():  # not timed out by post() meanwhile
                        future.set_result(frame)
                elif kind == "error":
                    for future in self.waiting.values():  # errors carry no client_id
                        if not future.done():
                            future.set_result(frame)
                            break
        except websockets.exceptions.ConnectionClosed:
            pass
        if self._stopping:
            return
        self.tally.reconnects += 1
        self.connected.clear()
        self._fail_waiting()
        asyncio.create_task(self._connect())

    def _fail_waiting(self) -> None:
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(Disconnected())
        self.waiting.clear()

    def _record(self, message: dict, resumed: bool) -> None:
        self.record(message["seq"], message["message"], resumed)

    # --- posting ---

    async def post(self, client_id: str, text: str, retry: bool = True) -> dict:
        """Send until acknowledged (same client_id each time); the last
        ack or error frame."""
        while True:
            await self.connected.wait()
            future = asyncio.get_running_loop().create_future()
            self.waiting[client_id] = future
            try:
                assert self.client is not None  # connected
                await self.client.post(text, client_id)
                frame = await asyncio.wait_for(future, 5)
            except (Disconnected, TimeoutError, websockets.exceptions.ConnectionClosed):
                self.waiting.pop(client_id, None)
                self.tally.retries += 1
                # Yield to the reader, which notices the close and reconnects
                # (a closed socket fails without suspending: no busy loop).
                await asyncio.sleep(0.05)
                continue
            if frame["type"] == "ack":
                self.acked[client_id] = frame["seq"]
                return frame
            self.tally.refused += frame.get("code") == "unavailable"
            if not retry:
                return frame
            self.tally.retries += 1
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stopping = True
        if self._reader:
            self._reader.cancel()
        if self.client:
            await self.client.close()


async def caught_up(
    members: "Sequence[Member | LibraryMember]", last_seq: int, timeout: float = 15
) -> None:
    """Wait until every member saw every seq up to `last_seq` (live or on resume)."""
    deadline = time.monotonic() + timeout
    while any(m.last_seq < last_seq for m in members):
        if time.monotonic() > deadline:
            behind = {m.name: m.last_seq for m in members if m.last_seq < last_seq}
            raise AssertionError(f"not caught up to {last_seq} in {timeout}s: {behind}")
        await asyncio.sleep(0.05)  # polling client-side counters, no frame to await


def stored_posts(
    database_url: str, room: str
) -> tuple[int, list[tuple[int, str, str]]]:
    """(room.last_seq, [(seq, client_id, text)...]) straight from the database."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT last_seq FROM chat_room WHERE name = %s", [room]
        ).fetchone()
        rows = conn.execute(
            "SELECT m.seq, m.client_id, m.text FROM chat_message m "
            "JOIN chat_room r ON r.id = m.room_id WHERE r.name = %s ORDER BY m.seq",
            [room],
        ).fetchall()
    return (row[0] if row else 0), rows


def settle(
    tally: Tally,
    members: "Sequence[Member | LibraryMember]",
    database_url: str,
    room: str,
) -> list[str]:
    """Fill the tally from the members and the database; the problems found."""
    last_seq, rows = stored_posts(database_url, room)
    acked = {cid: seq for m in members for cid, seq in m.acked.items()}
    tally.posts_acked = len(acked)
    tally.posts_stored = len(rows)
    tally.members = len(members)
    tally.deliveries_expected = len(rows) * len(members)
    tally.deliveries_seen = sum(
        sum(1 for seq, _cid, text in rows if m.seen.get(seq) == text) for m in members
    )
    problems = []
    if [seq for seq, _, _ in rows] != list(range(1, len(rows) + 1)) or last_seq != len(
        rows
    ):
        problems.append(f"seqs not 1..{len(rows)} (room last_seq {last_seq})")
    by_cid = {cid: seq for seq, cid, _ in rows}
    if len(by_cid) != len(rows):
        problems.append("a client_id stored twice")
    for cid, seq in acked.items():
        if by_cid.get(cid) != seq:
            problems.append(f"acked {cid} as seq {seq}, stored as {by_cid.get(cid)}")
    return problems


class LibraryMember(Counting):
    """A member on the Python client library (clients/python: the v2
    socket), given every server to fail over to. It has what `settle` and
    `caught_up` read of a Member (`seen`, `acked`, `last_seq`), so the fault
    tests hold the library to the same promise: every acknowledged post once,
    in order, live or on resume, whatever fails."""

    def _setup(self) -> None:
        from chat_client import ChatClient as LibraryClient

        servers, first = self.servers, self.index
        urls = [s.http for s in servers[first:] + servers[:first]]
        self.client = LibraryClient(urls, self.token, rooms=[self.room], backoff=0.05)

    async def start(self) -> Self:
        await self.client.start()
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        from chat_client.events import Disconnected as Dropped
        from chat_client.events import Message

        async for event in self.client.events():
            if isinstance(event, Dropped):
                self.tally.reconnects += 1
            if isinstance(event, Message):  # the library promises each once
                self.record(event.seq, event.text, event.replayed)

    async def post(self, client_id: str, text: str, retry: bool = True) -> dict:
        """The library retries until acknowledged (same client_id)."""
        seq = await self.client.post(self.room, text, client_id=client_id, timeout=60)
        self.acked[client_id] = seq
        return {"type": "ack", "client_id": client_id, "seq": seq}

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.client.close()


M = TypeVar("M", bound=Counting)


async def start_members(
    kind: type[M],
    d: Deployment,
    names: Sequence[str],
    room: str,
    servers: list[ServerProcess],
    tally: Tally,
    first: int | None = None,
) -> list[M]:
    """A started `kind` member of `room` per name (a token each), the i-th
    first on servers[i] (or all on servers[first])."""
    tokens = d.tokens(*names)
    return [
        await kind(n, t, room, servers, tally, i if first is None else first).start()
        for i, (n, t) in enumerate(zip(names, tokens))
    ]
