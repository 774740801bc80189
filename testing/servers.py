"""Real server processes on free ports, with their own database.

A `Deployment` is what a user runs: one database (a fresh SQLite file, or a
fresh PostgreSQL database), optionally Redis, and any number of server
processes (`python -m config.serve`, uvicorn) started against them.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(
    database_url: str, redis_url: str = "", posts_per_second: int = 1000
) -> dict:
    """The environment a test or benchmark server runs with: the local
    settings, and the limits raised through settings, as a user would
    (clients post fast, make rooms fast, and all connect from 127.0.0.1)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHAT_RATE_LIMIT_PER_SECOND": str(posts_per_second),
        "CHAT_RATE_LIMIT_BURST": str(posts_per_second),
        "CHAT_ROOMS_PER_HOUR": str(max(100_000, posts_per_second)),
        "CHAT_HANDSHAKES_PER_MINUTE": "0",
    }


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    """`manage.py <args>` in a child process with `env`; its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:3])}: {result.stderr[-2000:]}")
    return result.stdout


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` and its children (uvicorn workers), in KiB."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by `pid` and its children."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            # Fields after the command name (which may hold spaces): utime is
            # the 14th field of the line, stime the 15th.
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    kids = [int(p) for p in found]
    return kids + [g for k in kids for g in _children(k)]


class ServerProcess:
    """A server process in its own session (its workers die with it).

    `kind` "uvicorn" is the production server (python -m config.serve);
    "daphne" is what `make run` serves (manage.py runserver uses Daphne);
    `argv` runs any other command line (bench: another ASGI server, the
    reference app). `start()` returns once `ready_path` answers 200."""

    def __init__(
        self,
        env: dict | None,
        log_path: Path,
        workers: int = 1,
        port: int | None = None,
        kind: str = "uvicorn",
        host: str = "127.0.0.1",
        wrap: tuple[str, ...] = (),
        argv: list[str] | None = None,
        name: str = "server",
        ready_path: str = "/healthz",
    ):
        """`host` and `wrap` (a command prefix) run it in a network
        namespace (testing/netns.py)."""
        self.env = env
        self.kind = kind
        self.host, self.wrap = host, tuple(wrap)
        self.workers = workers
        self.port = port or free_port()
        self.log_path = log_path
        self.argv = argv
        self.name = name
        # /healthz: answered in every settings module (production redirects
        # the pages to HTTPS, not the probes).
        self.ready_path = ready_path
        self.proc: subprocess.Popen | None = None

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None  # started
        return self.proc.pid

    def command(self) -> list[str]:
        if self.argv:
            return self.argv
        if self.kind == "daphne":
            return [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                self.host,
                "-p",
                str(self.port),
                "config.asgi:application",
            ]
        return [
            sys.executable,
            "-m",
            "config.serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.wrap, *self.command()],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers die with it (killpg)
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None  # started
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.proc.returncode}): {self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.http}{self.ready_path}", timeout=1):
                    return  # 200 (an error status raises HTTPError)
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)  # polling a port that is not open yet: nothing to await
        raise TimeoutError(f"{self.name} not ready in {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up runs."""
        self.signal(signal.SIGKILL)
        assert self.proc is not None  # started
        self.proc.wait(10)


class Deployment:
    def __init__(
        self, tmp_path: Path, database_url: str, redis_url: str = "", **settings
    ):
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.token: dict[str, str] = {}  # username -> its newest token (tokens())
        self.env = {
            **server_env(database_url, redis_url),
            **{key: str(value) for key, value in settings.items()},
        }
        if redis_url and "CHAT_REDIS_PREFIX" not in settings:
            # Its own keys and pub/sub channels: tests (and other runs) share
            # the machine's Redis, and "lobby" must not cross deployments.
            self.env["CHAT_REDIS_PREFIX"] = f"test-{secrets.token_hex(4)}"
        self.servers: list[ServerProcess] = []
        self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args: str) -> str:
        return manage(self.env, *args, timeout=120)

    def tokens(self, *usernames: str) -> list[str]:
        """A new token for each user (created if need be), in order."""
        made = self.manage("chat_token", "--create", *usernames).split()
        self.token.update(zip(usernames, made))
        return made

    def server(
        self,
        workers: int = 1,
        kind: str = "uvicorn",
        port: int | None = None,
        host: str = "127.0.0.1",
        wrap: tuple[str, ...] = (),
        **settings,
    ) -> ServerProcess:
        """Start a server process; `port` reuses a stopped one's (a restart)."""
        env = {**self.env, **{key: str(value) for key, value in settings.items()}}
        n = len(self.servers)
        server = ServerProcess(
            env,
            self.tmp_path / f"server-{n}.log",
            workers=workers,
            kind=kind,
            port=port,
            host=host,
            wrap=wrap,
        )
        self.servers.append(server)
        return server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def fresh_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database next to `base_url`'s; return its URL and a dropper."""
    import psycopg

    name = f"chat_e2e_{secrets.token_hex(4)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    prefix, _, _ = base_url.rpartition("/")
    url = f"{prefix}/{name}"

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


@contextmanager
def postgres_deployment(
    tmp_path: Path, base_url: str, redis_url: str = "", **settings
) -> Iterator[Deployment]:
    """A Deployment on a fresh PostgreSQL database next to `base_url`'s (and
    `redis_url`); its servers stopped and the database dropped afterwards."""
    url, drop = fresh_postgres_database(base_url)
    try:
        d = Deployment(tmp_path, url, redis_url=redis_url, **settings)
        try:
            yield d
        finally:
            d.stop()
    finally:
        drop()
