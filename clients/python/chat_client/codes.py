"""The protocol's error and close codes, as the server names them.

Generated from the server's chat/protocol/v1.py by
`python manage.py chat_client_codes`; do not edit. The same codes are
served as `x-constants` in /api/v1/protocol.json.
"""

from enum import IntEnum, StrEnum


class ErrorCode(StrEnum):
    """The `code` of an error frame or of an HTTP error body."""

    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    UNAUTHORIZED = "unauthorized"
    METHOD_NOT_ALLOWED = "method_not_allowed"


class CloseCode(IntEnum):
    """The codes the server closes a socket with (docs/protocol.md)."""

    MESSAGE_TOO_BIG = 1009
    POLICY_VIOLATION = 1008
    SERVER_ERROR = 1011
    SERVICE_RESTART = 1012
    TOO_SLOW = 4008
    REVOKED = 4403
