"""JSON over HTTP for bots and scripts, next to the WebSocket.

A post here goes through chat.posting.post_message, like a WebSocket post:
same validation, rate limit, dedup, seq and broadcast. Errors are
`{"code": ..., "detail": ...}` with the protocol's codes (and `unauthorized`,
`not_found`, `method_not_allowed` for HTTP's own cases).

Authentication: `Authorization: Bearer <token>`, or the session cookie of the
browser page. CSRF is checked for session-authenticated writes only: a bearer
token is never sent by a browser on its own, so it cannot be forged cross-site.
"""

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

import orjson
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import aauthenticate
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiToken, user_for_token

from .. import actions, metrics
from ..events import iso_ts
from ..logfmt import log_event
from ..models import Room
from ..posting import post_message
from ..protocol import ErrorCode, FrameError, parse_post
from ..rooms import InvalidRoomName, canonical_room
from .schema import openapi_schema

log = logging.getLogger("chat.api")

UNAUTHORIZED = "unauthorized"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"

STATUS = {
    ErrorCode.BAD_JSON: 400,
    ErrorCode.BAD_FRAME: 400,
    ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.EMPTY: 400,
    UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    ErrorCode.TOO_LONG: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
}


class ApiError(Exception):
    def __init__(self, code: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def json_response(
    data: dict, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _error_response(
    request: HttpRequest, user, exc: ApiError | FrameError
) -> HttpResponse:
    code = str(exc.code)
    metrics.ERRORS.labels(code).inc()
    username = user.get_username() if user is not None else None
    log_event(log, "error", via="api", path=request.path, user=username, code=code)
    headers = dict(getattr(exc, "headers", {}))
    if code == UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="chat"'
    elif code == ErrorCode.RATE_LIMITED:
        headers["Retry-After"] = "1"
    return json_response({"code": code, "detail": exc.detail}, STATUS[code], headers)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason  # the reason, instead of Django's HTML failure page


def _csrf_failure(request: HttpRequest) -> str | None:
    check = _CsrfCheck(lambda request: None)  # type: ignore[arg-type]
    check.process_request(request)
    return check.process_view(request, None, (), {})  # type: ignore[arg-type,return-value]


async def _authenticate(request: HttpRequest):
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                UNAUTHORIZED, 'Send the token as "Authorization: Bearer <token>".'
            )
        found = await database_sync_to_async(user_for_token)(token.strip())
        if found is None:
            raise ApiError(
                UNAUTHORIZED, "The token is unknown, revoked, or its user is inactive."
            )
        return found[0]
    user = await request.auser()
    if not user.is_authenticated:
        raise ApiError(
            UNAUTHORIZED,
            'Log in, or send a token as "Authorization: Bearer <token>" (POST /api/token).',
        )
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = _csrf_failure(request)
        if reason is not None:
            raise ApiError(ErrorCode.FORBIDDEN, f"CSRF check failed: {reason}")
    return user


View = Callable[..., Coroutine[Any, Any, HttpResponse]]


def api_view(*methods: str, authenticated: bool = True) -> Callable[[View], View]:
    """Method check, authentication and JSON errors around an async view
    `view(request, user, **kwargs)` (user is None when not authenticated)."""

    def decorate(view: View) -> View:
        @csrf_exempt  # checked in _authenticate, for session-authenticated writes
        @functools.wraps(view)
        async def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
            user = None
            try:
                if request.method not in methods:
                    raise ApiError(
                        METHOD_NOT_ALLOWED,
                        f"{request.method} is not allowed here; use {', '.join(methods)}.",
                        {"Allow": ", ".join(methods)},
                    )
                if authenticated:
                    user = await _authenticate(request)
                return await view(request, user, **kwargs)
            except (ApiError, FrameError) as exc:
                return _error_response(request, user, exc)
            except actions.PostRefused as exc:
                return _error_response(request, user, ApiError(exc.code, exc.detail))
            except DatabaseError as exc:
                log.warning("database error on %s: %s", request.path, exc)
                return _error_response(
                    request,
                    user,
                    ApiError(
                        ErrorCode.UNAVAILABLE,
                        "Storage is unavailable; nothing was stored. Send it again "
                        "(with the same client_id) in a moment.",
                    ),
                )
            except Exception:
                # A bug, or a backend failing in a way not foreseen: still a
                # JSON answer the client can act on, and the trace in the log.
                log.exception("API request %s %s failed", request.method, request.path)
                return _error_response(
                    request,
                    user,
                    ApiError(
                        ErrorCode.UNAVAILABLE,
                        "The server could not handle this request. Try again "
                        "(a post with the same client_id is stored at most once).",
                    ),
                )

        return wrapper

    return decorate


def _json_body(request: HttpRequest) -> dict:
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    limit = settings.CHAT_MAX_FRAME_BYTES
    if body is None or len(body) > limit:
        raise ApiError(ErrorCode.TOO_LONG, f"The request body is over {limit} bytes.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(
            ErrorCode.BAD_JSON, "The request body is not valid JSON."
        ) from None
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.BAD_FRAME, "The request body must be a JSON object.")
    return data


