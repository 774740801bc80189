"""The API's own operations: its OpenAPI document and API tokens (issue,
list, revoke).

The rooms and messages are rooms.py and messages.py. All are thin: parse
(ninja, from the signatures), call the same functions the WebSocket uses
(chat.services, chat.services.posting, chat.domain.access), answer. Refusals are exceptions
that errors.py turns into `{"code": ..., "detail": ...}`. The ORM runs off
the event loop through chat.store.db (writes on the one database thread, reads on
the pool), or in a sync view (which Django runs in a thread).
"""

import logging

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.responses import Status

from accounts import credentials as accounts_credentials
from accounts import tokens as account_tokens
from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.logfmt import log_event
from chat.protocol.v1 import ChatError, ErrorCode
from chat.store import db

log = logging.getLogger("chat.api")

router = Router()


@router.api_operation(schemas.GET, "/schema", auth=None, include_in_schema=False)
def schema(request: HttpRequest):
    """The OpenAPI document (sync: building it is CPU work, kept off the loop)."""
    from chat.http.api.app import api

    return api.get_openapi_schema()


@router.post(
    "/token",
    auth=None,
    response={201: schemas.Token} | schemas.refusals(400, 403, 413, 429),
    summary="Exchange a username and password for a new API token.",
)
async def create_token(request: HttpRequest, credentials: schemas.TokenRequest):
    """A new token each time; it is shown only once. Failed attempts are
    throttled per account and per address (429 with Retry-After). 401: a
    wrong username or password, or an inactive account. 403: the user holds
    CHAT_TOKENS_PER_USER tokens already (delete one first)."""
    address = request.META.get("REMOTE_ADDR", "")
    try:  # the hash runs on niced threads of its own (accounts/credentials.py)
        issue = db.slow(
            accounts_credentials.issue_token,
            executor=accounts_credentials.password_executor(),
        )
        issued = await issue(credentials.username, credentials.password, address)
    except accounts_credentials.LoginThrottled as exc:
        raise ChatError(
            ErrorCode.RATE_LIMITED, exc.detail, retry_after=exc.retry_after
        ) from None
    except accounts_credentials.CredentialsRefused as exc:
        raise ChatError(ErrorCode.UNAUTHORIZED, exc.detail) from None
    except accounts_credentials.TokenLimitReached as exc:
        raise ChatError(ErrorCode.FORBIDDEN, exc.detail) from None
    log_event(log, "token_issued", user=issued.username)
    return Status(201, {"token": issued.token, "username": issued.username})


@router.api_operation(
    schemas.GET,
    "/tokens",
    response={200: schemas.TokenList} | schemas.refusals(),
    summary="Your live API tokens (not the tokens themselves).",
)
async def list_tokens(request: HttpRequest):
    """Newest first: id, created_at, expires_at (null: no expiry). A token is
    shown once, when it is made; only its digest is stored."""
    listed = await db.reads(account_tokens.list_tokens)(caller(request))
    return {"tokens": listed}


@router.delete(
    "/tokens/{token_id}",
    response={204: None} | schemas.refusals(400, 404),
    summary="Revoke one of your tokens.",
)
async def revoke_token(request: HttpRequest, token_id: int):
    """Its sockets close with 4403 on every process; it stops working at once.
    404: you have no token with this id."""
    revoked = await db.writes(account_tokens.revoke_token)(caller(request), token_id)
    if not revoked:
        raise ChatError(ErrorCode.NOT_FOUND, f"You have no token {token_id}.")
    return HttpResponse(status=204)
