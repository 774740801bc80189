"""A socket's frames on their way to the client: one writer, a byte budget.

Frames are written in the order they were pushed, by one task per socket
that hands each to the server's `send`. A client that does not read makes
`send` wait (TCP back-pressure), and frames pile up here: past
CHAT_OUTBOX_MAX_BYTES the socket is given up on (`on_overflow`, which closes
it 4008) rather than waited for, so one slow reader never holds up a room
nor the server's memory (issue 10: +392 MiB from one socket that asked for
history and never read).

The budget counts each frame's size in memory (`sys.getsizeof`, O(1): no
encoding on the fan-out's hot path). A frame larger than the budget alone
(a long resume) still goes when nothing else waits.
"""

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger("chat.realtime")

_sizeof = sys.getsizeof


class Outbox:
    __slots__ = ("_send", "_budget", "_on_overflow", "_queue", "_bytes", "_writer")

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        budget: int,
        on_overflow: Callable[[], None],
    ) -> None:
        self._send = send
        self._budget = budget
        self._on_overflow = on_overflow
        self._queue: deque[str] = deque()
        self._bytes = 0
        # None: idle; a task: writing; False: closed (nothing more is sent).
        self._writer: asyncio.Task | None | bool = None

    @property
    def closed(self) -> bool:
        return self._writer is False

    def push(self, text: str) -> None:
        """Queue a frame; past the budget, `on_overflow` instead."""
        writer = self._writer
        if writer is False:
            return
        queued = self._bytes + _sizeof(text)
        if queued > self._budget and self._queue:
            self._on_overflow()
            return
        self._queue.append(text)
        self._bytes = queued
        if writer is None:
            self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        queue = self._queue
        try:
            while queue:
                text = queue.popleft()
                self._bytes -= _sizeof(text)
                # Straight to the server's send: AsyncWebsocketConsumer.send
                # only wraps the same event, three coroutines deep, per frame.
                await self._send({"type": "websocket.send", "text": text})
        except Exception as exc:  # the connection went away under us
            log.debug("send failed (%s)", exc)
            self.close()
        finally:
            if self._writer is not False:
                self._writer = None

    async def flush(self, timeout: float) -> None:
        """Wait (at most `timeout`) for the queued frames to be written."""
        writer = self._writer
        if isinstance(writer, asyncio.Task):
            try:
                await asyncio.wait_for(asyncio.shield(writer), timeout)
            except Exception:  # TimeoutError, or the connection went away
                pass

    def close(self) -> None:
        """Drop what is queued; push() does nothing from now on."""
        self._writer = False
        self._queue.clear()
        self._bytes = 0
