"""Every API refusal as `{"code": ..., "detail": ...}` with the protocol's codes.

`install(api)` registers one exception handler per kind of failure on the
NinjaAPI: the project's one refusal (chat.protocol.v1.ChatError and its
subclasses: services, storage, the API's own checks), what django-ninja raises
itself (validation, authentication, a body it could not
parse), Http404, storage failures and, last, any other exception, so that a
client never sees ninja's or Django's own error shapes.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chat import metrics
from chat.logfmt import log_event
from chat.protocol.v1 import ChatError, ErrorCode, storage_unavailable

if TYPE_CHECKING:
    from ninja import NinjaAPI

log = logging.getLogger("chat.api")

ERROR_CODES = [code.value for code in ErrorCode]  # statuses: ChatError.status

LOGIN_HINT = (
    'Log in, or send a token as "Authorization: Bearer <token>" (POST /api/v1/token).'
)


def error_response(
    request: HttpRequest, error: ChatError, headers: dict | None = None
) -> HttpResponse:
    """The JSON error `{"code", "detail"}` with the error's status, counted and
    logged (`event=error via=api ...`); `headers`: HTTP's own (e.g. Allow)."""
    code = error.code
    metrics.ERRORS.labels(code.value).inc()
    user = getattr(request, "auth", None)
    username = user.get_username() if user is not None else None
    log_event(
        log, "error", via="api", path=request.path, user=username, code=code.value
    )
    headers = dict(headers or {})
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if code == ErrorCode.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="chat"'
    elif code == ErrorCode.RATE_LIMITED:
        headers.setdefault("Retry-After", "1")
    return HttpResponse(
        orjson.dumps(error.as_dict()),
        status=error.status,
        content_type="application/json",
        headers=headers,
    )


def _refused(request: HttpRequest, exc: ChatError) -> HttpResponse:
    return error_response(request, exc)


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
    detail = validation_detail(list(exc.errors))
    return error_response(request, ChatError(ErrorCode.BAD_FRAME, detail))


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, ChatError(ErrorCode.UNAUTHORIZED, LOGIN_HINT))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps whatever the body parser raised ("Cannot parse request
    # body"); the parser's own ChatError says what was wrong.
    if isinstance(exc.__cause__, ChatError):
        return error_response(request, exc.__cause__)
    code = {
        401: ErrorCode.UNAUTHORIZED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
    }.get(exc.status_code, ErrorCode.BAD_FRAME)
    return error_response(request, ChatError(code, str(exc)))


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    detail = str(exc) or "Not found."
    return error_response(request, ChatError(ErrorCode.NOT_FOUND, detail))


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    detail = "The request body is too large."
    return error_response(request, ChatError(ErrorCode.TOO_LONG, detail))


def _storage(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    log.warning("database error on %s: %s", request.path, exc)
    return error_response(request, storage_unavailable())


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, or a backend failing in a way not foreseen: still a JSON answer
    # the client can act on, and the trace in the log.
    log.error("API request %s %s failed", request.method, request.path, exc_info=exc)
    return error_response(
        request,
        ChatError(
            ErrorCode.UNAVAILABLE,
            "The server could not handle this request. Try again "
            "(a post with the same client_id is stored at most once).",
        ),
    )


def install(api: "NinjaAPI") -> None:
    """Register the handlers on `api` (ninja picks the most specific class)."""
    handlers: dict[type[Exception], Callable[..., HttpResponse]] = {
        ChatError: _refused,
        ValidationError: _validation,
        AuthenticationError: _unauthenticated,
        HttpError: _http_error,
        Http404: _not_found,
        RequestDataTooBig: _too_big,
        DatabaseError: _storage,
        Exception: _unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
