"""A real WebSocket client (the `websockets` library) speaking the protocol."""

import asyncio
import json

import websockets


class ChatClient:
    def __init__(self, ws, hello: dict, history: dict) -> None:
        self.ws = ws
        self.hello = hello
        self.history = history
        self.pending: list[dict] = []  # frames read while waiting for another type

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
        url = f"{base}/ws/chat/{room}/" + (
            f"?since={since}" if since is not None else ""
        )
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        ws = await websockets.connect(
            url, additional_headers=all_headers, max_size=None, open_timeout=timeout
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        history = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert hello["type"] == "hello", hello
        assert history["type"] == "history", history
        return cls(ws, hello, history)

    async def send(self, frame: dict | str) -> None:
        await self.ws.send(
            frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        )

    async def post(self, text: str, client_id: str | None = None) -> None:
        frame = {"type": "message", "message": text}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send(frame)

    async def recv(self, timeout: float = 10.0) -> dict:
        if self.pending:
            return self.pending.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def next(self, kind: str, timeout: float = 10.0) -> dict:
        """The next frame of type `kind`; frames of other types are kept."""
        for i, frame in enumerate(self.pending):
            if frame["type"] == kind:
                return self.pending.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no {kind!r} frame in {timeout}s; kept {self.pending}"
                )
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if frame["type"] == kind:
                return frame
            self.pending.append(frame)

    async def nothing(self, kind: str, timeout: float = 0.5) -> None:
        """Assert that no frame of type `kind` arrives within `timeout`."""
        try:
            frame = await self.next(kind, timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {kind!r} frame: {frame}")

    async def close(self) -> None:
        await self.ws.close()


class UserClient:
    """A client of the version 2 socket /ws/ (one socket, many rooms)."""

    def __init__(self, ws, hello: dict) -> None:
        self.ws = ws
        self.hello = hello
        self.pending: list[dict] = []

    @classmethod
    async def connect(
        cls, base: str, token: str, timeout: float = 10.0
    ) -> "UserClient":
        ws = await websockets.connect(
            f"{base}/ws/",
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=None,
            open_timeout=timeout,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert hello["type"] == "hello" and hello["v"] == 2, hello
        return cls(ws, hello)

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def next(self, kind: str, room: str | None = None, timeout=10.0) -> dict:
        """The next frame of type `kind` (in `room`); others are kept."""
        for i, frame in enumerate(self.pending):
            if frame["type"] == kind and room in (None, frame.get("room")):
                return self.pending.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} in {timeout}s; kept {self.pending}")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            if frame["type"] == kind and room in (None, frame.get("room")):
                return frame
            self.pending.append(frame)

    async def recv_raw(self, timeout: float = 10.0) -> dict:
        """The next frame, whatever its type (kept frames first)."""
        if self.pending:
            return self.pending.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def sync(self, rooms: dict) -> dict:
        """Sync `rooms`; {room: its history frame}."""
        await self.send({"type": "sync", "rooms": rooms})
        return {room: await self.next("history", room) for room in rooms}

    async def close(self) -> None:
        await self.ws.close()
