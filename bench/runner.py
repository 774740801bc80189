"""The scenarios, run against the chat server and the bare reference app.

    python -m bench                 # every scenario, about 3 minutes
    python -m bench --quick         # a tiny run (CI's smoke test)
    REDIS_URL=redis://… python -m bench   # on Redis, and S3 across 2 processes
    python -m bench --server granian  # both apps on another ASGI server

S1  1 room × 100 members, one publisher keeping a window of posts in flight.
S2  200 rooms × 5 members, one such publisher per room.
    Each first saturates (deliveries/s, latency under saturation), then posts
    at half the posts/s it reached (latency p50/p99 at half the max rate).
S3  S1 and S2 across 2 server processes sharing Redis, members split over
    both: deliveries/s and Redis commands per post (INFO commandstats diff).
connect  5,000 token-authenticated sockets opened (hello and history
    received) into the S2 rooms, which hold history by then; then the server's
    RSS per idle socket (from /proc), against a fresh server.

The chat server runs on a fresh SQLite database, or on DATABASE_URL (a fresh
database next to it, for PostgreSQL) and REDIS_URL when they are set. The rate
limit is raised through its settings (CHAT_RATE_LIMIT_*), as any deployment
would.
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

from testing.servers import free_port, fresh_postgres_database, manage, server_env

from .client import Conn, Publisher, Stats, open_many, open_v2, run_at_rate
from .servers import SERVERS, Server, command, server_version


@dataclass
class Shape:
    rooms: int
    members: int
    window: int  # posts in flight per publisher when saturating


@dataclass
class V2Shape:
    users: int
    sizes: list[int]  # room sizes, cycled over `rooms`
    rooms: int
    window: int


@dataclass
class Plan:
    s1: Shape
    s2: Shape
    connections: int
    connect_rooms: int
    warmup: float
    seconds: float
    s4: Shape = field(default_factory=lambda: Shape(1, 5000, 16))
    v2: V2Shape = field(
        default_factory=lambda: V2Shape(400, [3, 5, 10, 20, 50], 100, 2)
    )
    big_connections: int = 20000


FULL = Plan(Shape(1, 100, 16), Shape(200, 5, 2), 5000, 200, 1.0, 5.0)
QUICK = Plan(
    Shape(1, 10, 4),
    Shape(4, 3, 2),
    60,
    4,
    0.3,
    1.0,
    s4=Shape(1, 50, 4),
    v2=V2Shape(30, [2, 3, 5, 10], 8, 2),
    big_connections=200,
)


def v2_rooms(shape: V2Shape) -> list[tuple[str, int]]:
    """(name, size) of each room of the v2 scenario."""
    return [(f"v2-r{r}", shape.sizes[r % len(shape.sizes)]) for r in range(shape.rooms)]


def v2_members(shape: V2Shape) -> list[list[str]]:
    """Each user's rooms: room r's members are `size` consecutive users from
    a stride through the users, so users share rooms of several sizes."""
    mine: list[list[str]] = [[] for _ in range(shape.users)]
    for r, (name, size) in enumerate(v2_rooms(shape)):
        for j in range(size):
            mine[(r * 7 + j) % shape.users].append(name)
    return [rooms for rooms in mine if rooms]  # a user in no room: no socket


@dataclass
class Row:
    scenario: str
    app: str
    deliveries_per_s: float | None = None
    posts_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    loss: int = 0
    duplicates: int = 0
    errors: dict = field(default_factory=dict)
    connect_s: float | None = None
    rss_kib_per_conn: float | None = None
    redis_cmds_per_post: float | None = None
    cpu_us_per_delivery: float | None = None
    ratio: float | None = None
    note: str = ""


_V2_SETUP = """
from django.contrib.auth import get_user_model
from chat.models import Membership, Room
rooms = {name: Room.objects.get_or_create(name=name)[0] for name, _ in %r}
pairs = %r
users = dict(get_user_model().objects.filter(username__startswith="bench")
             .values_list("username", "pk"))
