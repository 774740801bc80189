"""The refusals of the services: a protocol code, a detail the user can act
on, and the HTTP status an HTTP caller answers with.

A ServiceError is a FrameError, so a socket that catches FrameError sends it
as an `error` frame unchanged.
"""

from ..protocol import HTTP_STATUS, ErrorCode, FrameError


class ServiceError(FrameError):
    """A refused request; nothing was changed."""

    code: ErrorCode

    def __init__(self, detail: str, code: ErrorCode | None = None) -> None:
        super().__init__(code or type(self).code, detail)

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)


class NotFound(ServiceError):
    """No such room, message or user, or one the caller may not see."""

    code = ErrorCode.NOT_FOUND


class Forbidden(ServiceError):
    """The caller sees it but may not do this (not the author, not an owner)."""

    code = ErrorCode.FORBIDDEN


class Conflict(ServiceError):
    code = ErrorCode.CONFLICT


class TooMany(ServiceError):
    """Over a per-user limit (rooms made per hour); try again later."""

    code = ErrorCode.RATE_LIMITED


class BadRequest(ServiceError):
    code = ErrorCode.BAD_FRAME


def no_room(name: str) -> NotFound:
    """The one answer for a room that does not exist or is not visible."""
    return NotFound(f"No room named {str(name)[:64]!r}.")
