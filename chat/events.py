"""Every frame the server sends, and every channel-layer event, built here.

Server frames are encoded once with orjson; a broadcast hands the same text to
every local socket. Channel-layer event types are dotted (`chat.message`).
"""

from datetime import UTC, datetime

import orjson


def encode(frame: dict) -> str:
    return orjson.dumps(frame).decode()


def iso_ts(moment: datetime) -> str:
    """UTC with milliseconds and a Z: 2026-11-23T22:20:00.123Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- server → client frames ---


def message_frame(
    *, seq: int, room: str, username: str, text: str, ts: str, deleted: bool = False
) -> dict:
    frame = {
        "type": "message",
        "seq": seq,
        "room": room,
        "username": username,
        "message": text,
        "ts": ts,
    }
    if deleted:
        frame["deleted"] = True
    return frame


def tombstone(message: dict) -> dict:
    """A message frame as it reads once a moderator deleted it: no text."""
    return dict(message, message="", deleted=True)


def hello_frame(*, room: str, username: str, online: list[str], last_seq: int) -> dict:
    return {
        "type": "hello",
        "room": room,
        "username": username,
        "online": online,
        "last_seq": last_seq,
    }


def history_frame(*, messages: list[dict], complete: bool, has_more: bool) -> dict:
    return {
        "type": "history",
        "messages": messages,
        "complete": complete,
        "has_more": has_more,
    }


def ack_frame(*, client_id: str, seq: int) -> dict:
    return {"type": "ack", "client_id": client_id, "seq": seq}


def presence_frame(online: list[str], room: str | None = None) -> dict:
    """`room`: on the v2 socket, which carries many rooms."""
    if room is None:
        return {"type": "presence", "online": online}
    return {"type": "presence", "room": room, "online": online}


def typing_frame(username: str, room: str | None = None) -> dict:
    if room is None:
        return {"type": "typing", "username": username}
    return {"type": "typing", "room": room, "username": username}


def error_frame(
    code: str, detail: str, room: str | None = None, client_id: str | None = None
) -> dict:
    """v2 errors name the frame's `room` and `client_id` when it had them."""
    frame = {"type": "error", "code": code, "detail": detail}
    if room is not None:
        frame["room"] = room
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


def deleted_frame(*, room: str, seq: int) -> dict:
    """A moderator deleted message `seq`: show a tombstone in its place."""
    return {"type": "deleted", "room": room, "seq": seq}


# --- channel-layer events (between processes; consumed by broadcast.RoomHub) ---


def message_event(message: dict) -> dict:
    return {"type": "chat.message", "message": message}


def presence_event(room: str) -> dict:
    # Carries no list: each process reads the shared presence store when it
    # gets this, so events arriving out of order cannot leave a stale list.
    return {"type": "chat.presence", "room": room}


def deleted_event(room: str, seq: int) -> dict:
    return {"type": "chat.deleted", "room": room, "seq": seq}


def typing_event(room: str, username: str) -> dict:
    return {"type": "chat.typing", "room": room, "username": username}


def revoke_event(user_id: int, credential: str | None = None) -> dict:
    """Close the user's sockets: all, or only those opened with `credential`
    ("session:<key>" or "token:<id>")."""
    return {"type": "chat.revoke", "user_id": user_id, "credential": credential}
