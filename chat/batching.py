"""Posts from concurrent sockets stored in one database call.

Every ORM call from async code runs in one database thread. One post at a
time, each post pays a thread hop, a transaction and, while the event loop is
busy fanning out, a wait for the GIL on every query; 200 rooms posting at once
queue behind each other. Here, posts arriving while a store is under way wait
for it and then go together to actions.store_posts: one hop, one transaction,
one UPDATE per room. A post alone is stored at once, so a quiet server adds no
delay. Each caller still gets its post back only after the commit.
"""

import asyncio
import weakref

from channels.db import database_sync_to_async

from . import actions

# Enough to drain a burst in a few calls, small enough that one transaction
# never holds the write lock for long.
MAX_BATCH = 256

_store_posts = database_sync_to_async(actions.store_posts)


class PostBatcher:
    def __init__(self) -> None:
        self._pending: list[tuple[actions.PostRequest, asyncio.Future]] = []
        self._running = False

    def submit(self, room: str, user, text: str, client_id: str | None) -> asyncio.Future:
        """Queue a post now; the future gets (message frame, is new) once
        committed, or store_post's exception. Posts keep submission order."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((actions.PostRequest(room, user, text, client_id), future))
        if not self._running:
            self._running = True
            asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                try:
                    results = await _store_posts([request for request, _ in batch])
                except Exception as exc:  # the batch as a whole: e.g. DatabaseError
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results):
                    if future.done():  # its socket went away meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._running = False


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PostBatcher]" = (
    weakref.WeakKeyDictionary()
)


def submit(room: str, user, text: str, client_id: str | None) -> asyncio.Future:
    """Queue a post with the other posts of this moment (see PostBatcher)."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = PostBatcher()
    return batcher.submit(room, user, text, client_id)
