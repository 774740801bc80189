"""chat/store/db.py is the one place that decides which thread the ORM runs on:
writes on the one database thread, in order; reads (and slow work) on the
pool. No other module reaches the ORM from async code by another way."""

import ast
import threading
from pathlib import Path

from chat.store import db

ROOT = Path(__file__).resolve().parents[3]
FACADE = ROOT / "chat" / "store" / "db.py"

# Ways to run sync code (the ORM) from async code, other than chat.store.db.
_BYPASSES = {
    "database_sync_to_async",
    "DatabaseSyncToAsync",
    "sync_to_async",
    "SyncToAsync",
    "run_in_executor",
    "to_thread",
    "thread_sensitive",
}


def bypasses(source: str) -> list[str]:
    """Each import, use, attribute or keyword in `source` by which async code
    runs sync code in a thread without chat.store.db."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.keyword) and node.arg:
            names = [node.arg]
        found += [
            f"{getattr(node, 'lineno', '?')}: {name}"
            for name in names
            if name in _BYPASSES
        ]
    return found


def test_only_the_facade_runs_the_orm_in_threads():
    """No module of the server but chat/store/db.py imports or calls
    database_sync_to_async, sync_to_async, run_in_executor or to_thread, or
    picks thread_sensitive itself (tests may: they set up data)."""
    found = []
    for folder in ("chat", "accounts", "config"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == FACADE or {"tests", "migrations"} & set(path.parts):
                continue
            found += [f"{path}:{hit}" for hit in bypasses(path.read_text())]
    assert found == []


def test_the_finder_finds_a_bypass():
    """bypasses() is not blind: each way in is found; chat.store.db's are fine."""
    assert bypasses("from channels.db import database_sync_to_async\n") == [
        "1: database_sync_to_async"
    ]
    assert bypasses("import asgiref.sync\nf = asgiref.sync.sync_to_async(g)\n") == [
        "2: sync_to_async"
    ]
    assert bypasses("loop.run_in_executor(None, query)\n") == ["1: run_in_executor"]
    assert bypasses("x = wrap(f, thread_sensitive=False)\n") == ["1: thread_sensitive"]
    assert bypasses("from chat import db\nf = db.writes(g)\n") == []


async def test_writes_run_on_one_thread_in_order_and_reads_on_the_pool(
    transactional_db,
):
    """Every write runs on the same thread, in the order called, and reads
    run on other threads (the pool), so that a read never waits for it."""
    order: list[int] = []

    def write(i: int) -> int:
        order.append(i)
        return threading.get_ident()

    write_async = db.writes(write)
    writers = {await write_async(i) for i in range(5)}
    readers = {await db.reads(threading.get_ident)() for _ in range(5)}
    assert len(writers) == 1 and order == [0, 1, 2, 3, 4]
    assert not writers & readers
    assert await db.slow(threading.get_ident)() not in writers


def test_the_post_path_stores_on_the_write_thread():
    """The hot path's store (a batch of posts) and the joins it records are
    writes: on the one database thread, so posts keep their order and SQLite
    never has two writers; the token lookups of handshakes are reads."""
    from chat.store import batching

    def on_write_thread(wrapped) -> bool:
        return wrapped._thread_sensitive  # asgiref's SyncToAsync field

    assert on_write_thread(batching._store_posts)
    assert on_write_thread(batching._record_joins)
    assert not on_write_thread(batching._users_for_tokens)
