"""The refusals of the services, each a ChatError (chat/protocol/v1.py) of one
code: `NotFound("No room named 'x'.")`. A socket sends it as an `error` frame
and the API answers with its status; both read `code` and `detail` only.
"""

from typing import ClassVar

from chat.protocol.v1 import ChatError, ErrorCode


class ServiceError(ChatError):
    """A refused request; nothing was changed. Subclasses name the code."""

    default_code: ClassVar[ErrorCode]

    def __init__(self, detail: str, code: ErrorCode | None = None) -> None:
        super().__init__(code or self.default_code, detail)


class NotFound(ServiceError):
    """No such room, message or user, or one the caller may not see."""

    default_code = ErrorCode.NOT_FOUND


class Forbidden(ServiceError):
    """The caller sees it but may not do this (not the author, not an owner)."""

    default_code = ErrorCode.FORBIDDEN


class Conflict(ServiceError):
    default_code = ErrorCode.CONFLICT


class TooMany(ServiceError):
    """Over a per-user limit (rooms made per hour); try again later."""

    default_code = ErrorCode.RATE_LIMITED


class BadRequest(ServiceError):
    default_code = ErrorCode.BAD_FRAME


def no_room(name: str) -> NotFound:
    """The one answer for a room that does not exist or is not visible."""
    return NotFound(f"No room named {str(name)[:64]!r}.")
