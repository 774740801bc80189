"""The one place that decides which thread the ORM runs on.

The ORM is synchronous; async code (the sockets, the API, the hub) reaches it
only through these wrappers, never through channels' `database_sync_to_async`
or asgiref's `sync_to_async` directly (chat/tests/store/test_db.py holds every other
module to that). Each wraps a sync function into an awaitable one, and closes
the thread's stale connections around the call as channels does. Choose by
what the function does:

- `writes(fn)`: anything that changes a row. It runs on the one database
  thread (thread_sensitive=True), in the order the calls were made. SQLite
  has one writer at a time: writes from many threads would queue on its lock
  (BEGIN IMMEDIATE, a 20 s busy timeout) and could starve each other, while
  on one thread they follow each other without contention and a socket's
  posts keep their order. chat.store.batching stores a moment's posts there in one
  transaction (`store_posts`), so the hot path costs one hop per batch.
- `reads(fn)`: queries that change nothing. They run on the event loop's
  thread pool (thread_sensitive=False), beside the writes, each thread with
  its own connection (SQLite in WAL mode lets readers run during a write;
  PostgreSQL takes them from the bounded pool, config/dbpool.py). A burst of
  connects no longer queues behind the posts, nor the posts behind it:
  connecting 2,500 sockets went from 172-186/s to 214-248/s when the connect
  path's reads moved to the pool (commit 265a44b, docs/performance.md).
- `slow(fn, executor=None)`: seconds of CPU before one short write (a
  password hash, ~0.3 s of PBKDF2 by design, then a token; an upload parsed
  and decoded by Pillow, then its row). On the pool, or on `executor` (the
  niced password threads of accounts.credentials), so that the one write
  thread never waits behind them: on it, a flood of wrong passwords made the
  median post->ack 1,217 ms instead of 5.6 ms (e747d86,
  tests/test_security_e2e.py). Their one write is a short transaction of its
  own, serialised by the database (SQLite's lock, PostgreSQL's row locks).

The wrappers add no call of their own: each returns channels' wrapper, so the
hot path (`batching._store_posts`) costs what it did.
"""

from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")

AsyncFn = Callable[P, Coroutine[Any, Any, R]]


def writes(fn: Callable[P, R]) -> "AsyncFn[P, R]":
    """`fn` (which changes rows) on the one database thread, in call order."""
    return database_sync_to_async(fn, thread_sensitive=True)


def reads(fn: Callable[P, R]) -> "AsyncFn[P, R]":
    """`fn` (which only queries) on the event loop's thread pool."""
    return database_sync_to_async(fn, thread_sensitive=False)


def slow(fn: Callable[P, R], executor: Executor | None = None) -> "AsyncFn[P, R]":
    """`fn` (slow CPU work, then at most a short write) off the write thread:
    on the pool, or on `executor`."""
    return database_sync_to_async(fn, thread_sensitive=False, executor=executor)
