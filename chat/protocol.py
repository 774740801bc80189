"""The client side of the WebSocket protocol: what a client may send.

Parsing turns a text frame into a typed frame or a FrameError whose code and
detail go back to the client verbatim (docs/protocol.md). The client's `type`
only ever chooses among the dataclasses below; it never names a method.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import orjson
from django.conf import settings


class ErrorCode(StrEnum):
    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"
    # No such room or message, or one the user may not see: the same answer,
    # so a non-member learns nothing (chat/access.py).
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # e.g. a room name that is taken
    # Not the client's fault: storage was unreachable; nothing was stored, the
    # same post (same client_id) may be sent again.
    UNAVAILABLE = "unavailable"


class CloseCode(IntEnum):
    MESSAGE_TOO_BIG = 1009  # a frame over CHAT_MAX_FRAME_BYTES
    POLICY_VIOLATION = 1008  # refused frames (rate limit, bad) kept up
    SERVER_ERROR = 1011  # the server could not serve this socket
    TOO_SLOW = 4008  # the socket did not read its frames; reconnect with since
    REVOKED = 4403  # logged out, deactivated or token revoked


class FrameError(Exception):
    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PostFrame:
    text: str
    client_id: str | None


@dataclass(frozen=True, slots=True)
class TypingFrame:
    pass


@dataclass(frozen=True, slots=True)
class HistoryFrame:
    before: int | None
    limit: int


ClientFrame = PostFrame | TypingFrame | HistoryFrame


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_post(data: dict) -> PostFrame:
    """Validate a post's fields (shared by the WebSocket and the REST API)."""
    text = data.get("message")
    if not isinstance(text, str):
        raise FrameError(ErrorCode.BAD_FRAME, '"message" must be a string.')
    client_id = data.get("client_id")
    if client_id is not None and (
        not isinstance(client_id, str) or not 1 <= len(client_id) <= 64
    ):
        raise FrameError(
            ErrorCode.BAD_FRAME, '"client_id" must be a string of 1 to 64 characters.'
        )
    text = text.strip()
    if not text:
        raise FrameError(ErrorCode.EMPTY, "The message is empty.")
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise FrameError(
            ErrorCode.TOO_LONG,
            f"The message is {len(text)} characters long; the limit is {limit}.",
        )
    return PostFrame(text=text, client_id=client_id)


def _parse_history(data: dict) -> HistoryFrame:
    before = data.get("before")
    limit = data.get("limit", settings.CHAT_HISTORY_ON_CONNECT)
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    if before is not None and (not _is_int(before) or before < 1):
        raise FrameError(ErrorCode.BAD_FRAME, '"before" must be a positive integer.')
    if not _is_int(limit) or not 1 <= limit <= page_max:
        raise FrameError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    return HistoryFrame(before=before, limit=limit)


def parse_frame(text: str) -> ClientFrame:
    """Parse one text frame from a client, or raise FrameError."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError(ErrorCode.BAD_JSON, "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise FrameError(ErrorCode.BAD_FRAME, "A frame must be a JSON object.")
    kind = data.get("type", "message")
    if kind == "message":
        return parse_post(data)
    if kind == "typing":
        return TypingFrame()
    if kind == "history":
        return _parse_history(data)
    if not isinstance(kind, str):
        raise FrameError(ErrorCode.BAD_FRAME, '"type" must be a string.')
    raise FrameError(
        ErrorCode.UNKNOWN_TYPE,
        f"Unknown frame type {kind[:40]!r}; expected message, typing or history.",
    )