def _room(name: str) -> str:
    try:
        return canonical_room(name)
    except InvalidRoomName as exc:
        raise ApiError(NOT_FOUND, str(exc)) from None


def _positive_int(request: HttpRequest, name: str, default: int | None) -> int | None:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(ErrorCode.BAD_FRAME, f'"{name}" must be an integer.') from None


# --- the endpoints ---


@database_sync_to_async
def _issue_token(user) -> str:
    _row, token = ApiToken.objects.issue(user)
    return token


@api_view("POST", authenticated=False)
async def token(request: HttpRequest, _user) -> HttpResponse:
    """POST /api/token {"username", "password"} → 201 {"token", "username"}."""
    data = _json_body(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(
            ErrorCode.BAD_FRAME, '"username" and "password" must be strings.'
        )
    user = await aauthenticate(request, username=username, password=password)
    if user is None:
        raise ApiError(
            UNAUTHORIZED, "Wrong username or password, or an inactive account."
        )
    token = await _issue_token(user)
    log_event(log, "token_issued", user=user.get_username())
    return json_response({"token": token, "username": user.get_username()}, 201)


@database_sync_to_async
def _rooms() -> list[dict]:
    fields = ("name", "last_seq", "locked", "last_message_at")
    rows = Room.objects.order_by("name").values(*fields)
    return [
        dict(
            row,
            last_message_at=row["last_message_at"] and iso_ts(row["last_message_at"]),
        )
        for row in rows
    ]


@api_view("GET")
async def rooms(request: HttpRequest, _user) -> HttpResponse:
    """GET /api/rooms → {"rooms": [{"name", "last_seq", "locked", "last_message_at"}]}."""
    return json_response({"rooms": await _rooms()})


@database_sync_to_async
def _page(room: str, before: int | None, limit: int) -> tuple[list[dict], bool] | None:
    if not Room.objects.filter(name=room).exists():
        return None  # reading never creates a room
    return actions.history_page(room, before, limit)


async def _read_messages(request: HttpRequest, room: str) -> HttpResponse:
    before = _positive_int(request, "before", None)
    limit = cast(int, _positive_int(request, "limit", settings.CHAT_HISTORY_ON_CONNECT))
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    if before is not None and before < 1:
        raise ApiError(ErrorCode.BAD_FRAME, '"before" must be a positive integer.')
    if not 1 <= limit <= page_max:
        raise ApiError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    page = await _page(room, before, limit)
    if page is None:
        raise ApiError(NOT_FOUND, f"There is no room {room!r} yet.")
    messages, has_more = page
    return json_response({"room": room, "messages": messages, "has_more": has_more})


async def _post_message(request: HttpRequest, user, room: str) -> HttpResponse:
    post = parse_post(_json_body(request))
    message, created = await post_message(user, room, post.text, post.client_id)
    return json_response(message, 201 if created else 200)


@api_view("GET", "POST")
async def messages(request: HttpRequest, user, room: str) -> HttpResponse:
    """GET: a page of history, oldest first. POST: a post, as over the WebSocket."""
    name = _room(room)
    if request.method == "GET":
        return await _read_messages(request, name)
    return await _post_message(request, user, name)


@api_view("GET", authenticated=False)
async def schema(request: HttpRequest, _user) -> HttpResponse:
    return json_response(openapi_schema())


@api_view(
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", authenticated=False
)
async def not_found(request: HttpRequest, _user, **_kwargs) -> HttpResponse:
    raise ApiError(NOT_FOUND, f"No API endpoint at {request.path}; see /api/schema/.")
