"""Backups and moves, on real processes: an online SQLite backup while a
server runs, pg_dump/pg_restore, and export → import from SQLite into
PostgreSQL; each restore gives the same rows (`chat_export`) and the same
history to a client."""

import subprocess

import pytest

from testing.servers import Deployment, fresh_postgres_database
from testing.services import postgres_url
from testing.wsclient import ChatClient

pytestmark = pytest.mark.timeout(120)


async def some_history(d: Deployment) -> list[str]:
    """Two users post in two rooms through a real server; a deletion too."""
    ta, tb = d.tokens("alice", "bob")
    server = d.server()
    a = await ChatClient.connect(server.ws, "lobby", ta)
    b = await ChatClient.connect(server.ws, "dev", tb)
    for i in range(5):
        await a.post(f"hello {i}", client_id=f"a-{i}")
        await b.post(f"dev {i} ünïcødé", client_id=f"b-{i}")
    for client in (a, b):
        for _ in range(5):
            await client.next("ack")
        await client.close()
    return [ta, tb]


async def history_seen(server, room: str, token: str) -> list[tuple[int, str]]:
    client = await ChatClient.connect(server.ws, room, token, since=0)
    await client.close()
    return [(m["seq"], m["message"]) for m in client.history["messages"]]


async def test_sqlite_online_backup_restores_the_same_history(deployment, tmp_path):
    """chat_backup copies a SQLite database while its server runs; a
    deployment started on the copy exports the same rows, and a client
    resuming from 0 gets the same history there."""
    d = deployment()
    tokens = await some_history(d)
    backup = tmp_path / "backup.sqlite3"
    assert "backed up" in d.manage("chat_backup", str(backup))
    original = d.manage("chat_export")
    restored = Deployment(tmp_path, f"sqlite:///{backup}")
    try:
        assert restored.manage("chat_export") == original
        assert original.count('"model": "chat.message"') == 10
        server = restored.server()
        assert await history_seen(server, "dev", tokens[1]) == await history_seen(
            d.servers[0], "dev", tokens[1]
        )
    finally:
        restored.stop()


async def test_postgres_backup_with_pg_dump_restores_the_same_rows(tmp_path):
    """chat_backup runs pg_dump (custom format); pg_restore into an empty
    database gives the same export."""
    base = postgres_url()
    url, drop = fresh_postgres_database(base)
    url2, drop2 = fresh_postgres_database(base)
    d = Deployment(tmp_path, url)
    try:
        await some_history(d)
        dump = tmp_path / "chat.dump"
        d.manage("chat_backup", str(dump))
        subprocess.run(
            ["pg_restore", "--no-owner", "--dbname", url2, str(dump)],
            check=True,
            capture_output=True,
        )
        restored = Deployment(tmp_path, url2)  # migrate: nothing to do
        assert restored.manage("chat_export") == d.manage("chat_export")
    finally:
        d.stop()
        drop()
        drop2()


async def test_export_from_sqlite_imports_into_postgres(deployment, tmp_path):
    """A move from SQLite to PostgreSQL: chat_export, migrate, chat_import;
    the new database exports the same rows and serves the same history, and
    new posts continue the seqs."""
    d = deployment()
    tokens = await some_history(d)
    export = tmp_path / "export.jsonl"
    d.manage("chat_export", "-o", str(export))
    url, drop = fresh_postgres_database(postgres_url())
    moved = Deployment(tmp_path, url)
    try:
        moved.manage("chat_import", str(export))
        assert moved.manage("chat_export") == export.read_text()
        server = moved.server()
        assert await history_seen(server, "lobby", tokens[0]) == [
            (i + 1, f"hello {i}") for i in range(5)
        ]
        client = await ChatClient.connect(server.ws, "lobby", tokens[0])
        await client.post("after the move", client_id="a-new")
        assert (await client.next("ack"))["seq"] == 6
        await client.close()
    finally:
        moved.stop()
        drop()
