"""Calls from concurrent sockets made in one database call.

Every ORM call from async code pays a hop to a database thread, and while the
event loop is busy fanning out, a wait for the GIL on every query; done one
at a time, 200 rooms posting at once queue behind each other, and so do 256
handshakes checking their tokens. A `Batcher` lets requests that arrive while
its call is under way wait for it and then go together: one hop, one query
(or one transaction) for the lot. A request alone goes at once, so a quiet
server adds no delay. Each caller gets its own result, in submission order.

- posts: actions.store_posts (one transaction, one UPDATE per room);
- token handshakes: accounts.models.users_for_tokens (one SELECT);
- v1 handshakes' access checks: services.rooms.v1_rooms_access (two SELECTs;
  the Batcher lives in chat.ws.v1, above the services);
- memberships made by opening a public room: actions.record_joins (one INSERT).
"""

import asyncio
from collections.abc import Awaitable, Callable

from accounts.models import users_for_tokens
from chat.loops import per_loop
from chat.store import actions, db

# Enough to drain a burst in a few calls, small enough that one transaction
# never holds the write lock for long.
MAX_BATCH = 256


class Batcher:
    """`call` takes a list of requests and returns one result per request:
    a value, or an exception for that request alone."""

    def __init__(self, call: Callable[[list], Awaitable[list]]) -> None:
        self._call = call
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._running = False

    def submit(self, request) -> asyncio.Future:
        """Queue `request` now; the future gets its result (or exception)."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
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
                    results = await self._call([request for request, _ in batch])
                except Exception as exc:  # the batch as a whole: e.g. DatabaseError
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results):
                    if future.done():  # its caller went away meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._running = False


# Writes go to the one database thread; reads of tokens to the loop's pool,
# so that a burst of handshakes does not wait behind posts (chat.store.db).
_store_posts = db.writes(actions.store_posts)
_users_for_tokens = db.reads(users_for_tokens)
_record_joins = db.writes(actions.record_joins)

_posts = per_loop(lambda: Batcher(_store_posts))
_joins = per_loop(lambda: Batcher(_record_joins))

_tokens = per_loop(lambda: Batcher(_users_for_tokens))


def submit(
    room: str,
    user,
    text: str,
    client_id: str | None,
    reply_to: int | None = None,
    attachments: tuple = (),
) -> asyncio.Future:
    """Queue a post with the other posts of this moment; the future gets
    (message frame, is new) once committed, or store_posts' exception for it
    (protocol.ChatError, DatabaseError). Posts keep submission order."""
    request = actions.PostRequest(room, user, text, client_id, reply_to, attachments)
    return _posts().submit(request)


def user_for_token(token: str) -> asyncio.Future:
    """The future (active user, token id) for a bearer token, or None."""
    return _tokens().submit(token)


def record_join(room_id: int, user_id: int) -> asyncio.Future:
    """Queue a membership made by opening a public room (the v1 handshake):
    the handshakes of the moment insert theirs in one statement, on the one
    writing thread, instead of each taking SQLite's write lock in turn (5,000
    connects: 2.6 s before memberships, 12.8 s with one get_or_create each)."""
    return _joins().submit((room_id, user_id))
