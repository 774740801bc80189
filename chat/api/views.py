"""JSON over HTTP for bots and scripts, next to the WebSocket (docs/api.md).

Thin views: parse (ninja, from the signatures), call the same functions the
WebSocket uses, answer. A post here goes through chat.posting.post_message
like a WebSocket post: same validation, rate limit, dedup, seq and
broadcast. Refusals are exceptions that errors.py turns into
`{"code": ..., "detail": ...}`. The ORM runs off the event loop
(database_sync_to_async), or in a sync view (which Django runs in a thread).
"""

import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import HttpRequest
from ninja import Path, Query, Router
from ninja.responses import Status

from accounts import credentials as accounts_credentials

from .. import actions, posting
from ..events import iso_ts
from ..logfmt import log_event
from ..models import Room
from ..protocol import ErrorCode, parse_post
from ..rooms import InvalidRoomName, canonical_room
from . import schemas
from .errors import NOT_FOUND, UNAUTHORIZED, ApiError

log = logging.getLogger("chat.api")

router = Router()

# Documented refusals, per operation (bodies are schemas.Error).
AUTH_ERRORS = {401: schemas.Error, 503: schemas.Error}
GET = ["GET", "HEAD"]


def _room(name: str) -> str:
    try:
        return canonical_room(name)
    except InvalidRoomName as exc:
        raise ApiError(NOT_FOUND, str(exc)) from None


@router.api_operation(GET, "/schema", auth=None, include_in_schema=False)
def schema(request: HttpRequest):
    """The OpenAPI document (sync: building it is CPU work, kept off the loop)."""
    from .app import api

    return api.get_openapi_schema()


@router.post(
    "/token",
    auth=None,
    response={201: schemas.Token, 400: schemas.Error, 401: schemas.Error}
    | {413: schemas.Error, 429: schemas.Error, 503: schemas.Error},
    summary="Exchange a username and password for a new API token.",
)
async def create_token(request: HttpRequest, credentials: schemas.TokenRequest):
    """A new token each time; it is shown only once. Failed attempts are
    throttled per account and per address (429 with Retry-After)."""
    address = request.META.get("REMOTE_ADDR", "")
    try:  # the password hash runs in a thread of the pool (accounts/credentials.py)
        issued = await database_sync_to_async(
            accounts_credentials.issue_token, thread_sensitive=False
        )(credentials.username, credentials.password, address)
    except accounts_credentials.LoginThrottled as exc:
        raise ApiError(
            ErrorCode.RATE_LIMITED, exc.detail, {"Retry-After": str(exc.retry_after)}
        ) from None
    except accounts_credentials.CredentialsRefused as exc:
        raise ApiError(UNAUTHORIZED, exc.detail) from None
    log_event(log, "token_issued", user=issued.username)
    return Status(201, {"token": issued.token, "username": issued.username})


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


@router.api_operation(
    GET,
    "/rooms",
    response={200: schemas.RoomList} | AUTH_ERRORS,
    summary="Every room, by name.",
)
async def list_rooms(request: HttpRequest):
    return {"rooms": await _rooms()}


@database_sync_to_async
def _page(
    room: str, before: int | None, after: int | None, limit: int
) -> tuple[list[dict], bool] | None:
    if not Room.objects.filter(name=room).exists():
        return None  # reading never creates a room
    if after is None:
        return actions.history_page(room, before, limit)
    upto = None if before is None else before - 1
    messages = actions.messages_after(room, after, upto, limit + 1)
    return messages[:limit], len(messages) > limit


@router.api_operation(
    GET,
    "/rooms/{room}/messages",
    response={200: schemas.MessagePage, 400: schemas.Error, 404: schemas.Error}
    | AUTH_ERRORS,
    exclude_unset=True,
    summary="A page of a room's messages, oldest first.",
)
async def list_messages(
    request: HttpRequest, path: Path[schemas.RoomPath], query: Query[schemas.PageQuery]
):
    """Without `after`: the newest `limit` messages with seq < before (all,
    without `before`); page back by passing the first seq you got as the next
    `before`. With `after`: the oldest `limit` messages with seq > after (and
    < before, when given); page forward by passing the last seq you got as
    the next `after`. `has_more` says whether more exist past the page."""
    name = _room(path.room)
    before, after, limit = query.before, query.after, query.limit
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    if limit is None:
        limit = settings.CHAT_HISTORY_ON_CONNECT
    if limit > page_max:
        raise ApiError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    page = await _page(name, before, after, limit)
    if page is None:
        raise ApiError(NOT_FOUND, f"There is no room {name!r} yet.")
    found, has_more = page
    return {"room": name, "messages": found, "has_more": has_more}


@router.post(
    "/rooms/{room}/messages",
    response={201: schemas.Message, 200: schemas.Message}
    | {400: schemas.Error, 403: schemas.Error, 404: schemas.Error}
    | {413: schemas.Error, 429: schemas.Error}
    | AUTH_ERRORS,
    exclude_unset=True,
    summary="Post a message, stored and broadcast exactly like a WebSocket post.",
)
async def post_message(
    request: HttpRequest, path: Path[schemas.RoomPath], body: schemas.Post
):
    """Same seq, rate limit, dedup and validation as a WebSocket post. 201:
    stored; 200: a repeated client_id, the message stored the first time."""
    name = _room(path.room)
    frame = parse_post({"message": body.message, "client_id": body.client_id})
    message, created = await posting.post_message(
        request.auth, name, frame.text, frame.client_id
    )
    return Status(201 if created else 200, message)
