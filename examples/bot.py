"""A small chat bot on the client library: answers `!time` in its rooms.

    pip install ./clients/python
    export CHAT_TOKEN=$(python manage.py chat_token timebot --create)
    CHAT_URL=http://127.0.0.1:8000 CHAT_ROOM=lobby python examples/bot.py

The library (clients/python, `chat_client`) keeps the socket connected,
resumes after a drop with nothing missed or repeated, and retries a post
until the server acknowledges it, so the bot is only its answer. It answers
messages that arrive live, not the history it is shown when it starts, and
each message at most once (the reply's client_id is derived from it).
"""

import asyncio
import os
import sys
from datetime import UTC, datetime

from chat_client import (
    AccessEnded,
    ChatClient,
    ChatError,
    ErrorCode,
    Message,
    RestClient,
)


def answer(text: str) -> str | None:
    """The bot's reply to a message, or None."""
    if text.strip() == "!time":
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"The time is {now}"
    return None


async def ensure_room(url: str, token: str, room: str) -> None:
    """Make the public room if it does not exist yet (a taken name is fine)."""
    async with RestClient(url, token) as api:
        try:
            await api.create_room(room, "public")
        except ChatError as exc:
            if exc.code != ErrorCode.CONFLICT:
                raise


async def run(url: str, token: str, room: str) -> None:
    await ensure_room(url, token, room)
    async with ChatClient(url, token, rooms=[room]) as chat:
        print(f"bot: in room {room} as {chat.username}", flush=True)
        async for event in chat.events():
            if not isinstance(event, Message) or event.replayed:
                continue
            reply = None if event.username == chat.username else answer(event.text)
            if reply is not None:
                await chat.post(room, reply, client_id=f"time-{room}-{event.seq}")


def main() -> int:
    token = os.environ.get("CHAT_TOKEN")
    if not token:
        print(
            "Set CHAT_TOKEN (python manage.py chat_token <user> --create).",
            file=sys.stderr,
        )
        return 2
    url = os.environ.get("CHAT_URL", "http://127.0.0.1:8000").rstrip("/")
    room = os.environ.get("CHAT_ROOM", "lobby")
    try:
        asyncio.run(run(url, token, room))
    except AccessEnded as exc:  # token deleted, user deactivated: not coming back
        print(f"bot: access revoked; stopping ({exc.detail})", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
