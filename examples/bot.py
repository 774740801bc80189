"""A small chat bot: joins a room over the WebSocket and answers `!time`.

    export CHAT_TOKEN=$(python manage.py chat_token timebot --create)
    CHAT_URL=ws://127.0.0.1:8000 CHAT_ROOM=lobby python examples/bot.py

Needs only the `websockets` library (pip install websockets). It reconnects
after a dropped connection, resuming with `since` so it misses nothing, and
answers only messages that arrive live (not the history it is shown on
connect); it stops for good when its access ends (the close code the server
names REVOKED in /api/v1/protocol.json). See docs/api.md and docs/protocol.md.
"""

import asyncio
import json
import os
import sys
import urllib.request
from datetime import UTC, datetime

import websockets


def close_codes(url: str) -> dict[str, int]:
    """The server's close codes by name (REVOKED: logged out, deactivated or
    token revoked), from the protocol's JSON Schema: no copy kept here."""
    http = "http" + url.removeprefix("ws")  # ws:// -> http://, wss:// -> https://
    with urllib.request.urlopen(f"{http}/api/v1/protocol.json", timeout=10) as reply:
        return json.load(reply)["x-close-codes"]


def answer(text: str) -> str | None:
    """The bot's reply to a message, or None."""
    if text.strip() == "!time":
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"The time is {now}"
    return None


async def serve_room(url: str, room: str, token: str) -> None:
    since: int | None = None  # the newest seq seen, to resume after a drop
    revoked: int | None = None  # the close code that means: do not come back
    delay = 1.0
    while True:
        query = f"?since={since}" if since is not None else ""
        try:
            if revoked is None:
                revoked = (await asyncio.to_thread(close_codes, url))["REVOKED"]
            async with websockets.connect(
                f"{url}/ws/chat/{room}/{query}",
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as ws:
                delay = 1.0
                me = None
                async for raw in ws:
                    frame = json.loads(raw)
                    kind = frame.get("type")
                    if kind == "hello":
                        me = frame["username"]
                        print(f"bot: in room {frame['room']} as {me}", flush=True)
                    elif kind == "history" and frame["messages"]:
                        since = max(since or 0, frame["messages"][-1]["seq"])
                    elif kind == "message":
                        since = max(since or 0, frame["seq"])
                        reply = (
                            None
                            if frame["username"] == me
                            else answer(frame["message"])
                        )
                        if reply is not None:
                            # client_id: one reply per message, even if resent.
                            await ws.send(
                                json.dumps(
                                    {
                                        "type": "message",
                                        "message": reply,
                                        "client_id": f"time-{room}-{frame['seq']}",
                                    }
                                )
                            )
                    elif kind == "error":
                        print(
                            f"bot: refused: {frame['code']}: {frame['detail']}",
                            flush=True,
                        )
                if ws.close_code == revoked:
                    print("bot: access revoked; stopping", file=sys.stderr)
                    return
        except websockets.InvalidStatus as exc:
            print(
                f"bot: handshake refused ({exc.response.status_code}); check CHAT_TOKEN",
                file=sys.stderr,
            )
            return
        except (OSError, websockets.ConnectionClosed) as exc:
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            if code == revoked:
                print("bot: access revoked; stopping", file=sys.stderr)
                return
            print(f"bot: disconnected ({exc}); retrying in {delay:g}s", file=sys.stderr)
        else:
            print(f"bot: connection closed; retrying in {delay:g}s", file=sys.stderr)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


def main() -> int:
    token = os.environ.get("CHAT_TOKEN")
    if not token:
        print(
            "Set CHAT_TOKEN (python manage.py chat_token <user> --create).",
            file=sys.stderr,
        )
        return 2
    url = os.environ.get("CHAT_URL", "ws://127.0.0.1:8000").rstrip("/")
    room = os.environ.get("CHAT_ROOM", "lobby")
    try:
        asyncio.run(serve_room(url, room, token))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
