"""Every API refusal as `{"code": ..., "detail": ...}` with the protocol's codes.

`install(api)` registers one exception handler per kind of failure on the
NinjaAPI: the project's own errors (ApiError, FrameError, PostRefused), what
django-ninja raises itself (validation, authentication, a body it could not
parse), Http404, storage failures and, last, any other exception, so that a
client never sees ninja's or Django's own error shapes.
"""

import logging
from typing import TYPE_CHECKING, Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from .. import metrics
from ..actions import PostRefused
from ..logfmt import log_event
from ..protocol import ErrorCode, FrameError

if TYPE_CHECKING:
    from ninja import NinjaAPI

log = logging.getLogger("chat.api")

# HTTP's own cases, next to the protocol's codes.
UNAUTHORIZED = "unauthorized"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"

STATUS = {
    ErrorCode.BAD_JSON: 400,
    ErrorCode.BAD_FRAME: 400,
    ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.EMPTY: 400,
    UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    CONFLICT: 409,
    ErrorCode.TOO_LONG: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
}
ERROR_CODES = [str(code) for code in STATUS]

LOGIN_HINT = (
    'Log in, or send a token as "Authorization: Bearer <token>" (POST /api/v1/token).'
)


class ApiError(Exception):
    """A refusal of an HTTP call: code (one of STATUS), detail for people."""

    def __init__(self, code: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def error_response(
    request: HttpRequest, code: str, detail: str, headers: dict | None = None
) -> HttpResponse:
    """The JSON error, counted and logged (`event=error via=api ...`)."""
    code = str(code)
    metrics.ERRORS.labels(code).inc()
    user = getattr(request, "auth", None)
    username = user.get_username() if user is not None else None
    log_event(log, "error", via="api", path=request.path, user=username, code=code)
    headers = dict(headers or {})
    if code == UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="chat"'
    elif code == ErrorCode.RATE_LIMITED:
        headers.setdefault("Retry-After", "1")
    return HttpResponse(
        orjson.dumps({"code": code, "detail": detail}),
        status=STATUS[code],
        content_type="application/json",
        headers=headers,
    )


def _coded(request: HttpRequest, exc: ApiError | FrameError | PostRefused):
    retry_after = getattr(exc, "retry_after", None)
    headers = dict(getattr(exc, "headers", {}))
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return error_response(request, exc.code, exc.detail, headers)


def _field(loc: tuple) -> str:
    """`"limit" (query)` from ninja's ("query", "limit"), `"message"` from
    ("body", "<parameter>", "message")."""
    source, *rest = loc
    if source == "body":
        rest = rest[1:]  # the view's parameter name means nothing to clients
    name = ".".join(str(part) for part in rest)
    return f'"{name}" ({source})' if source != "body" else f'"{name}"'


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """One sentence naming each refused field and why."""
    parts = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc and loc[0] == "body" and len(loc) <= 2:
            parts.append("The request body must be a JSON object")
            continue
        message = str(error.get("msg", "is not valid"))
        parts.append(f"{_field(loc)}: {message}" if loc else message)
    return "; ".join(dict.fromkeys(parts)) + "."


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        request, ErrorCode.BAD_FRAME, validation_detail(list(exc.errors))
    )


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, UNAUTHORIZED, LOGIN_HINT)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps whatever the body parser raised ("Cannot parse request
    # body"); the parser's own ApiError says what was wrong.
    if isinstance(exc.__cause__, ApiError):
        return _coded(request, exc.__cause__)
    code = {401: UNAUTHORIZED, 403: ErrorCode.FORBIDDEN, 404: NOT_FOUND}.get(
        exc.status_code, ErrorCode.BAD_FRAME
    )
    return error_response(request, code, str(exc))


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, NOT_FOUND, str(exc) or "Not found.")


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, ErrorCode.TOO_LONG, "The request body is too large.")


def _storage(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    log.warning("database error on %s: %s", request.path, exc)
    return error_response(
        request,
        ErrorCode.UNAVAILABLE,
        "Storage is unavailable; nothing was stored. Send it again "
        "(with the same client_id) in a moment.",
    )


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, or a backend failing in a way not foreseen: still a JSON answer
    # the client can act on, and the trace in the log.
    log.error("API request %s %s failed", request.method, request.path, exc_info=exc)
    return error_response(
        request,
        ErrorCode.UNAVAILABLE,
        "The server could not handle this request. Try again "
        "(a post with the same client_id is stored at most once).",
    )


def install(api: "NinjaAPI") -> None:
    """Register the handlers on `api` (ninja picks the most specific class)."""
    for exc_class in (ApiError, FrameError, PostRefused):
        api.add_exception_handler(exc_class, _coded)
    api.add_exception_handler(ValidationError, _validation)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(RequestDataTooBig, _too_big)
    api.add_exception_handler(DatabaseError, _storage)
    api.add_exception_handler(Exception, _unexpected)
