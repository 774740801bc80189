"""Replies in the order of the frames they answer.

A post is acknowledged after its commit, and a socket keeps reading its
next frames meanwhile (so a burst is stored in one transaction,
chat.store.batching). A reply to a later frame (an error, a history page) waits
behind the acks of the posts before it, so a client sees its answers in
the order it sent the frames.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class Replies:
    __slots__ = ("_push", "_on_error", "_queue", "pending", "_finisher")

    def __init__(
        self, push: Callable[[str], None], on_error: Callable[[Exception], None]
    ) -> None:
        self._push = push
        self._on_error = on_error  # called in an except block, whose turn it is
        # The text of a reply, or the answer of a post still being stored.
        self._queue: deque[str | Callable[[], Awaitable[None]]] = deque()
        self.pending = 0  # answers queued (posts not yet acknowledged)
        self._finisher: asyncio.Task | None = None

    def reply(self, text: str, now: bool = False) -> None:
        """Send `text` behind the answers still waiting (`now`: from an
        answer itself, whose turn it is)."""
        if self._queue and not now:
            self._queue.append(text)
        else:
            self._push(text)

    def answer(self, answer: Callable[[], Awaitable[None]]) -> None:
        """Run `answer()` in its turn (it awaits its post's commit)."""
        self._queue.append(answer)
        self.pending += 1
        if self._finisher is None:
            self._finisher = asyncio.create_task(self._finish())

    async def drain(self) -> None:
        """Wait until every queued answer went out."""
        if self._finisher is not None:
            await self._finisher

    async def _finish(self) -> None:
        queue = self._queue
        try:
            while queue:
                item = queue[0]  # stays queued until answered, so that
                try:  # replies to later frames wait behind it
                    if isinstance(item, str):
                        self._push(item)
                    else:
                        try:
                            await item()
                        except Exception as exc:
                            self._on_error(exc)
                finally:
                    queue.popleft()
                    if not isinstance(item, str):
                        self.pending -= 1
        finally:
            self._finisher = None