Membership.objects.bulk_create(
    [Membership(room=rooms[name], user_id=users[f"bench{u}"]) for name, u in pairs],
    ignore_conflicts=True,
)
"""


def _percentile(samples: list[int], q: float) -> float | None:
    if not samples:
        return None
    samples.sort()
    return samples[min(len(samples) - 1, int(q * len(samples)))] / 1e6


def _redis_calls(url: str) -> int:
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")


class Run:
    """Everything one `python -m bench` does: set-up, scenarios, table."""

    def __init__(
        self,
        plan: Plan,
        workdir: Path,
        only: set[str],
        apps: set[str],
        server: str = "uvicorn",
        peers: bool = False,
    ) -> None:
        self.peers = peers
        self.plan = plan
        self.server_kind = server
        self.workdir = workdir
        self.only = only
        self.apps = apps
        self.rows: list[Row] = []
        self.redis_url = os.environ.get("REDIS_URL", "")
        self.drop_database: Callable[[], None] | None = None
        self.env = self._environment()
        self.tokens: list[str] = []

    def _environment(self) -> dict:
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith(("postgres://", "postgresql://")):
            database_url, self.drop_database = fresh_postgres_database(database_url)
        elif not database_url:
            database_url = f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        # A benchmark posts far above a person's rate: raised by settings.
        return server_env(database_url, self.redis_url, posts_per_second=10**9)

    # --- servers ---

    def server(self, app: str, name: str) -> Server:
        module = "config.serve" if app == "chat" else "bench.reference"
        port = free_port()
        if self.server_kind == "uvicorn":
            return Server(module, port, self.env, self.workdir / f"{name}.log").start()
        # Another ASGI server serving the same app ("granian (chat)" in logs).
        return Server(
            f"{self.server_kind} ({app})",
            port,
            self.env,
            self.workdir / f"{name}.log",
            argv=command(self.server_kind, app, port),
        ).start()

    def prepare(self) -> None:
        plan = self.plan
        users = max(
            plan.s1.rooms * plan.s1.members,
            plan.s2.rooms * plan.s2.members,
            plan.connections,
            plan.s4.members if "s4" in self.only else 0,
            plan.v2.users if "v2" in self.only else 0,
            plan.big_connections if "c20k" in self.only else 0,
        )
        started = time.monotonic()
        manage(self.env, "migrate", "--noinput", "-v", "0")
        names = [f"bench{i}" for i in range(users)]
        for i in range(0, users, 1000):
            self.tokens += manage(
                self.env, "chat_token", "--create", *names[i : i + 1000]
            ).split()
        if "v2" in self.only and "chat" in self.apps:
            # The v2 rooms and their members, as a team would have them.
            members = v2_members(plan.v2)
            pairs = [(name, u) for u, rooms in enumerate(members) for name in rooms]
            manage(self.env, "shell", "-c", _V2_SETUP % (v2_rooms(plan.v2), pairs))
        print(
            f"set-up: migrated, {users} users with tokens in "
            f"{time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )

    # --- fan-out scenarios ---

    async def fanout(
        self,
        label: str,
        app: str,
        shape: Shape,
        servers: list[Server],
        prefix: str,
        socketio: bool = False,
    ) -> list[Row]:
        """v1 sockets, one per member: saturate, then half that rate; two rows."""
        stats = Stats()
        rooms = [
            f"{prefix}-r{r}" for r in range(shape.rooms) for _ in range(shape.members)
        ]
        # Members of a room alternate over the servers (S3: split over both).
        bases = [s.ws for s in servers]
        urls = [bases[i % len(bases)] for i in range(len(rooms))]
        conns: list[Conn] = []
        for base in bases:
            picked = [i for i, u in enumerate(urls) if u == base]
            conns += await open_many(
                base,
                [rooms[i] for i in picked],
                [self.tokens[i] for i in picked],
                stats,
                socketio=socketio,
            )
        # The first socket of each room on the first server publishes.
        publishers: list[Publisher] = []
        seen: set[str] = set()
        for conn in conns:
            if conn.room not in seen:
                seen.add(conn.room)
                publishers.append(Publisher(conn, f"p{len(publishers)}", shape.window))
        print(f"{label} {app}: {len(conns)} sockets open; saturating", file=sys.stderr)
        try:
            return await self._measure(label, app, stats, publishers, conns, servers)
        finally:
            for conn in conns:
                conn.close()

    async def fanout_v2(self, app: str, server: Server) -> list[Row]:
        """V2: one /ws/ socket per user, each in several rooms of mixed sizes,
        one publisher per room (a member's socket)."""
        stats = Stats()
        members = v2_members(self.plan.v2)
        started = time.perf_counter()
        conns = await open_v2(server.ws, members, self.tokens[: len(members)], stats)
        took = time.perf_counter() - started  # hello + every room's history
        views = [view for conn in conns for view in conn.views.values()]
        publishers: list[Publisher] = []
        seen: set[str] = set()
        for view in views:
            if view.room not in seen:
                seen.add(view.room)
                publishers.append(
                    Publisher(view, f"p{len(publishers)}", self.plan.v2.window)
                )
        print(
            f"V2 {app}: {len(conns)} sockets, {len(views)} room syncs; saturating",
            file=sys.stderr,
        )
        try:
            rows = await self._measure("V2", app, stats, publishers, views, [server])
            rows[0].connect_s = took
            connect = f"connect: {len(conns)} sockets, {len(views)} room syncs"
            rows[0].note = "; ".join(x for x in (connect, rows[0].note) if x)
            return rows
        finally:
            for conn in conns:
                conn.close()

    async def _measure(
        self,
        label: str,
        app: str,
        stats: Stats,
        publishers: list[Publisher],
        conns: list,
        servers: list[Server],
    ) -> list[Row]:
        """Saturate, then post at half the posts/s reached; two rows. Server
        CPU per delivery: the servers' CPU seconds over the measured window
        divided by the deliveries counted in it."""
        plan = self.plan
        redis_before = _redis_calls(self.redis_url) if self.redis_url else None

        def cpu() -> float:
            return sum(s.cpu_seconds() for s in servers)

        # Phase 1: saturating.
        for p in publishers:
            p.start_saturating()
        await asyncio.sleep(plan.warmup)
        d0, s0, t0, c0 = (
            stats.deliveries,
            sum(p.sent for p in publishers),
            time.perf_counter(),
            cpu(),
        )
        stats.recording = True
        await asyncio.sleep(plan.seconds)
        stats.recording = False
        elapsed = time.perf_counter() - t0
        d1, s1, c1 = stats.deliveries, sum(p.sent for p in publishers), cpu()
        for p in publishers:
            p.stop()
        saturated = Row(
            label,
            app,
            deliveries_per_s=(d1 - d0) / elapsed,
            posts_per_s=(s1 - s0) / elapsed,
            p50_ms=_percentile(stats.latencies_ns, 0.5),
            p99_ms=_percentile(stats.latencies_ns, 0.99),
            cpu_us_per_delivery=(c1 - c0) / max(d1 - d0, 1) * 1e6,
        )
        await self._drain(publishers, conns)
        if redis_before is not None:
            posts = sum(p.sent for p in publishers)
            saturated.redis_cmds_per_post = (
                _redis_calls(self.redis_url) - redis_before
            ) / max(posts, 1)

        # Phase 2: half the posts/s reached, on a schedule.
        stats.latencies_ns = []
        rate = max(1.0, cast(float, saturated.posts_per_s) / 2)
        sender = asyncio.create_task(
            run_at_rate(publishers, rate, plan.warmup + plan.seconds)
        )
        await asyncio.sleep(plan.warmup)
        d0, t0, c0 = stats.deliveries, time.perf_counter(), cpu()
        stats.recording = True
        await sender
        stats.recording = False
        d1, c1 = stats.deliveries, cpu()
        half = Row(
            f"{label} @½ rate",
            app,
            deliveries_per_s=(d1 - d0) / (time.perf_counter() - t0),
            posts_per_s=rate,
            p50_ms=_percentile(stats.latencies_ns, 0.5),
            p99_ms=_percentile(stats.latencies_ns, 0.99),
            cpu_us_per_delivery=(c1 - c0) / max(d1 - d0, 1) * 1e6,
        )
        stats.latencies_ns = []
        await self._drain(publishers, conns)

        loss = self._loss(stats, publishers, conns)
        for row in (saturated, half):
            row.loss, row.duplicates, row.errors = (
                loss,
                stats.duplicates,
                dict(stats.errors),
            )
            if stats.closes:
                row.note = f"closed: {stats.closes}"
        return [saturated, half]

    async def _drain(
        self, publishers: list[Publisher], conns: list[Conn], timeout: float = 15.0
    ) -> None:
        """Wait until every post came back and every socket reached its room's
        newest seq (or the timeout: what is missing then is loss)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            newest = self._newest(conns)
            if all(p.in_flight == 0 for p in publishers) and all(
                c.last_seq == newest[c.room] for c in conns if not c.closed
            ):
                return
            await asyncio.sleep(0.02)

    @staticmethod
    def _newest(conns: list[Conn]) -> dict[str, int]:
        newest: dict[str, int] = {}
        for c in conns:
            newest[c.room] = max(newest.get(c.room, 0), c.last_seq)
        return newest

    def _loss(
        self, stats: Stats, publishers: list[Publisher], conns: list[Conn]
    ) -> int:
        newest = self._newest(conns)
        tail = sum(newest[c.room] - c.last_seq for c in conns)
        unanswered = sum(p.in_flight for p in publishers)
        return stats.gaps + tail + unanswered

    # --- connect and memory ---

    async def connect(
        self,
        app: str,
        server: Server,
        rooms: list[str],
        n: int,
        label: str = "connect",
        socketio: bool = False,
    ) -> Row:
        stats = Stats()
        # Warm the server (imports, database connection) before the baseline.
        warm = await open_many(
            server.ws, rooms[:2], self.tokens[:2], stats, socketio=socketio
        )
        for c in warm:
            c.close()
        await asyncio.sleep(0.5)
        baseline = server.rss_kib()
        started = time.perf_counter()
        conns = await open_many(
            server.ws,
            [rooms[i % len(rooms)] for i in range(n)],
            self.tokens[:n],
            stats,
            socketio=socketio,
        )
        took = time.perf_counter() - started
        await asyncio.sleep(2.0)  # presence updates settle; the sockets are idle
        per_conn = (server.rss_kib() - baseline) / n
        for c in conns:
            c.close()
        return Row(
            label,
            app,
            connect_s=took,
            rss_kib_per_conn=per_conn,
            note=f"{n} sockets, {n / took:.0f}/s",
        )

    # --- the whole run ---

    async def _attempt(self, label: str, app: str, coro) -> list[Row]:
        """Run one scenario; a failure becomes a row saying so, not a lost table."""
        try:
            result = await coro
        except Exception as exc:
            print(f"{label} {app} failed: {exc!r}", file=sys.stderr)
            return [Row(label, app, note=f"failed: {type(exc).__name__}: {exc}"[:120])]
        return result if isinstance(result, list) else [result]

    async def scenarios(self) -> None:
        plan = self.plan
        s2_rooms = [f"s2-r{r}" for r in range(plan.s2.rooms)]
        fanouts = [
            (name.upper(), shape)
            for name, shape in (("s1", plan.s1), ("s2", plan.s2), ("s4", plan.s4))
            if name in self.only
        ]
        for app in ("reference", "chat"):
            if app not in self.apps:
                continue
            if fanouts:
                server = self.server(app, f"{app}-fanout")
                try:
                    for label, shape in fanouts:
                        self.rows += await self._attempt(
                            label,
                            app,
                            self.fanout(label, app, shape, [server], label.lower()),
                        )
                finally:
                    server.stop()
            if "v2" in self.only:
                server = self.server(app, f"{app}-v2")
                try:
                    self.rows += await self._attempt(
                        "V2", app, self.fanout_v2(app, server)
                    )
                finally:
                    server.stop()
            for scenario, n in (
                ("connect", plan.connections),
                ("c20k", plan.big_connections),
            ):
                if scenario not in self.only:
                    continue
                server = self.server(app, f"{app}-{scenario}")
                try:
                    rooms = s2_rooms[: plan.connect_rooms]
                    self.rows += await self._attempt(
                        scenario, app, self.connect(app, server, rooms, n, scenario)
                    )
                finally:
                    server.stop()
        if "s3" in self.only and "chat" in self.apps:
            if not self.redis_url:
                self.rows.append(Row("S3", "chat", note="skipped: needs REDIS_URL"))
            else:
                servers = [self.server("chat", f"chat-s3-{i}") for i in range(2)]
                try:
                    for label, shape, prefix in (
                        ("S3 (S1)", plan.s1, "s3a"),
                        ("S3 (S2)", plan.s2, "s3b"),
                    ):
                        rows = await self._attempt(
                            label,
                            "chat",
                            self.fanout(label, "chat", shape, servers, prefix),
                        )
                        self.rows += rows[:1]
                finally:
                    for s in servers:
                        s.stop()
        if self.peers:
            from .peers import run_peers

            self.rows += await run_peers(self)
        self._ratios()

    def _ratios(self) -> None:
        reference = {r.scenario: r for r in self.rows if r.app == "reference"}
        for row in self.rows:
            ref = reference.get(row.scenario.split(" (")[-1].rstrip(")"))
            if row.app != "chat" or ref is None:
                continue
            if (
                row.deliveries_per_s
                and ref.deliveries_per_s
                and "½" not in row.scenario
            ):
                row.ratio = row.deliveries_per_s / ref.deliveries_per_s
            elif row.connect_s and ref.connect_s:
                row.ratio = ref.connect_s / row.connect_s

    def close(self) -> None:
        if self.drop_database is not None:
            self.drop_database()


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def table(rows: list[Row]) -> str:
    head = (
        "scenario",
        "app",
        "deliv/s",
        "posts/s",
        "p50 ms",
        "p99 ms",
        "loss",
        "dups",
        "connect s",
        "KiB/conn",
        "redis/post",
        "CPU µs/deliv",
        "vs ref",
        "note",
    )
    lines = [head]
    for r in rows:
        errors = ", ".join(f"{k}:{v}" for k, v in r.errors.items())
        lines.append(
            (
                r.scenario,
                r.app,
                _fmt(r.deliveries_per_s, ",.0f"),
                _fmt(r.posts_per_s, ",.0f"),
                _fmt(r.p50_ms, ".1f"),
                _fmt(r.p99_ms, ".1f"),
                str(r.loss),
                str(r.duplicates),
                _fmt(r.connect_s, ".2f"),
                _fmt(r.rss_kib_per_conn, ".1f"),
                _fmt(r.redis_cmds_per_post, ".1f"),
                _fmt(r.cpu_us_per_delivery, ".1f"),
                "—" if r.ratio is None else f"{r.ratio:.0%}",
                "; ".join(
                    x for x in (r.note, f"errors {errors}" if errors else "") if x
                ),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny scenarios (smoke test)"
    )
    parser.add_argument(
        "--only",
        default="s1,s2,s3,s4,v2,connect",
        help="comma-separated scenarios: s1,s2,s3,s4,v2,connect, and c20k "
        "(20,000 sockets: connect time and memory; not in the default run)",
    )
    parser.add_argument("--apps", default="reference,chat", help="reference,chat")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="uvicorn",
        help="the ASGI server serving both apps (default: uvicorn, "
        "through config.serve and bench.reference)",
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per phase")
    parser.add_argument(
        "--connections", type=int, help="sockets in the connect scenario"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also run Node `ws` and socket.io peers (needs node and npm; "
        "their packages are installed into ~/.cache/chat-bench-node)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work dir (logs, DB)"
    )
    args = parser.parse_args(argv)

    plan = QUICK if args.quick else FULL
    if args.seconds:
        plan.seconds = args.seconds
    if args.connections:
        plan.connections = args.connections
    # Thousands of sockets on each side: the load generator and the servers it
    # starts (which inherit the limit) need as many descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # c20k: as many as the descriptor limit allows (each side holds them all).
    plan.big_connections = min(plan.big_connections, hard - 300)

    import uvloop

    workdir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    run = Run(
        plan,
        workdir,
        set(args.only.split(",")),
        set(args.apps.split(",")),
        args.server,
        args.peers,
    )
    try:
        run.prepare()
        uvloop.run(run.scenarios())
    finally:
        run.close()
        if args.keep:
            print(f"work dir: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\nmachine: {os.cpu_count()} CPUs, {_cpu_model()}; "
        f"database {run.env['DATABASE_URL'].split(':')[0]}, "
        f"layer {'Redis pub/sub' if run.redis_url else 'in-memory'}"
        + (
            f"; server {server_version(args.server)}"
            if args.server != "uvicorn"
            else ""
        )
    )
    print(table(run.rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in run.rows], indent=1))
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"
