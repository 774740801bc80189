"""The version 2 socket (`/ws/`), kept connected, with nothing lost.

`ChatClient` holds one socket per user and gives the caller what the server
guarantees, without the caller writing any of it:

- **Exactly once, in order, per room.** Every room event carries the room's
  seq. An event at or below the last seq seen is a repeat and is dropped; one
  past a gap is held back while the room is synced again from the last seq
  seen (the server replays every event after it), then released in order.
- **Resume.** The last seq of each room is kept (and, with `state_file`,
  written to disk), so after a reconnect or a restart `sync` asks for exactly
  what was missed. A `Reset` event says the gap was too long to replay.
- **Reconnect** with exponential back-off and jitter; a server restart (1012)
  reconnects at once. Close 4403 (access ended) stops the client.
- **Posts retried until acknowledged.** A post carries a `client_id`; it is
  sent again after a reconnect or an `unavailable` refusal, and the server
  stores it once whatever happens. `post()` returns the stored seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import websockets

from .codes import CloseCode, ErrorCode
from .errors import AccessEnded, ChatError
from .events import (
    ROOM_EVENT_TYPES,
    Connected,
    Disconnected,
    ErrorEvent,
    Event,
    Frame,
    Hello,
    Message,
    Removed,
    Reset,
    RoomEvent,
    room_event,
    user_event,
)

log = logging.getLogger("chat_client")

_ids = itertools.count(1)


def ws_url(base_url: str) -> str:
    """`http(s)://host` or `ws(s)://host` → the v2 socket's URL."""
    base = base_url.rstrip("/")
    if base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    elif base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    return f"{base}/ws/"


