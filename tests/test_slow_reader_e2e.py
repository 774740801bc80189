"""One socket that stops reading never holds up the others."""

import asyncio
import socket

from testing.wsclient import ChatClient


async def test_a_reader_that_stops_reading_is_closed_and_others_get_everything(
    deployment,
):
    """A client that stops reading (TCP back-pressure) is closed with 4008 once
    CHAT_OUTBOX_MAX_BYTES wait for it; a normal member meanwhile receives every
    post, so one slow reader never slows the room."""
    d = deployment()
    alice, bob, slow = d.tokens("alice", "bob", "slow")
    server = d.server(CHAT_OUTBOX_MAX_BYTES=800_000, CHAT_MAX_MESSAGE_LENGTH=20000)
    # A client that completes the handshake and then never reads again, with
    # a small receive buffer so the kernel does not absorb megabytes for it.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(
        b"GET /ws/chat/lobby/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer "
        + slow.encode()
        + b"\r\n\r\n"
    )
    assert stalled.recv(12) == b"HTTP/1.1 101"
    a = await ChatClient.connect(server.ws, "lobby", alice)
    b = await ChatClient.connect(server.ws, "lobby", bob)
    text = "é" * 19990  # 40 KB a frame
    # 10 MB: more than the server's socket send buffer (tcp_wmem max, 4 MB) holds.
    posts = 250
    seen = 0

    async def post_all():
        for n in range(posts):
            await a.post(f"{n} {text}")
            await a.next("message")  # alice reads her own frames: she is not slow

    async def read_all():
        nonlocal seen
        while seen < posts:
            frame = await b.next("message", timeout=20)
            assert frame["seq"] == seen + 1
            seen += 1

    await asyncio.wait_for(asyncio.gather(post_all(), read_all()), 120)
    assert seen == posts
    # The server dropped the stalled socket (its close frame is stuck behind
    # the unread megabytes, so the other members' presence is the witness).
    presence = await b.next("presence", timeout=20)
    while presence["online"] != ["alice", "bob"]:
        presence = await b.next("presence", timeout=20)
    assert "event=close room=lobby user=slow reason=too_slow" in server.log()
    stalled.close()
    await a.close()
    await b.close()
