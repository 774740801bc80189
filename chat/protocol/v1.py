"""The client side of the WebSocket protocol: what a client may send.

Parsing turns a text frame into a typed frame or a ChatError whose code and
detail go back to the client verbatim (docs/protocol.md). The client's `type`
only ever chooses among the structures below; it never names a method.

Every error code (ErrorCode, with its HTTP status) and close code (CloseCode)
is named here once, and so is the one refusal, ChatError: the services,
storage, both sockets and the HTTP API raise it or a subclass of it. The page
gets the codes as json_script `chat-protocol`, clients as `x-constants` in
/api/v1/protocol.json, the Python client library as a module generated from
constants() (`make codes`).
"""

from enum import IntEnum, StrEnum
from typing import Annotated, TypeGuard

import msgspec
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
    # so a non-member learns nothing (chat/domain/access.py).
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # e.g. a room name that is taken
    # Not the client's fault: storage was unreachable; nothing was stored, the
    # same post (same client_id) may be sent again.
    UNAVAILABLE = "unavailable"
    # HTTP only:
    UNAUTHORIZED = "unauthorized"  # no credentials, or a wrong or revoked token
    METHOD_NOT_ALLOWED = "method_not_allowed"


# The HTTP status of each code (the REST API answers {"code", "detail"}).
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_JSON: 400,
    ErrorCode.BAD_FRAME: 400,
    ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.EMPTY: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LONG: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
}


class CloseCode(IntEnum):
    MESSAGE_TOO_BIG = 1009  # a frame over CHAT_MAX_FRAME_BYTES
    POLICY_VIOLATION = 1008  # refused frames (rate limit, bad) kept up
    SERVER_ERROR = 1011  # the server could not serve this socket (storage down)
    SERVICE_RESTART = 1012  # the server is restarting: reconnect with since
    TOO_SLOW = 4008  # the socket did not read its frames; reconnect with since
    REVOKED = 4403  # logged out, deactivated or token revoked


def constants() -> dict:
    """The codes for the page and clients (json_script `chat-protocol`, and
    `x-constants` in /api/v1/protocol.json): {"error_codes": {"BAD_JSON":
    "bad_json", ...}, "close_codes": {"REVOKED": 4403, ...}}."""
    return {
        "error_codes": {code.name: code.value for code in ErrorCode},
        "close_codes": {code.name: code.value for code in CloseCode},
    }


class ChatError(Exception):
    """The one refusal, for frames, HTTP and storage alike: a code, a detail
    that says what was wrong, and the code's HTTP status. Nothing was changed.

    A socket sends it as an `error` frame (`code`, `detail`), the API as a JSON
    body `{"code", "detail"}` with `status` (chat/http/api/errors.py); both render
    it from these fields and nothing else. `retry_after` (seconds) becomes an
    HTTP `Retry-After`; frames do not carry it.
    """

    def __init__(
        self, code: ErrorCode, detail: str, *, retry_after: int | None = None
    ) -> None:
        if not detail.strip():
            raise ValueError(f"A {code} refusal must say what was wrong (detail).")
        super().__init__(detail)
        self.code = ErrorCode(code)
        self.detail = detail
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def as_dict(self) -> dict[str, str]:
        """The HTTP body `{"code", "detail"}` (an error frame adds its type)."""
        return {"code": self.code.value, "detail": self.detail}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.detail!r})"


def storage_unavailable() -> ChatError:
    """The answer, on a socket or over HTTP, when the database is unreachable."""
    return ChatError(
        ErrorCode.UNAVAILABLE,
        "Storage is unavailable; nothing was stored. Send it again "
        "(with the same client_id) in a moment.",
    )


class PostFrame(msgspec.Struct, frozen=True, gc=False):
    text: str
    client_id: str | None


class TypingFrame(msgspec.Struct, frozen=True, gc=False):
    pass


class HistoryFrame(msgspec.Struct, frozen=True, gc=False):
    before: int | None
    limit: int