class SeqStore:
    """The last seq seen in each room; optionally kept in a JSON file, so a
    bot restarted tomorrow resumes where it stopped."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.seqs: dict[str, int] = {}
        if self.path is not None and self.path.exists():
            loaded = json.loads(self.path.read_text() or "{}")
            self.seqs = {str(k): int(v) for k, v in loaded.items()}

    def get(self, room: str) -> int | None:
        return self.seqs.get(room)

    def set(self, room: str, seq: int) -> None:
        self.seqs[room] = seq

    def forget(self, room: str) -> None:
        self.seqs.pop(room, None)

    def save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.seqs, sort_keys=True))
        tmp.replace(self.path)  # atomic: a crash leaves the old file whole


class _Pending:
    __slots__ = ("frame", "future")

    def __init__(self, frame: Frame, future: asyncio.Future[int]) -> None:
        self.frame = frame
        self.future = future


class ChatClient:
    """One user's connection to the chat (protocol version 2).

    ```
    async with ChatClient("http://127.0.0.1:8000", token) as chat:
        async for event in chat.events():
            ...
    ```

    `rooms`: the rooms to follow (sync); None follows every room the user is
    a member of (and rooms joined later). `state_file`: where the last seq of
    each room is kept between runs.
    """

    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str,
        *,
        rooms: Iterable[str] | None = None,
        state_file: str | os.PathLike[str] | None = None,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        open_timeout: float = 10.0,
        on_frame: Callable[[Frame], None] | None = None,
    ) -> None:
        # Several servers (processes behind no balancer, or a test's): a
        # connection that fails or drops moves on to the next one.
        bases = [base_url] if isinstance(base_url, str) else list(base_url)
        self.urls = [ws_url(base) for base in bases]
        self._next_url = 0
        self.token = token
        self.follow_all = rooms is None
        self.wanted: set[str] = set(rooms or ())
        self.seqs = SeqStore(state_file)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        # Every frame as received, before anything else sees it (logging, or
        # a test checking frames against the server's /api/v1/protocol.json).
        self.on_frame = on_frame
        self.username: str | None = None
        self.rooms: dict[str, Frame] = {}  # summaries from hello and `room`
        self.connected = asyncio.Event()
        # Rooms of the connect's sync whose history has not come yet: the
        # client is `connected` (and start() returns) once they all have,
        # so what others post from then on arrives live, not in a history.
        self._first_sync: set[str] = set()
        self._ws: Any = None
        self._queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._pending: dict[str, _Pending] = {}  # client_id -> post awaiting ack
        self._held: dict[str, dict[int, Frame]] = {}  # room -> seq -> frame past a gap
        self._resyncing: set[str] = set()
        self._expect: dict[str, deque[str]] = {}  # room -> "sync"/"page" replies due
        self._pages: dict[str, deque[asyncio.Future[Frame]]] = {}
        self.reconnects = 0

    # --- lifecycle ---

    async def __aenter__(self) -> ChatClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, wait: bool = True) -> None:
        """Connect in the background; with `wait`, until the first sync."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        if wait:
            waiter = asyncio.ensure_future(self.connected.wait())
            done, _ = await asyncio.wait(
                {waiter, self._task}, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                waiter.cancel()
                self._task.result()  # raises what stopped it (AccessEnded...)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(ChatError("closed", "The client closed."))
        self.seqs.save()

    async def events(self) -> AsyncIterator[Event]:
        """Every event, in order per room, until the client stops."""
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    async def next_event(self, timeout: float | None = None) -> Event:
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    # --- calls ---

    async def post(
        self,
        room: str,
        text: str,
        *,
        reply_to: int | None = None,
        client_id: str | None = None,
        timeout: float | None = 60.0,
    ) -> int:
        """Post `text`; return its seq once stored. Retried (same client_id)
        across reconnects and `unavailable` until acknowledged; other
        refusals raise ChatError."""
        client_id = client_id or f"py-{secrets.token_hex(6)}-{next(_ids)}"
        frame: Frame = {
            "type": "message",
            "room": room,
            "message": text,
            "client_id": client_id,
        }
        if reply_to is not None:
            frame["reply_to"] = reply_to
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending[client_id] = _Pending(frame, future)
        await self._send_if_open(frame)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            if future.done():
                self._pending.pop(client_id, None)

    async def edit(self, room: str, seq: int, text: str) -> None:
        await self._send({"type": "edit", "room": room, "seq": seq, "message": text})

    async def delete(self, room: str, seq: int) -> None:
        await self._send({"type": "delete", "room": room, "seq": seq})

    async def react(self, room: str, seq: int, emoji: str, on: bool = True) -> None:
        await self._send(
            {"type": "react", "room": room, "seq": seq, "emoji": emoji, "on": on}
        )

    async def read(self, room: str, seq: int, force: bool = False) -> None:
        frame: Frame = {"type": "read", "room": room, "seq": seq}
        if force:
            frame["force"] = True
        await self._send(frame)

    async def typing(self, room: str) -> None:
        await self._send({"type": "typing", "room": room})

    async def history(
        self, room: str, before: int | None = None, limit: int = 50
    ) -> list[Message]:
        """Older messages of `room` (before seq `before`), oldest first."""
        frame: Frame = {"type": "history", "room": room, "limit": limit}
        if before is not None:
            frame["before"] = before
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pages.setdefault(room, deque()).append(future)
        self._expect.setdefault(room, deque()).append("page")
        await self._send(frame)
        reply = await asyncio.wait_for(future, 30.0)
        return [
            e
            for e in map(room_event, reply.get("messages", ()))
            if isinstance(e, Message)
        ]

    async def follow(self, room: str) -> None:
        """Start receiving a room's events (resuming from the seq kept)."""
        self.wanted.add(room)
        if self._ws is not None:
            await self._sync([room])

    async def unfollow(self, room: str) -> None:
        self.wanted.discard(room)
        await self._send_if_open({"type": "unsync", "rooms": [room]})

    # --- the connection ---

    @property
    def url(self) -> str:
        """The socket URL this (or the next) connection attempt uses."""
        return self.urls[self._next_url % len(self.urls)]

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            code: int | None = None
            reason = ""
            try:
                async with websockets.connect(
                    self.url,  # (this attempt's; see the property)
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=self.open_timeout,
                    max_size=None,
                ) as ws:
                    self._ws = ws
                    await self._on_open(ws)
                    attempt = 0
                    async for raw in ws:
                        self._on_frame(json.loads(raw))
                    code = ws.close_code
                    reason = ws.close_reason or ""
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    await self._stop(
                        AccessEnded(
                            ErrorCode.UNAUTHORIZED,
                            f"The server refused the handshake ({status}): "
                            "check the token.",
                            status=status,
                        )
                    )
                    return
                reason = f"handshake refused ({status})"
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                reason = str(exc)
            except (OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
            finally:
                self._ws = None
                self.connected.clear()
                self._first_sync.clear()
                self._resyncing.clear()
                self._held.clear()
                self._expect.clear()
                for futures in self._pages.values():
                    for f in futures:
                        if not f.done():
                            f.set_exception(ChatError("disconnected", "Reconnecting."))
                self._pages.clear()
            if self._closing:
                return
            self._next_url += 1  # that server failed or is going: the next one
            if code == CloseCode.REVOKED:
                ended = f"The server ended this access ({CloseCode.REVOKED.value})."
                await self._stop(AccessEnded("revoked", ended))
                return
            self.seqs.save()
            self._queue.put_nowait(Disconnected({"type": "disconnected"}, code, reason))
            self.reconnects += 1
            if code == CloseCode.SERVICE_RESTART:
                delay = random.uniform(0, self.backoff)  # another process is up
            else:
                delay = min(self.backoff_max, self.backoff * 2**attempt)
                delay *= random.uniform(0.5, 1.0)  # jitter: not all at once
                if code in (CloseCode.POLICY_VIOLATION, CloseCode.MESSAGE_TOO_BIG):
                    delay = max(delay, 5.0)
            attempt += 1
            await asyncio.sleep(delay)

    async def _stop(self, error: BaseException) -> None:
        self._closing = True
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self.seqs.save()
        self._queue.put_nowait(error)

    async def _on_open(self, ws: Any) -> None:
        hello = json.loads(await asyncio.wait_for(ws.recv(), self.open_timeout))
        if self.on_frame is not None:
            self.on_frame(hello)
        if hello.get("type") != "hello":
            raise ChatError(
                ErrorCode.BAD_FRAME, f"Expected hello, got {hello.get('type')!r}."
            )
        event = user_event(hello)
        assert isinstance(event, Hello)
        self.username = event.username
        self.rooms = {str(s["room"]): s for s in event.rooms}
        self._queue.put_nowait(event)
        rooms = set(self.wanted)
        if self.follow_all:
            rooms |= set(self.rooms)
        self._first_sync = set(rooms)
        await self._sync(sorted(rooms))
        for pending in list(self._pending.values()):  # not acked: send again
            await ws.send(json.dumps(pending.frame))
        if not self._first_sync:
            self._mark_connected()

    def _mark_connected(self) -> None:
        self.connected.set()
        self._queue.put_nowait(Connected({"type": "connected"}))

    def _synced(self, room: str) -> None:
        """The connect's sync of `room` answered (history, or not_found)."""
        if room in self._first_sync:
            self._first_sync.discard(room)
            if not self._first_sync and not self.connected.is_set():
                self._mark_connected()

    async def _sync(self, rooms: Iterable[str]) -> None:
        request = {room: self.seqs.get(room) for room in rooms}
        if not request:
            return
        for room in request:
            self._expect.setdefault(room, deque()).append("sync")
        await self._send({"type": "sync", "rooms": request})

    async def _send(self, frame: Frame) -> None:
        if self._ws is None:
            raise ChatError("disconnected", "Not connected; try again once connected.")
        await self._ws.send(json.dumps(frame))

    async def _send_if_open(self, frame: Frame) -> None:
        with contextlib.suppress(Exception):  # sent again on reconnect
            if self._ws is not None:
                await self._ws.send(json.dumps(frame))

    # --- frames from the server ---

    def _on_frame(self, frame: Frame) -> None:
        if self.on_frame is not None:
            self.on_frame(frame)
        kind = frame.get("type")
        if kind in ROOM_EVENT_TYPES and "seq" in frame:
            self._on_room_frame(frame)
        elif kind == "history":
            self._on_history(frame)
        elif kind == "ack":
            pending = self._pending.pop(str(frame.get("client_id")), None)
            if pending is not None and not pending.future.done():
                pending.future.set_result(int(frame["seq"]))
        elif kind == "error":
            self._on_error(frame)
        else:
            event = user_event(frame)
            if event is None:
                return
            if kind == "room":
                room = str(frame["room"])
                self.rooms[room] = {**self.rooms.get(room, {}), **frame}
                if (
                    self.follow_all
                    and room not in self._expect
                    and (self.seqs.get(room) is None and room not in self.wanted)
                ):
                    self.wanted.add(room)  # a new membership: follow it
                    asyncio.ensure_future(self._sync([room]))
            elif isinstance(event, Removed):
                self.rooms.pop(event.room, None)
                self.wanted.discard(event.room)
                self.seqs.forget(event.room)
            self._queue.put_nowait(event)

    def _on_room_frame(self, frame: Frame) -> None:
        room, seq = str(frame["room"]), int(frame["seq"])
        last = self.seqs.get(room)
        if room in self._resyncing or (last is not None and seq > last + 1):
            self._held.setdefault(room, {})[seq] = frame
            if room not in self._resyncing and last is not None:
                self._resyncing.add(room)  # a gap: replay from the last seq seen
                asyncio.ensure_future(self._sync([room]))
            return
        if last is not None and seq <= last:
            return  # a repeat
        self._emit(room_event(frame))

    def _emit(self, event: RoomEvent) -> None:
        self.seqs.set(event.room, event.seq)
        self._queue.put_nowait(event)

    def _on_history(self, frame: Frame) -> None:
        room = str(frame.get("room", ""))
        due = self._expect.get(room)
        purpose = due.popleft() if due else "sync"
        if purpose == "page":
            futures = self._pages.get(room)
            if futures:
                future = futures.popleft()
                if not future.done():
                    future.set_result(frame)
            return
        messages = frame.get("messages", [])
        last = self.seqs.get(room)
        if frame.get("complete", True) is False and last is not None:
            events = tuple(
                e
                for e in (room_event(m, replayed=True) for m in messages)
                if isinstance(e, Message)
            )
            self._queue.put_nowait(Reset(frame, room, events))
            if events:
                self.seqs.set(room, events[-1].seq)
        else:
            for item in messages:
                event = room_event(item, replayed=True)
                current = self.seqs.get(room)
                if current is None or event.seq > current:
                    self._emit(event)
        self._resyncing.discard(room)
        self._release(room)
        self._synced(room)

    def _release(self, room: str) -> None:
        """Events held behind a gap, in order, once the gap is filled."""
        held = self._held.pop(room, {})
        for seq in sorted(held):
            self._on_room_frame(held[seq])

    def _on_error(self, frame: Frame) -> None:
        code, detail = str(frame.get("code", "")), str(frame.get("detail", ""))
        client_id = frame.get("client_id")
        pending = self._pending.get(str(client_id)) if client_id else None
        if pending is not None:
            if code == ErrorCode.UNAVAILABLE:  # nothing stored: the same post again
                asyncio.get_running_loop().call_later(
                    1.0,
                    lambda: asyncio.ensure_future(self._send_if_open(pending.frame)),
                )
                return
            self._pending.pop(str(client_id), None)
            if not pending.future.done():
                pending.future.set_exception(
                    ChatError(code, detail, room=frame.get("room"), client_id=client_id)
                )
            return
        room = frame.get("room")
        if room is not None:
            due = self._expect.get(str(room))
            if due and due[0] == "page":  # the history request failed
                due.popleft()
                futures = self._pages.get(str(room))
                if futures:
                    futures.popleft().set_exception(ChatError(code, detail, room=room))
                    return
            elif due and due[0] == "sync" and code == ErrorCode.NOT_FOUND:
                due.popleft()  # not (or no longer) a room we may read
                self._resyncing.discard(str(room))
                self._held.pop(str(room), None)
                self._synced(str(room))
        self._queue.put_nowait(
            ErrorEvent(frame, code=code, detail=detail, room=room, client_id=client_id)
        )
