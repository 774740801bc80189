"""The processes under test: the chat server and the bare reference app.

Each runs as its own process (`python -m config.serve` or `python -m
bench.reference`), like a deployment, so the load generator never shares an
interpreter with the server it measures. Memory is read from /proc
(testing/servers.py).

`python -m bench --server daphne|hypercorn|granian` serves both apps with
that ASGI server instead, through its own command line (`command()`), with
the options of config.serve where the server has them: one process, frames
up to 64 KiB, no access log, uvloop, a listen backlog of 2,048.
"""

import sys
from pathlib import Path

from testing.servers import ROOT, ServerProcess

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


class Server(ServerProcess):
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
        host: str = "127.0.0.1",  # another host's address (bench/multihost.py)
    ) -> None:
        super().__init__(
            env,
            log_path,
            port=port,
            host=host,
            argv=argv or [sys.executable, "-m", module, "--port", str(port)],
            name=module,
            ready_path="/chat/",  # the reference app has no /healthz
        )

    def start(self, timeout: float = 30.0) -> "Server":
        super().start(timeout)
        print(f"started {self.name} pid={self.pid} port={self.port}", file=sys.stderr)
        return self
