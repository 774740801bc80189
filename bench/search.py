"""Search latency over a large history (issue 15's goal: p50 <= 50 ms,
p99 <= 200 ms over 1,000,000 messages in 500 rooms).

    python -m bench.search                       # SQLite, 1,000,000 messages
    python -m bench.search --db postgres://postgres@127.0.0.1:5432/postgres
    python -m bench.search --messages 100000     # a quicker look
    python -m bench.search --keep /data/search.sqlite3          # build once, reuse
    python -m bench.search --db postgres://…/postgres --keep search_bench
    git show main:chat/services/search.py > /tmp/main_search.py
    python -m bench.search --keep … --against /tmp/main_search.py  # before/after

It builds a fresh database (a temporary SQLite file, or a new PostgreSQL
database next to the URL given, dropped afterwards) through the project's
migrations, so the search indexes are the real ones, filled by the real
triggers and generated columns as rows are inserted. A million messages take
minutes to store, so `--keep` names a database to keep instead (an SQLite
file, or a PostgreSQL database next to the URL): built the first time,
reused as it is after that (migrations still applied, statistics refreshed).
The searching user is a member of 100 private rooms; the other 400 are
public, so every query crosses the access rule as it does for users. It then
times each kind of query the page sends and prints p50 and p99 per kind
(over the full data set each finds a page of 20). With `--against`, another
version of the search module is timed in turn with this one, query by
query, and must find the same hits.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WORDS = (
    "release deploy build test merge review branch server client socket room "
    "message search index database cache queue worker metric alert incident "
    "design meeting lunch coffee friday monday weekend holiday budget roadmap "
    "customer ticket support feature bug crash latency throughput memory disk"
).split()
CJK = ["日本語のテキスト", "中文消息内容", "한국어 메시지"]
QUERIES = {
    "common word": "deploy",
    "two words": "release review",
    "stemmed": "deployed",
    "rare word": "zanzibar",
    "fragment": "ploym",
    "url fragment": "example.com/issue/77",
    "cjk": "日本語",
    "from: filter": "budget from:user7",
    "in: room": "crash in:room-42",
}


def text_for(rng: random.Random, i: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(4, 14))
    if i % 50 == 0:
        words.append(f"https://example.com/issue/{i % 997}")
    if i % 97 == 0:
        words.append(rng.choice(CJK))
    if i % 10007 == 0:
        words.append("zanzibar")
    if i % 13 == 0:
        words.append("deployment")
    return " ".join(words)


def build(messages: int, rooms: int, batch: int = 5000) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from chat.models import Membership, Room

    User = get_user_model()
    users = [User(username=f"user{i}") for i in range(50)]
    User.objects.bulk_create(users)
    users = list(User.objects.order_by("id"))
    searcher = users[0]
    made = []
    for i in range(rooms):
        kind = Room.Kind.PRIVATE if i < rooms // 5 else Room.Kind.PUBLIC
        made.append(Room(name=f"room-{i}", kind=kind))
    Room.objects.bulk_create(made)
    made = list(Room.objects.order_by("id"))
    Membership.objects.bulk_create(
        [Membership(room=r, user=searcher) for r in made[: rooms // 5]]
    )
    rng = random.Random(7)
    seqs = dict.fromkeys((r.pk for r in made), 0)
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        "INSERT INTO chat_message (room_id, seq, user_id, text, created_at) "
        "VALUES (%s, %s, %s, %s, %s)"
    )
    started = time.perf_counter()
    for start in range(0, messages, batch):
        rows = []
        for i in range(start, min(messages, start + batch)):
            room = made[rng.randrange(rooms)].pk
            seqs[room] += 1
            author = users[rng.randrange(len(users))].pk
            rows.append((room, seqs[room], author, text_for(rng, i), stamp))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done = min(messages, start + batch)
        if done % 100_000 == 0 or done == messages:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>9,} messages stored ({rate:,.0f}/s)", flush=True)
    for pk, last in seqs.items():
        Room.objects.filter(pk=pk).update(last_seq=last)


def analyze() -> None:
    """Current planner statistics, as autovacuum keeps them on a server."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def existing(messages: int, rooms: int) -> bool:
    """Whether the database already holds this data set (False when empty);
    a different or half-built one is refused, saying so."""
    from chat.models import Message, Room

    stored, made = Message.objects.count(), Room.objects.count()
    if (stored, made) == (0, 0):
        return False
    if (stored, made) != (messages, rooms):
        raise SystemExit(
            f"the kept database holds {stored:,} messages in {made} rooms, not "
            f"{messages:,} in {rooms}: delete it (or name another) to rebuild."
        )
    return True


def measure(rounds: int, against: Path | None = None) -> dict[str, dict]:
    """Timings (ms) per version of search and query kind: this checkout's
    ("this"), and with `against` another version of chat/services/search.py
    ("against"), the two taken in turn for each query, so that a busy
    machine slows both alike. Both must give the same hits."""
    from django.contrib.auth import get_user_model

    from chat.services import search as this

    versions = {"this": this.search}
    if against is not None:
        spec = importlib.util.spec_from_file_location(
            "chat.services.search_against", against
        )
        assert spec is not None and spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        versions["against"] = other.search
    searcher = get_user_model().objects.get(username="user0")
    timings: dict[str, dict] = {v: {name: [] for name in QUERIES} for v in versions}
    for name, query in QUERIES.items():
        hits = {
            v: [(r["room"], r["seq"]) for r in f(searcher, query)]
            for v, f in versions.items()
        }
        if len({tuple(found) for found in hits.values()}) > 1:
            raise SystemExit(f"{name}: the two versions give different hits")
    for turn in range(rounds):
        for name, query in QUERIES.items():
            order = list(versions.items())
            for version, search in order if turn % 2 else reversed(order):
                started = time.perf_counter()
                search(searcher, query, limit=20)
                timings[version][name].append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgres:// URL")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="another chat/services/search.py to time in turn with this one",
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="an SQLite file or PostgreSQL database to build once and reuse",
    )
    args = parser.parse_args(argv)

    drop: Callable[[], None] | None = None
    if args.db == "sqlite":
        path = Path(args.keep or Path(tempfile.mkdtemp()) / "search-bench.sqlite3")
        url = f"sqlite:///{path.resolve()}"
    else:
        import psycopg

        name = args.keep or f"chat_search_bench_{secrets.token_hex(3)}"
        with psycopg.connect(args.db, autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if found is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{args.db.rpartition('/')[0]}/{name}"

        def dropper() -> None:
            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        drop = None if args.keep else dropper
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        print(
            f"search benchmark on {connection.vendor}: {args.messages:,} messages, "
            f"{args.rooms} rooms"
        )
        if existing(args.messages, args.rooms):
            print(f"  reusing the data set in {args.keep}")
        else:
            build(args.messages, args.rooms)
        analyze()
        timings = measure(args.rounds, args.against)
        versions = list(timings)
        head = "".join(f" {v + ' p50':>12} {'p99':>7}" for v in versions)
        print(f"\n{'query':<14} {'example':<24}{head}")
        for name in [*QUERIES, "all"]:
            cells = ""
            for version in versions:
                kinds = timings[version]
                values = sum(kinds.values(), []) if name == "all" else kinds[name]
                cells += f" {statistics.median(values):>12.1f} {percentile(values, 99):>7.1f}"
            print(f"{name:<14} {QUERIES.get(name, ''):<24}{cells}")
    finally:
        connection.close()
        if drop is not None:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
