"""What a client may send on the version 2 socket (/ws/): frames that name
their `room`, parsed into typed frames or a ChatError (PROTOCOL.md section
5; docs/protocol.md, "Version 2"). The client's `type` only ever chooses
among the parsers below; it never names a method.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

from django.conf import settings

from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.protocol.v1 import ChatError, ErrorCode, parse_post


@dataclass(frozen=True, slots=True)
class Sync:
    rooms: dict[str, int | None]  # canonical name -> since (None: newest page)


@dataclass(frozen=True, slots=True)
class Unsync:
    rooms: list[str]


@dataclass(frozen=True, slots=True)
class Post:
    room: str
    text: str
    client_id: str | None
    reply_to: int | None


@dataclass(frozen=True, slots=True)
class Typing:
    room: str


@dataclass(frozen=True, slots=True)
class History:
    room: str
    before: int | None
    limit: int


@dataclass(frozen=True, slots=True)
class Read:
    room: str
    seq: int
    force: bool


@dataclass(frozen=True, slots=True)
class Edit:
    room: str
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class Delete:
    room: str
    seq: int


@dataclass(frozen=True, slots=True)
class React:
    room: str
    seq: int
    emoji: str
    on: bool


ClientFrame = Sync | Unsync | Post | Typing | History | Read | Edit | Delete | React

MAX_SYNC_ROOMS = 200  # rooms in one sync frame


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _room(name) -> str:
    try:
        return canonical_room(name)
    except InvalidRoomName as exc:
        raise ChatError(ErrorCode.BAD_FRAME, f'"room": {exc}') from None


def _seq(data: dict, key: str = "seq") -> int:
    seq: object = data.get(key)
    if not _is_int(seq) or seq < 0:
        raise ChatError(ErrorCode.BAD_FRAME, f'"{key}" must be a whole number ≥ 0.')
    return seq


def context(data) -> dict:
    """The `room` and `client_id` an error about this frame carries."""
    found = {}
    if isinstance(data, dict):
        room, client_id = data.get("room"), data.get("client_id")
        if isinstance(room, str):
            found["room"] = room[:64].lower()
        if isinstance(client_id, str) and len(client_id) <= 64:
            found["client_id"] = client_id
    return found


def _sync(data: dict) -> Sync:
    rooms = data.get("rooms")
    if not isinstance(rooms, dict) or not 1 <= len(rooms) <= MAX_SYNC_ROOMS:
        raise ChatError(
            ErrorCode.BAD_FRAME,
            f'"rooms" must map 1 to {MAX_SYNC_ROOMS} room names to a seq or null.',
        )
    parsed = {}
    for name, since in rooms.items():
        if since is not None and (not _is_int(since) or since < 0):
            raise ChatError(
                ErrorCode.BAD_FRAME,
                f'"rooms": the since of {name[:64]!r} must be a whole number ≥ 0 '
                "or null.",
            )
        parsed[_room(name)] = since
    return Sync(parsed)


def _unsync(data: dict) -> Unsync:
    rooms = data.get("rooms")
    if not isinstance(rooms, list) or not 1 <= len(rooms) <= MAX_SYNC_ROOMS:
        raise ChatError(
            ErrorCode.BAD_FRAME, f'"rooms" must list 1 to {MAX_SYNC_ROOMS} room names.'
        )
    return Unsync([_room(name) for name in rooms])


def _post(data: dict) -> Post:
    room = _room(data.get("room"))
    post = parse_post(data)
    reply_to = data.get("reply_to")
    if reply_to is not None and (not _is_int(reply_to) or reply_to < 1):
        raise ChatError(ErrorCode.BAD_FRAME, '"reply_to" must be a message\'s seq.')
    return Post(room, post.text, post.client_id, reply_to)


def _history(data: dict) -> History:
    room = _room(data.get("room"))
    before = data.get("before")
    limit = data.get("limit", settings.CHAT_HISTORY_ON_CONNECT)
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    if before is not None and (not _is_int(before) or before < 1):
        raise ChatError(ErrorCode.BAD_FRAME, '"before" must be a positive integer.')
    if not _is_int(limit) or not 1 <= limit <= page_max:
        raise ChatError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    return History(room, before, limit)


def _read(data: dict) -> Read:
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise ChatError(ErrorCode.BAD_FRAME, '"force" must be true or false.')
    return Read(_room(data.get("room")), _seq(data), force)


def _edit(data: dict) -> Edit:
    text = data.get("message")
    if not isinstance(text, str):
        raise ChatError(ErrorCode.BAD_FRAME, '"message" must be a string.')
    return Edit(_room(data.get("room")), _seq(data), text)


def _react(data: dict) -> React:
    emoji, on = data.get("emoji"), data.get("on", True)
    if not isinstance(emoji, str) or not 1 <= len(emoji) <= 32:
        raise ChatError(ErrorCode.BAD_FRAME, '"emoji" must be one emoji.')
    if not isinstance(on, bool):
        raise ChatError(ErrorCode.BAD_FRAME, '"on" must be true or false.')
    return React(_room(data.get("room")), _seq(data), emoji, on)


_PARSERS: dict[str, Callable[[dict], ClientFrame]] = {
    "sync": _sync,
    "unsync": _unsync,
    "message": _post,
    "typing": lambda data: Typing(_room(data.get("room"))),
    "history": _history,
    "read": _read,
    "edit": _edit,
    "delete": lambda data: Delete(_room(data.get("room")), _seq(data)),
    "react": _react,
}


def parse(data: dict) -> ClientFrame:
    """Parse a frame's JSON object, or raise ChatError."""
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ChatError(ErrorCode.BAD_FRAME, '"type" must be a string.')
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ChatError(
            ErrorCode.UNKNOWN_TYPE,
            f"Unknown frame type {kind[:40]!r}; expected one of {', '.join(_PARSERS)}.",
        )
    return parser(data)
