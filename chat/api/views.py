"""The API's own operations: its OpenAPI document and the token exchange.

The rooms and messages are rooms.py and messages.py. All are thin: parse
(ninja, from the signatures), call the same functions the WebSocket uses
(chat.services, chat.posting, chat.access), answer. Refusals are exceptions
that errors.py turns into `{"code": ..., "detail": ...}`. The ORM runs off
the event loop (database_sync_to_async), or in a sync view (which Django
runs in a thread).
"""

import logging

from channels.db import database_sync_to_async
from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from accounts import credentials as accounts_credentials

from ..logfmt import log_event
from ..protocol import ErrorCode
from . import schemas
from .errors import UNAUTHORIZED, ApiError

log = logging.getLogger("chat.api")

router = Router()


@router.api_operation(schemas.GET, "/schema", auth=None, include_in_schema=False)
def schema(request: HttpRequest):
    """The OpenAPI document (sync: building it is CPU work, kept off the loop)."""
    from .app import api

    return api.get_openapi_schema()


@router.post(
    "/token",
    auth=None,
    response={201: schemas.Token} | schemas.refusals(400, 413, 429),
    summary="Exchange a username and password for a new API token.",
)
async def create_token(request: HttpRequest, credentials: schemas.TokenRequest):
    """A new token each time; it is shown only once. Failed attempts are
    throttled per account and per address (429 with Retry-After). 401: a
    wrong username or password, or an inactive account."""
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
