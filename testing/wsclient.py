"""Real WebSocket clients (the `websockets` library) speaking the protocol,
and the protocol's addresses and headers, which bench/client.py's picows
load generator builds its sockets from too."""

import asyncio
import json

import websockets

USER_SOCKET = "/ws/"  # version 2: one socket per user, many rooms


def room_socket(room: str, since: int | None = None) -> str:
    """Version 1's path: one socket per room, resuming after `since`."""
    return f"/ws/chat/{room}/" + (f"?since={since}" if since is not None else "")


def bearer(token: str | None) -> dict[str, str]:
    """The handshake's headers for an API token (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


async def handshake_status(
    url: str, headers: dict | None = None, token: str | None = None
) -> int:
    """The HTTP status a handshake to `url` gets: 101 when accepted (the
    socket is closed again), else the refusal's."""
    return (await handshake_answer(url, headers, token))[0]


async def handshake_answer(
    url: str, headers: dict | None = None, token: str | None = None
) -> tuple[int, dict | None]:
    """The HTTP status of a handshake to `url` and the refusal's JSON body
    (None when accepted, or when the server sent no body)."""
    try:
        ws = await websockets.connect(
            url, additional_headers={**(headers or {}), **bearer(token)}
        )
    except websockets.InvalidStatus as exc:
        body = exc.response.body or b""
        return exc.response.status_code, json.loads(body) if body else None
    await ws.close()
    return 101, None


class _Client:
    """A socket's frames: read in order, or the next of one kind while the
    others are kept for later."""

    def __init__(self, ws, hello: dict) -> None:
        self.ws = ws
        self.hello = hello
        self.pending: list[dict] = []  # frames read while waiting for another

    @staticmethod
    async def _open(url: str, headers: dict, timeout: float):
        """The socket and its first frame (hello)."""
        ws = await websockets.connect(
            url, additional_headers=headers, max_size=None, open_timeout=timeout
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert hello["type"] == "hello", hello
        return ws, hello

    async def send(self, frame: dict | str) -> None:
        await self.ws.send(
            frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        )

    async def recv(self, timeout: float = 10.0) -> dict:
        """The next frame, whatever its type (kept frames first)."""
        if self.pending:
            return self.pending.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def _next(self, wanted, what: str, timeout: float) -> dict:
        for i, frame in enumerate(self.pending):
            if wanted(frame):
                return self.pending.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {what} in {timeout}s; kept {self.pending}")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if wanted(frame):
                return frame
            self.pending.append(frame)

    async def close(self) -> None:
        await self.ws.close()


class ChatClient(_Client):
    """A client of the version 1 socket /ws/chat/<room>/ (one room)."""

    def __init__(self, ws, hello: dict, history: dict) -> None:
        super().__init__(ws, hello)
        self.history = history

    @classmethod
    async def connect(
        cls,
        base: str,
        room: str,
        token: str | None = None,
        since: int | None = None,
        headers: dict | None = None,
        timeout: float = 10.0,
    ) -> "ChatClient":
        ws, hello = await cls._open(
            base + room_socket(room, since),
            {**(headers or {}), **bearer(token)},
            timeout,
        )
        history = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert history["type"] == "history", history
        return cls(ws, hello, history)

    async def post(self, text: str, client_id: str | None = None) -> None:
        frame = {"type": "message", "message": text}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send(frame)

    async def next(self, kind: str, timeout: float = 10.0) -> dict:
        """The next frame of type `kind`; frames of other types are kept."""
        return await self._next(lambda f: f["type"] == kind, f"{kind!r} frame", timeout)

    async def nothing(self, kind: str, timeout: float = 0.5) -> None:
        """Assert that no frame of type `kind` arrives within `timeout`."""
        try:
            frame = await self.next(kind, timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {kind!r} frame: {frame}")


class UserClient(_Client):
    """A client of the version 2 socket /ws/ (one socket, many rooms)."""

    @classmethod
    async def connect(
        cls, base: str, token: str, timeout: float = 10.0
    ) -> "UserClient":
        ws, hello = await cls._open(base + USER_SOCKET, bearer(token), timeout)
        assert hello["v"] == 2, hello
        return cls(ws, hello)

    async def next(self, kind: str, room: str | None = None, timeout=10.0) -> dict:
        """The next frame of type `kind` (in `room`); others are kept."""
        return await self._next(
            lambda f: f["type"] == kind and room in (None, f.get("room")),
            repr(kind),
            timeout,
        )

    async def sync(self, rooms: dict) -> dict:
        """Sync `rooms`; {room: its history frame}."""
        await self.send({"type": "sync", "rooms": rooms})
        return {room: await self.next("history", room) for room in rooms}
