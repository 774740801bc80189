"""The load generator's side of a socket: picows listeners, one per connection.

picows parses frames in C and calls `on_ws_frame` synchronously, so one
process holds thousands of sockets and reads tens of thousands of frames a
second (docs/performance.md compares it with `websockets`). Everything here
runs in callbacks on one event loop; nothing awaits per frame.

A post's text carries its sender and send time, "<publisher>:<n>:<ns>", so a
delivery's latency is read from the frame itself. Each socket checks the seq
of every message: a seq at or below the last one is a duplicate, a jump is a
loss, and the tail a socket never got is counted at the end (`Conn.missing`).
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

import orjson
from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)


@dataclass
class Stats:
    """Counters shared by every socket of one run."""

    deliveries: int = 0
    duplicates: int = 0
    gaps: int = 0  # seqs skipped over inside a socket's stream
    errors: dict[str, int] = field(default_factory=dict)
    closes: dict[WSCloseCode | int, int] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)
    recording: bool = False  # latency samples only inside the measured window


class Conn(WSListener):
    """One socket: counts deliveries, duplicates, gaps, latency."""

    def __init__(self, stats: Stats, room: str) -> None:
        self.stats = stats
        self.room = room
        self.transport: WSTransport | None = None
        self.ready = asyncio.get_running_loop().create_future()  # hello + history
        self.last_seq = 0
        self.publisher: Publisher | None = None
        self.closed = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before hello and history"))

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.CLOSE:
            code = frame.get_close_code()
            self.stats.closes[code] = self.stats.closes.get(code, 0) + 1
            transport.send_close(code)
            transport.disconnect()
            return
        if kind != WSMsgType.TEXT:
            return
        data = orjson.loads(frame.get_payload_as_bytes())
        kind = data["type"]
        if kind == "message":
            self._message(data)
        elif kind == "hello":
            self.last_seq = data["last_seq"]
        elif kind == "history":
            messages = data["messages"]
            if messages:
                self.last_seq = max(self.last_seq, messages[-1]["seq"])
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "error":
            code = data["code"]
            self.stats.errors[code] = self.stats.errors.get(code, 0) + 1

    def _message(self, data: dict) -> None:
        stats = self.stats
        seq = data["seq"]
        if seq <= self.last_seq:
            stats.duplicates += 1
            return
        stats.gaps += seq - self.last_seq - 1
        self.last_seq = seq
        stats.deliveries += 1
        sender, _, sent_ns = data["message"].rpartition(":")
        if stats.recording:
            stats.latencies_ns.append(time.perf_counter_ns() - int(sent_ns))
        if self.publisher is not None and sender.startswith(self.publisher.name):
            self.publisher.echoed()

    def send_text(self, text: str) -> None:
        self.transport.send(WSMsgType.TEXT, text.encode())  # type: ignore[union-attr]

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.send_close()
            self.transport.disconnect()


class Publisher:
    """Posts into its socket's room: saturating (a window of posts not yet
    seen back) or at a fixed rate (`run_at_rate`)."""

    def __init__(self, conn: Conn, name: str, window: int) -> None:
        self.conn = conn
        self.name = name + ":"  # ":" ends it, so "p1" never matches "p10"
        self.window = window
        self.sent = 0
        self.echoes = 0
        self.saturating = False
        conn.publisher = self

    @property
    def in_flight(self) -> int:
        return self.sent - self.echoes

    def post(self) -> None:
        self.sent += 1
        text = f"{self.name}{self.sent}:{time.perf_counter_ns()}"
        self.conn.send_text(orjson.dumps({"message": text}).decode())

    def start_saturating(self) -> None:
        self.saturating = True
        self._fill()

    def stop(self) -> None:
        self.saturating = False

    def echoed(self) -> None:
        self.echoes += 1
        if self.saturating:
            self._fill()

    def _fill(self) -> None:
        while self.in_flight < self.window and not self.conn.closed:
            self.post()


async def run_at_rate(publishers: list[Publisher], rate: float, seconds: float) -> None:
    """Post `rate` messages a second in total, spread over `publishers`, on a
    schedule (open loop: a slow server does not slow the senders down)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    due_total = 0
    i = 0
    while (now := loop.time()) - start < seconds:
        due = int((now - start) * rate)
        while due_total < due:
            publishers[i % len(publishers)].post()
            i += 1
            due_total += 1
        await asyncio.sleep(0.002)


async def open_conn(
    url: str, token: str | None, stats: Stats, room: str, timeout: float = 30.0
) -> Conn:
    """Connect to `url` with a bearer token; return once hello and history came."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    _, listener = await ws_connect(
        lambda: Conn(stats, room),
        url,
        extra_headers=headers,
        websocket_handshake_timeout=timeout,
        max_frame_size=16 * 1024 * 1024,
    )
    conn = cast(Conn, listener)
    await asyncio.wait_for(conn.ready, timeout)
    return conn


async def open_many(
    base: str, rooms: list[str], tokens: list[str], stats: Stats, concurrency: int = 256
) -> list[Conn]:
    """Open one socket per (room, token) pair, `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(room: str, token: str) -> Conn:
        async with gate:
            return await open_conn(f"{base}/ws/chat/{room}/", token, stats, room)

    return list(await asyncio.gather(*(one(r, t) for r, t in zip(rooms, tokens))))
