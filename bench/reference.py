"""The bare reference: a plain ASGI broadcast app, no Django, no Channels.

    python -m bench.reference --port 8001

It speaks the same frames as the chat (hello, history of the last 50, numbered
messages to every member, sender included) with the least work possible:
rooms in a dict, seq in memory, each message encoded once and queued to every
member's outbox, one writer task per busy socket. No authentication, no
storage. Served by the same ASGI server with the same options as the chat
(config.serve), it is the ceiling the benchmark compares the chat against.
"""

import argparse
import asyncio
from collections import deque
from datetime import UTC, datetime

import orjson

HISTORY = 50


class Socket:
    def __init__(self, send) -> None:
        self.send = send
        self.outbox: deque[str] = deque()
        self.writer: asyncio.Task | None = None

    def push(self, text: str) -> None:
        self.outbox.append(text)
        if self.writer is None:
            self.writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self.outbox:
                await self.send(
                    {"type": "websocket.send", "text": self.outbox.popleft()}
                )
        except Exception:
            self.outbox.clear()
        finally:
            self.writer = None


class Room:
    def __init__(self, name: str) -> None:
        self.name = name
        self.members: set[Socket] = set()
        self.seq = 0
        self.history: deque[dict] = deque(maxlen=HISTORY)


rooms: dict[str, Room] = {}


def _username(scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            return "u" + value[-6:].decode("latin-1")
    return "anonymous"


async def app(scope, receive, send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    if scope["path"].rstrip("/") == "/ws":
        await _version2(scope, receive, Socket(send))
        return
    name = scope["path"].strip("/").rsplit("/", 1)[-1].lower()
    room = rooms.get(name) or rooms.setdefault(name, Room(name))
    username = _username(scope)
    me = Socket(send)
    room.members.add(me)
    online = [username]
    me.push(
        orjson.dumps(
            {
                "type": "hello",
                "room": name,
                "username": username,
                "online": online,
                "last_seq": room.seq,
            }
        ).decode()
    )
    me.push(
        orjson.dumps(
            {
                "type": "history",
                "messages": list(room.history),
                "complete": True,
                "has_more": False,
            }
        ).decode()
    )
    try:
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                break
            text = orjson.loads(event.get("text") or "{}").get("message", "").strip()
            if not text:
                continue
            encoded = _message(room, username, text)  # once, for every member
            for member in tuple(room.members):
                member.push(encoded)
    finally:
        room.members.discard(me)


def _message(room: Room, username: str, text: str) -> str:
    """Number, keep and encode (once) a post."""
    room.seq += 1
    now = datetime.now(UTC)
    frame = {
        "type": "message",
        "seq": room.seq,
        "room": room.name,
        "username": username,
        "message": text,
        "ts": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    room.history.append(frame)
    return orjson.dumps(frame).decode()


async def _version2(scope, receive, me: Socket) -> None:
    """The v2 socket's shape (/ws/): hello, `sync` of several rooms (history
    with room and last_seq, presence), posts naming their room."""
    username = _username(scope)
    me.push(
        orjson.dumps(
            {"type": "hello", "v": 2, "username": username, "rooms": []}
        ).decode()
    )
    joined: list[Room] = []
    try:
        while True:
            event = await receive()
            if event["type"] != "websocket.receive":
                break
            data = orjson.loads(event.get("text") or "{}")
            kind = data.get("type")
            if kind == "sync":
                for name in data.get("rooms", {}):
                    room = rooms.get(name) or rooms.setdefault(name, Room(name))
                    if me not in room.members:
                        room.members.add(me)
                        joined.append(room)
                    history = {
                        "type": "history",
                        "room": name,
                        "last_seq": room.seq,
                        "messages": list(room.history),
                        "complete": True,
                        "has_more": False,
                    }
                    me.push(orjson.dumps(history).decode())
                    presence = {"type": "presence", "room": name, "online": [username]}
                    me.push(orjson.dumps(presence).decode())
            elif kind == "message":
                target = rooms.get(data.get("room", ""))
                text = str(data.get("message", "")).strip()
                if target is None or not text:
                    continue
                encoded = _message(target, username, text)
                for member in tuple(target.members):
                    member.push(encoded)
    finally:
        for room in joined:
            room.members.discard(me)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reference", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    import uvicorn

    # The options of config.serve, so that the server is the same.
    uvicorn.run(
        "bench.reference:app",
        host=args.host,
        port=args.port,
        workers=1,
        ws_max_size=64 * 1024,
        log_level="warning",
        lifespan="off",
    )


if __name__ == "__main__":
    main()
