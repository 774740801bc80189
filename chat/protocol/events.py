"""Every frame the server sends, and every channel-layer event, built here.

Server frames are encoded once with orjson; a broadcast hands the same text to
every local socket. Channel-layer event types are dotted (`chat.message`).
"""

from datetime import UTC, datetime

import orjson

from chat.version import VERSION


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
    """A message frame as it reads once deleted: no text, no mentions."""
    frame = dict(message, message="", deleted=True)
    for key in ("mentions", "mentions_room", "reactions"):
        frame.pop(key, None)
    return frame


def event_frame(
    kind: str, *, seq: int, room: str, ts: str, username: str, **fields
) -> dict:
    """A change in a room's log other than a message (PROTOCOL section 2):
    edited, deleted, reaction (with `target`), member, topic. `username` is
    who made the change; the kind's own fields follow."""
    return {
        "type": kind,
        "seq": seq,
        "room": room,
        "username": username,
        "ts": ts,
        **fields,
    }


def apply_event(message: dict, event: dict) -> dict:
    """`message` (a message frame) as it reads after `event`, which targets it:
    the current state that history shows. Applying an event twice is harmless."""
    kind = event["type"]
    if kind == "deleted":
        return tombstone(message)
    if message.get("deleted"):
        return message
    if kind == "edited":
        frame = dict(message, message=event["message"], edited_at=event["edited_at"])
        for key in ("mentions", "mentions_room"):  # those of the new text
            frame.pop(key, None)
            if key in event:
                frame[key] = event[key]
        return frame
    if kind == "reaction":
        reactions = dict(message.get("reactions") or {})
        if event["users"]:
            reactions[event["emoji"]] = event["users"]
        else:
            reactions.pop(event["emoji"], None)
        frame = dict(message, reactions=reactions)
        if not reactions:
            del frame["reactions"]
        return frame
    return message


def hello_frame(*, room: str, username: str, online: list[str], last_seq: int) -> dict:
    return {
        "type": "hello",
        "v": 1,  # the protocol's version (/ws/ says 2)
        "server": VERSION,  # the server's version (CHANGELOG.md)
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


def read_frame(*, room: str, seq: int) -> dict:
    """The user's read position in `room` moved (per user, no seq)."""
    return {"type": "read", "room": room, "seq": seq}


def room_frame(summary: dict) -> dict:
    """A room summary of the user changed (per user, no seq)."""
    return {"type": "room", **summary}


def removed_frame(room: str) -> dict:
    """The user lost access to `room` (per user, no seq)."""
    return {"type": "removed", "room": room}


# --- channel-layer events (between processes; consumed by broadcast.RoomHub) ---


def message_event(message: dict) -> dict:
    return {"type": "chat.message", "message": message}


def presence_event(room: str) -> dict:
    # Carries no list: each process reads the shared presence store when it
    # gets this, so events arriving out of order cannot leave a stale list.
    return {"type": "chat.presence", "room": room}


def removed_event(room: str, user_id: int | None) -> dict:
    """`user_id` (everyone, when None: the room was deleted) lost access to
    `room`: each process closes those sockets of the room (v1: 4403)."""
    return {"type": "chat.removed", "room": room, "user_id": user_id}


def user_event(user_id: int, frame: dict) -> dict:
    """A per-user frame (room, read, removed) for every socket of the user."""
    return {"type": "chat.user", "user_id": user_id, "frame": frame}


def typing_event(room: str, username: str) -> dict:
    return {"type": "chat.typing", "room": room, "username": username}


def revoke_event(user_id: int, credential: str | None = None) -> dict:
    """Close the user's sockets: all, or only those opened with `credential`
    ("session:<key>" or "token:<id>")."""
    return {"type": "chat.revoke", "user_id": user_id, "credential": credential}
