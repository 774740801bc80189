"""Does the chat keep its protocol on each ASGI server? A manual check.

    python -m bench.check_servers                       # every server
    python -m bench.check_servers --server granian      # one

For each server (started by bench.servers.command(), as `python -m bench
--server` starts it) on a fresh SQLite database, with the `websockets` client:

  403        refused handshakes (bad room, no credentials, bad token, foreign
             Origin) get HTTP 403, before any accept; a good one gets 101
  roundtrip  a post is acked and reaches another member
  1009       a 70 KiB frame closes the socket with 1009
  1008       a socket that keeps posting over the rate limit is closed 1008
  4403       a token deleted from another process (manage.py) closes its
             socket with 4403 (reconcile sweep, CHAT_RECONCILE_INTERVAL=1)
  4008       a socket that stops reading is dropped (log line), the room goes
             on, and the close code read from the stalled socket afterwards
  1011       storage failing during a connect (the message table dropped)
             closes the accepted socket with 1011

It prints one line per check: what the protocol wants, what came back.
Not a test: docs/performance.md ("Choosing the ASGI server") records it.
"""

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import struct
import sys
import tempfile
import time
from pathlib import Path

import websockets

from testing.servers import free_port, manage

from .servers import SERVERS, Server, command

HANDSHAKE = (
    "GET /ws/chat/{room}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
)


async def status(url: str, headers: dict) -> int:
    try:
        ws = await websockets.connect(url, additional_headers=headers, open_timeout=10)
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    await ws.close()
    return 101


async def join(base: str, room: str, token: str):
    ws = await websockets.connect(
        f"{base}/ws/chat/{room}/",
        max_size=None,
        additional_headers={"Authorization": f"Bearer {token}"},
    )
    for kind in ("hello", "history"):
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["type"] == kind, frame
    return ws


