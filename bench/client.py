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

from testing.wsclient import USER_SOCKET, bearer, room_socket


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


class _Socket(WSListener):
    """What every load-generator socket does: keep the transport, count
    close codes and error frames, hand each text frame's JSON to `_frame`."""

    not_ready = "closed before it was ready"

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.transport: WSTransport | None = None
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(self.not_ready))

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
        self._frame(orjson.loads(frame.get_payload_as_bytes()))

    def _frame(self, data: dict) -> None:
        raise NotImplementedError

    def _error(self, data: dict) -> None:
        code = data["code"]
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1

    def send_text(self, text: str) -> None:
        assert self.transport is not None  # connected: ready came first
        self.transport.send(WSMsgType.TEXT, text.encode())


class Conn(_Socket):
    """One socket: counts deliveries, duplicates, gaps, latency."""

    not_ready = "closed before hello and history"

    def __init__(self, stats: Stats, room: str) -> None:
        super().__init__(stats)  # ready: once hello and history came
        self.room = room
        self.last_seq = 0
        self.publisher: Publisher | None = None

    def _frame(self, data: dict) -> None:
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
            self._error(data)

    def _message(self, data: dict) -> None:
        _deliver(self.stats, self, data)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.send_close()
            self.transport.disconnect()


class SioConn(Conn):
    """A socket.io 4 client over its WebSocket transport (the --peers row):
    Engine.IO packets ("0" open, "2" ping, "4" message) around Socket.IO
    ones ("40" connect, "42" event); the event's body is the frame."""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            super().on_ws_frame(transport, frame)
            return
        payload = frame.get_payload_as_bytes()
        if payload.startswith(b"42"):
            self._frame(orjson.loads(payload[2:])[1])
        elif payload == b"2":
            transport.send(WSMsgType.TEXT, b"3")
        elif payload.startswith(b"0"):
            transport.send(WSMsgType.TEXT, b"40")

    def send_text(self, text: str) -> None:
        event = b'42["message",' + text.encode() + b"]"
        assert self.transport is not None  # connected: ready came first
        self.transport.send(WSMsgType.TEXT, event)


def _deliver(stats: Stats, stream, data: dict) -> None:
    """A message frame for `stream` (a Conn, or one room of a V2Conn)."""
    seq = data["seq"]
    if seq <= stream.last_seq:
        stats.duplicates += 1
        return
    stats.gaps += seq - stream.last_seq - 1
    stream.last_seq = seq
    stats.deliveries += 1
    sender, _, sent_ns = data["message"].rpartition(":")
    if stats.recording:
        stats.latencies_ns.append(time.perf_counter_ns() - int(sent_ns))
    publisher = stream.publisher
    if publisher is not None and sender.startswith(publisher.name):
        publisher.echoed()


class RoomView:
    """One room of a version 2 socket, seen as a v1 Conn is (room, last_seq,
    publisher, closed, send_text): the scenarios count it the same way."""

    def __init__(self, conn: "V2Conn", room: str) -> None:
        self.conn = conn
        self.room = room
        self.last_seq = 0
        self.publisher: Publisher | None = None
        self.synced = False

    @property
    def closed(self) -> bool:
        return self.conn.closed

    def send_text(self, text: str) -> None:
        # Publisher sends {"message": …}; v2 names the frame and the room.
        body = orjson.loads(text)
        self.conn.send_text(
            orjson.dumps({"type": "message", "room": self.room, **body}).decode()
        )

    def close(self) -> None:
        self.conn.close()


class V2Conn(_Socket):
    """A version 2 socket (/ws/): syncs its rooms after hello; ready once a
    history frame came for each."""

    not_ready = "closed before every history"

    def __init__(self, stats: Stats, rooms: list[str]) -> None:
        super().__init__(stats)
        self.views = {room: RoomView(self, room) for room in rooms}
        self._unsynced = len(rooms)

    def _frame(self, data: dict) -> None:
        kind = data["type"]
        if kind == "message":
            _deliver(self.stats, self.views[data["room"]], data)
        elif kind == "hello":
            sync = {"type": "sync", "rooms": {room: None for room in self.views}}
            self.send_text(orjson.dumps(sync).decode())
        elif kind == "history":
            view = self.views[data["room"]]
            messages = data["messages"]
            view.last_seq = max(
                view.last_seq,
                data.get("last_seq") or 0,
                messages[-1]["seq"] if messages else 0,
            )
            if not view.synced:
                view.synced = True
                self._unsynced -= 1
                if not self._unsynced and not self.ready.done():
                    self.ready.set_result(None)
        elif kind == "error":
            self._error(data)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.send_close()
            self.transport.disconnect()


class Publisher:
    """Posts into its socket's room: saturating (a window of posts not yet
    seen back) or at a fixed rate (`run_at_rate`)."""

    def __init__(self, conn: "Conn | RoomView", name: str, window: int) -> None:
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
    url: str,
    token: str | None,
    stats: Stats,
    room: str,
    timeout: float = 30.0,
    kind: type[Conn] = Conn,
) -> Conn:
    """Connect to `url` with a bearer token; return once hello and history came."""
    _, listener = await ws_connect(
        lambda: kind(stats, room),
        url,
        extra_headers=bearer(token or None),
        websocket_handshake_timeout=timeout,
        max_frame_size=16 * 1024 * 1024,
    )
    conn = cast(Conn, listener)
    await asyncio.wait_for(conn.ready, timeout)
    return conn


async def open_many(
    base: str,
    rooms: list[str],
    tokens: list[str],
    stats: Stats,
    concurrency: int = 256,
    socketio: bool = False,
) -> list[Conn]:
    """Open one socket per (room, token) pair, `concurrency` handshakes at a
    time (`socketio`: to a socket.io server, the room in the query)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(room: str, token: str) -> Conn:
        async with gate:
            if socketio:
                url = f"{base}/socket.io/?EIO=4&transport=websocket&room={room}"
                return await open_conn(url, token, stats, room, kind=SioConn)
            return await open_conn(base + room_socket(room), token, stats, room)

    return list(await asyncio.gather(*(one(r, t) for r, t in zip(rooms, tokens))))


async def open_v2(
    base: str, rooms_per_user: list[list[str]], tokens: list[str], stats: Stats
) -> list[V2Conn]:
    """One /ws/ socket per user, syncing its rooms; 256 handshakes at a time."""
    gate = asyncio.Semaphore(256)

    async def one(rooms: list[str], token: str) -> V2Conn:
        async with gate:
            _, listener = await ws_connect(
                lambda: V2Conn(stats, rooms),
                base + USER_SOCKET,
                extra_headers=bearer(token),
                websocket_handshake_timeout=30.0,
                max_frame_size=16 * 1024 * 1024,
            )
            conn = cast(V2Conn, listener)
            await asyncio.wait_for(conn.ready, 30.0)
            return conn

    return list(
        await asyncio.gather(*(one(r, t) for r, t in zip(rooms_per_user, tokens)))
    )