ClientFrame = PostFrame | TypingFrame | HistoryFrame

_TYPING = TypingFrame()
_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Known(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A frame with only the fields of a version 1 frame, each of its type."""

    type: str = "message"
    message: str | None = None
    client_id: str | None = None
    before: _Int64 | None = None
    limit: _Int64 | msgspec.UnsetType = msgspec.UNSET


_decode_known = msgspec.json.Decoder(_Known).decode


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _post(text: object, client_id: object) -> PostFrame:
    if not isinstance(text, str):
        raise ChatError(ErrorCode.BAD_FRAME, '"message" must be a string.')
    if client_id is not None and (
        not isinstance(client_id, str) or not 1 <= len(client_id) <= 64
    ):
        raise ChatError(
            ErrorCode.BAD_FRAME, '"client_id" must be a string of 1 to 64 characters.'
        )
    # PostgreSQL cannot store U+0000 in text: refused here, on every backend,
    # so a post means the same wherever it is stored.
    if "\x00" in text or (client_id is not None and "\x00" in client_id):
        field = "message" if "\x00" in text else "client_id"
        raise ChatError(
            ErrorCode.BAD_FRAME, f'"{field}" contains U+0000 (NUL), which is refused.'
        )
    text = text.strip()
    if not text:
        raise ChatError(ErrorCode.EMPTY, "The message is empty.")
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise ChatError(
            ErrorCode.TOO_LONG,
            f"The message is {len(text)} characters long; the limit is {limit}.",
        )
    return PostFrame(text=text, client_id=client_id)


def parse_post(data: dict) -> PostFrame:
    """Validate a post's fields (shared by the WebSocket and the REST API)."""
    return _post(data.get("message"), data.get("client_id"))


def _history(before: object, limit: object) -> HistoryFrame:
    if limit is msgspec.UNSET:
        limit = settings.CHAT_HISTORY_ON_CONNECT
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    if before is not None and (not _is_int(before) or before < 1):
        raise ChatError(ErrorCode.BAD_FRAME, '"before" must be a positive integer.')
    if not _is_int(limit) or not 1 <= limit <= page_max:
        raise ChatError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    return HistoryFrame(before=before, limit=limit)


def _of_type(kind: object) -> ClientFrame:
    if not isinstance(kind, str):
        raise ChatError(ErrorCode.BAD_FRAME, '"type" must be a string.')
    raise ChatError(
        ErrorCode.UNKNOWN_TYPE,
        f"Unknown frame type {kind[:40]!r}; expected message, typing or history.",
    )


def parse_frame(text: str) -> ClientFrame:
    """Parse one text frame from a client, or raise ChatError.

    A frame whose fields are all known and of their type (every frame of a
    well-behaved client) is decoded straight into a typed structure; any
    other takes the general path, which finds what is wrong with it.
    """
    try:
        frame = _decode_known(text)
    except (msgspec.DecodeError, UnicodeEncodeError):
        return _parse_any(text)  # msgspec.ValidationError is a DecodeError
    kind = frame.type
    if kind == "message":
        return _post(frame.message, frame.client_id)
    if kind == "typing":
        return _TYPING
    if kind == "history":
        return _history(frame.before, frame.limit)
    return _of_type(kind)


def load_object(text: str) -> dict:
    """A frame's JSON object, or the ChatError that says what is wrong with
    it (both socket versions)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ChatError(ErrorCode.BAD_JSON, "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ChatError(ErrorCode.BAD_FRAME, "A frame must be a JSON object.")
    return data


def _parse_any(text: str) -> ClientFrame:
    """parse_frame for any text: JSON of any shape, unknown fields allowed."""
    data = load_object(text)
    kind = data.get("type", "message")
    if kind == "message":
        return parse_post(data)
    if kind == "typing":
        return _TYPING
    if kind == "history":
        return _history(data.get("before"), data.get("limit", msgspec.UNSET))
    return _of_type(kind)
