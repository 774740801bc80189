"""Socket limits on a real server (issue 10.5): the outbox byte budget, the
caps on sockets per user and on handshakes per address."""

import asyncio
import json
import os
import socket
import time

import pytest
import websockets

from testing.wsclient import ChatClient


def masked_text_frame(payload: bytes) -> bytes:
    """A client's WebSocket text frame (clients must mask, RFC 6455 5.3)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x81, 0x80 | n])
    else:
        header = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + body


def stalled_socket(port: int, token: str) -> socket.socket:
    """A socket that completes the handshake and never reads again, with a
    small receive buffer so the kernel does not absorb megabytes for it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws/chat/lobby/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer "
        + token.encode()
        + b"\r\n\r\n"
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def wait_for_log(server, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return True
        time.sleep(0.1)  # a log file has nothing to await
    return False


async def test_socket_asking_for_history_and_never_reading_is_closed_at_byte_budget(
    deployment,
):
    """A socket that requests history pages and never reads is closed 4008
    before its queued frames pass CHAT_OUTBOX_MAX_BYTES, however few frames
    they are (issue 10: +392 MiB from one socket), and the server's memory
    does not grow by the pages it asked for."""
    d = deployment()
    alice, slow = d.tokens("alice", "slow")
    server = d.server(
        CHAT_OUTBOX_MAX_BYTES=4 * 1024 * 1024, CHAT_MAX_MESSAGE_LENGTH=20000
    )
    a = await ChatClient.connect(server.ws, "lobby", alice)
    text = "x" * 19990
    for n in range(100):
        await a.post(f"{n} {text}")
    for _ in range(100):
        await a.next("message")
    stalled = stalled_socket(server.port, slow)
    before = rss_bytes(server.proc.pid)
    # 60 pages of 100 messages of 20 KB: 120 MB if the server queued them all.
    request = masked_text_frame(b'{"type": "history", "limit": 100}')
    for _ in range(60):
        stalled.sendall(request)
    assert await asyncio.to_thread(
        wait_for_log, server, "user=slow reason=too_slow", 20
    ), server.log()
    assert rss_bytes(server.proc.pid) - before < 48 * 1024 * 1024
    stalled.close()
    await a.close()


async def test_sockets_per_user_are_capped_with_429(deployment):
    """Past CHAT_MAX_SOCKETS_PER_USER open sockets a user's next handshake gets
    HTTP 429 with a JSON reason, another user is not affected; closing one
    lets the next in."""
    d = deployment()
    alice, bob = d.tokens("alice", "bob")
    server = d.server(CHAT_MAX_SOCKETS_PER_USER=2)
    first = await ChatClient.connect(server.ws, "lobby", alice)
    second = await ChatClient.connect(server.ws, "dev", alice)
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ChatClient.connect(server.ws, "lobby", alice)
    response = refused.value.response
    assert response.status_code == 429
    body = json.loads(response.body)
    assert body["code"] == "rate_limited" and "at most 2" in body["detail"]
    other = await ChatClient.connect(server.ws, "lobby", bob)
    await other.close()
    await first.close()
    third = await ChatClient.connect(server.ws, "lobby", alice)  # the hub let go
    await second.close()
    await third.close()


async def test_handshakes_per_address_are_capped_with_429_and_retry_after(deployment):
    """Past CHAT_HANDSHAKES_PER_MINUTE handshakes from one address in a minute,
    the next gets HTTP 429 with Retry-After, before its token is looked at."""
    d = deployment()
    (alice,) = d.tokens("alice")
    server = d.server(CHAT_HANDSHAKES_PER_MINUTE=3)
    for _ in range(3):
        client = await ChatClient.connect(server.ws, "lobby", alice)
        await client.close()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ChatClient.connect(server.ws, "lobby", "not-even-a-token")
    response = refused.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = json.loads(response.body)
    assert body["code"] == "rate_limited" and "3 a minute" in body["detail"]