async def next_frame(ws, kind: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(
            await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        )
        if frame["type"] == kind:
            return frame


async def close_code(ws, timeout: float = 15) -> str:
    """Read until the socket closes; the code the server sent (or why none)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as exc:
        return str(exc.rcvd.code) if exc.rcvd else "no close frame"
    except TimeoutError:
        return f"still open after {timeout:.0f}s"


def close_frame_code(data: bytes) -> str:
    """The code of the close frame in server-to-client bytes (unmasked frames)."""
    i = 0
    while i + 2 <= len(data):
        opcode, length = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        if length == 126:
            length, i = struct.unpack("!H", data[i : i + 2])[0], i + 2
        elif length == 127:
            length, i = struct.unpack("!Q", data[i : i + 8])[0], i + 8
        if opcode == 0x8:
            payload = data[i : i + length]
            return (
                str(struct.unpack("!H", payload[:2])[0])
                if len(payload) >= 2
                else "empty"
            )
        i += length
    return "no close frame"


class Check:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.results: list[tuple[str, str, str]] = []
        self.db = workdir / f"{kind}.sqlite3"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": f"sqlite:///{self.db}",
            "REDIS_URL": "",
            "CHAT_RATE_LIMIT_PER_SECOND": "1000",
            "CHAT_RATE_LIMIT_BURST": "1000",
            "CHAT_ROOMS_PER_HOUR": "100000",
            "CHAT_RECONCILE_INTERVAL": "1",
            "CHAT_OUTBOX_MAX_BYTES": "800000",  # 20 frames of 40 KB
            "CHAT_MAX_MESSAGE_LENGTH": "20000",
        }
        manage(self.env, "migrate", "--noinput", "-v", "0")
        names = ["alice", "bob", "carol", "dave", "slow", "eve"]
        self.tokens = dict(
            zip(names, manage(self.env, "chat_token", "--create", *names).split())
        )

    def start(self, name: str, **settings) -> Server:
        port = free_port()
        env = {**self.env, **{k: str(v) for k, v in settings.items()}}
        return Server(
            f"{self.kind} (chat)",
            port,
            env,
            self.workdir / f"{self.kind}-{name}.log",
            argv=command(self.kind, "chat", port),
        ).start()

    def record(self, check: str, want: str, got: str) -> None:
        mark = "ok" if got == want else "DIFFERS"
        self.results.append((check, want, got))
        print(
            f"{self.kind:9} {check:10} want {want:18} got {got}  [{mark}]", flush=True
        )

    async def run(self) -> None:
        strict = self.start(
            "strict",
            CHAT_RATE_LIMIT_PER_SECOND=1,
            CHAT_RATE_LIMIT_BURST=2,
            CHAT_RATE_LIMIT_CLOSE_AFTER=5,
        )
        try:
            await self.rate_limited(strict)
        finally:
            strict.stop()
        server = self.start("main")
        try:
            await self.refusals(server)
            await self.roundtrip(server)
            await self.oversized(server)
            await self.revoked(server)
            await self.slow_reader(server)
            await self.storage_down(server)  # last: it breaks the database
        finally:
            server.stop()
        errors = [
            line
            for name in ("main", "strict")
            for line in (self.workdir / f"{self.kind}-{name}.log")
            .read_text(errors="replace")
            .splitlines()
            if "Traceback" in line or " ERROR " in line or "[ERROR]" in line
        ]
        print(
            f"{self.kind:9} server log: {len(errors)} error/traceback lines"
            + "".join(f"\n    {e[:200]}" for e in errors[:8]),
            flush=True,
        )

    async def refusals(self, server: Server) -> None:
        auth = {"Authorization": f"Bearer {self.tokens['alice']}"}
        lobby = f"{server.ws}/ws/chat/lobby/"
        got = {
            "bad room": await status(f"{server.ws}/ws/chat/caf%C3%A9/", auth),
            "'..'": await status(f"{server.ws}/ws/chat/../", auth),
            "bad since": await status(f"{lobby}?since=x", auth),
            "no credentials": await status(lobby, {}),
            "bad token": await status(lobby, {"Authorization": "Bearer wrong"}),
            "foreign Origin": await status(
                lobby, {**auth, "Origin": "https://evil.example"}
            ),
        }
        statuses = sorted(set(got.values()))
        self.record(
            "403",
            "403",
            ",".join(map(str, statuses)) + ("" if statuses == [403] else f" {got}"),
        )
        self.record("101", "101", str(await status(lobby, auth)))

    async def roundtrip(self, server: Server) -> None:
        a = await join(server.ws, "lobby", self.tokens["alice"])
        b = await join(server.ws, "lobby", self.tokens["bob"])
        await a.send(
            json.dumps({"type": "message", "message": "hi", "client_id": "c1"})
        )
        ack = await next_frame(a, "ack")
        seen = await next_frame(b, "message")
        self.record(
            "roundtrip",
            "ack+message",
            "ack+message" if ack and seen["message"] == "hi" else f"{ack} {seen}",
        )
        await a.close()
        await b.close()

    async def oversized(self, server: Server) -> None:
        ws = await join(server.ws, "lobby", self.tokens["carol"])
        await ws.send(json.dumps({"type": "message", "message": "x" * (70 * 1024)}))
        self.record("1009", "1009", await close_code(ws))

    async def revoked(self, server: Server) -> None:
        ws = await join(server.ws, "lobby", self.tokens["dave"])
        manage(
            self.env,
            "shell",
            "-c",
            "from accounts.models import ApiToken; "
            "[t.delete() for t in ApiToken.objects.filter(user__username='dave')]",
        )
        self.record("4403", "4403", await close_code(ws))

    async def slow_reader(self, server: Server) -> None:
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(
            HANDSHAKE.format(room="slowroom", token=self.tokens["slow"]).encode()
        )
        head = stalled.recv(12)
        a = await join(server.ws, "slowroom", self.tokens["alice"])
        b = await join(server.ws, "slowroom", self.tokens["bob"])
        text, posts, seen = "é" * 19990, 250, 0  # 40 KB frames, 10 MB in all

        async def post_all():
            for n in range(posts):
                await a.send(
                    json.dumps(
                        {"type": "message", "message": f"{n} {text}"},
                        ensure_ascii=False,
                    )
                )
                await next_frame(a, "message", 20)

        async def read_all():
            nonlocal seen
            while seen < posts:
                await next_frame(b, "message", 20)
                seen += 1

        try:
            await asyncio.wait_for(asyncio.gather(post_all(), read_all()), 120)
        except Exception as exc:
            print(
                f"{self.kind:9} slow reader: room stalled after {seen} posts ({exc!r})"
            )
        dropped = "reason=too_slow" in server.log_path.read_text(errors="replace")
        self.record(
            "4008 drop",
            f"dropped, {posts} seen",
            f"{'dropped' if dropped else 'NOT dropped'}, {seen} seen"
            if head == b"HTTP/1.1 101"
            else f"handshake {head!r}",
        )
        # Everything the server still sends it, to find its close frame.
        stalled.settimeout(5)
        data = bytearray()
        try:
            while chunk := stalled.recv(1 << 20):
                data += chunk
        except (TimeoutError, OSError):
            pass
        stalled.close()
        end = data.find(b"\r\n\r\n")
        self.record("4008 code", "4008", close_frame_code(bytes(data[end + 4 :])))
        await a.close()
        await b.close()

    async def storage_down(self, server: Server) -> None:
        with sqlite3.connect(self.db) as db:
            db.execute("DROP TABLE chat_message")
        try:
            ws = await websockets.connect(
                f"{server.ws}/ws/chat/newroom/",
                max_size=None,
                additional_headers={"Authorization": f"Bearer {self.tokens['eve']}"},
            )
        except websockets.InvalidStatus as exc:
            self.record("1011", "1011", f"HTTP {exc.response.status_code}")
            return
        self.record("1011", "1011", await close_code(ws))

    async def rate_limited(self, server: Server) -> None:
        ws = await join(server.ws, "lobby", self.tokens["alice"])
        try:
            for n in range(100):
                await ws.send(json.dumps({"type": "message", "message": f"m{n}"}))
        except websockets.ConnectionClosed:
            pass
        self.record("1008", "1008", await close_code(ws))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.check_servers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--server",
        action="append",
        choices=SERVERS,
        help="repeatable; default: every server",
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="chat-check-"))
    print(f"logs in {workdir}", file=sys.stderr)
    for kind in args.server or SERVERS:
        asyncio.run(Check(kind, workdir).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
