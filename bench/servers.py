"""The processes under test: the chat server and the bare reference app.

Each runs as its own process (`python -m config.serve` or `python -m
bench.reference`), like a deployment, so the load generator never shares an
interpreter with the server it measures. Memory is read from /proc.

`python -m bench --server daphne|hypercorn|granian` serves both apps with
that ASGI server instead, through its own command line (`command()`), with
the options of config.serve where the server has them: one process, frames
up to 64 KiB, no access log, uvloop, a listen backlog of 2,048.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


# The ASGI servers `python -m bench --server` can run both apps with.
SERVERS = ("uvicorn", "daphne", "hypercorn", "granian")
# The chat's CHAT_MAX_FRAME_BYTES (its default), as bench.reference uses.
MAX_FRAME = 64 * 1024
# uvicorn's default listen backlog, given to the others (their defaults:
# daphne/Twisted 50, hypercorn 100, granian 1024; the connect scenario opens
# 256 handshakes at a time).
BACKLOG = 2048
APPS = {"chat": "config.asgi:application", "reference": "bench.reference:app"}


def command(server: str, app: str, port: int) -> list[str]:
    """The command line that serves `app` ("chat" or "reference") on `port`."""
    if server == "uvicorn":  # the production entry points themselves
        module = "config.serve" if app == "chat" else "bench.reference"
        return [sys.executable, "-m", module, "--port", str(port)]
    target = APPS[app]
    if server == "daphne":
        # Twisted's asyncio reactor on the standard loop (daphne has no uvloop
        # option); verbosity 0 = no access log.
        return [
            sys.executable,
            "-m",
            "daphne",
            "-e",
            f"tcp:port={port}:interface=127.0.0.1:backlog={BACKLOG}",
            "-v",
            "0",
            "--websocket-max-message-size",
            str(MAX_FRAME),
            "--websocket-max-frame-size",
            str(MAX_FRAME),
            *(["--proxy-headers"] if app == "chat" else []),
            target,
        ]
    if server == "hypercorn":
        # bench/hypercorn.toml: uvloop worker in this process (workers = 0),
        # websocket_max_message_size, log level; no access log by default.
        return [
            sys.executable,
            "-m",
            "hypercorn",
            "-c",
            str(ROOT / "bench" / "hypercorn.toml"),
            "-b",
            f"127.0.0.1:{port}",
            target,
        ]
    if server == "granian":
        # asginl = ASGI without lifespan (uvicorn's lifespan="off"). Granian
        # has no WebSocket message-size option (the app's own check closes
        # 1009); its access log is off by default. (Its --backpressure, which
        # defaults to backlog/workers, does not cap open WebSockets: 2,300
        # were opened with the default.)
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asginl",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            str(BACKLOG),
            target,
        ]
    raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")


def server_version(server: str) -> str:
    from importlib.metadata import version

    return f"{server} {version(server)}"


class Server:
    """A server process on `port`; `start()` returns once it answers HTTP.

    It runs `python -m <module> --port <port>`, or `argv` when given (another
    ASGI server's command line, from `command()`)."""

    def __init__(
        self,
        module: str,
        port: int,
        env: dict | None,
        log_path: Path,
        argv: list[str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.module = module
        self.host = host  # another host's address (bench/multihost.py)
        self.port = port
        self.env = env
        self.log_path = log_path
        self.argv = argv
        self.proc: subprocess.Popen | None = None

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid  # type: ignore[union-attr]

    def start(self, timeout: float = 30.0) -> "Server":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv
                or [sys.executable, "-m", self.module, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        print(
            f"started {self.module} pid={self.proc.pid} port={self.port}",
            file=sys.stderr,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited: {self.log()}")
            try:
                with urllib.request.urlopen(
                    f"http://{self.host}:{self.port}/chat/", timeout=1
                ):
                    return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)  # the port is not open yet: nothing to await
        raise TimeoutError(f"{self.module} not ready in {timeout}s: {self.log()}")

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:3])}: {result.stderr[-2000:]}")
    return result.stdout
