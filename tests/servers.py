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
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`kind` "uvicorn" is the production server (python -m config.serve);
    "daphne" is what `make run` serves (manage.py runserver uses Daphne)."""

    def __init__(
        self,
        env: dict,
        log_path: Path,
        workers: int = 1,
        port: int | None = None,
        kind: str = "uvicorn",
        host: str = "127.0.0.1",
        wrap: tuple[str, ...] = (),
    ):
        """`host` and `wrap` (a command prefix) run it in a network
        namespace (tests/netns.py)."""
        self.env = env
        self.kind = kind
        self.host, self.wrap = host, tuple(wrap)
        self.workers = workers
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        log = open(self.log_path, "ab")
        if self.kind == "daphne":
            command = [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                self.host,
                "-p",
                str(self.port),
                "config.asgi:application",
            ]
        else:
            command = [
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
        self.proc = subprocess.Popen(
            [*self.wrap, *command],
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
                    f"server exited ({self.proc.returncode}): {self.log()}"
                )
            try:
                # /healthz: answered in every settings module (production
                # redirects the pages to HTTPS, not the probes).
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # polling a port that is not open yet: nothing to await
        raise TimeoutError(f"server not ready in {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

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
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Tests post fast; they raise the limit through settings, as users do.
            "CHAT_RATE_LIMIT_PER_SECOND": "1000",
            "CHAT_RATE_LIMIT_BURST": "1000",
            "CHAT_ROOMS_PER_HOUR": "100000",  # tests make rooms fast, too
            "CHAT_HANDSHAKES_PER_MINUTE": "0",  # every test client is 127.0.0.1
            **{key: str(value) for key, value in settings.items()},
        }
        if redis_url and "CHAT_REDIS_PREFIX" not in settings:
            # Its own keys and pub/sub channels: tests (and other runs) share
            # the machine's Redis, and "lobby" must not cross deployments.
            self.env["CHAT_REDIS_PREFIX"] = f"test-{secrets.token_hex(4)}"
        self.servers: list[ServerProcess] = []
        self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr}")
        return result.stdout

    def tokens(self, *usernames: str) -> list[str]:
        return self.manage("chat_token", "--create", *usernames).split()

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
