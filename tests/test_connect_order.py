"""A connecting socket's first frames are hello then history, whatever the
room is doing meanwhile."""

import asyncio
import json

import websockets


async def test_hello_comes_first_while_the_room_is_busy(deployment):
    """Typing and presence frames flowing in a room never reach a socket
    before its hello and history (they used to, from the hub, mid-connect)."""
    d = deployment(CHAT_TYPING_INTERVAL=0)
    typist_token, joiner_token = d.tokens("typist", "joiner")
    server = d.server()
    url = f"{server.ws}/ws/chat/busy/"
    auth = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    # max_queue=None: the typist reads nothing; a full queue would stall its close.
    typist_socket = websockets.connect(
        url, additional_headers=auth(typist_token), max_queue=None
    )
    async with typist_socket as typist:
        stop = asyncio.Event()

        async def type_fast() -> None:
            while not stop.is_set():
                await typist.send('{"type": "typing"}')
                await asyncio.sleep(0.005)  # a fast typist, not a wait

        typing = asyncio.create_task(type_fast())
        firsts = []
        try:
            for _ in range(10):
                async with websockets.connect(
                    url, additional_headers=auth(joiner_token)
                ) as ws:
                    frames = [json.loads(await ws.recv()) for _ in range(2)]
                    firsts.append([f["type"] for f in frames])
        finally:
            stop.set()
            await typing
    assert all(types == ["hello", "history"] for types in firsts), firsts
