"""Who is on the other end of a WebSocket handshake, decided before accept.

- `Authorization: Bearer <token>`: an API token (bots, scripts). No Origin, or
  an allowed one; a foreign Origin is refused.
- Otherwise the Django session cookie, and then the Origin must be allowed:
  browsers send cookies to any site's socket, so a cookie without a matching
  Origin would let another site chat as the user (cross-site WebSocket
  hijacking).
Anything else is refused with HTTP 403 here, before any consumer runs.
"""

import logging
from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host

from chat import metrics
from chat.logfmt import log_event
from chat.protocol.v1 import CloseCode
from chat.store import batching
from chat.ws import limits

log = logging.getLogger("chat.auth")


def origin_allowed(origin: str, scope: dict) -> bool:
    """The Origin is exactly (scheme, host, port) one listed in
    CSRF_TRUSTED_ORIGINS, or exactly the handshake's own site: the scheme
    the socket came in on (ws -> http, wss -> https; behind a TLS proxy,
    X-Forwarded-Proto through uvicorn's proxy headers) and its Host, when
    that host is in ALLOWED_HOSTS. `http://` or another port of an allowed
    host is another origin (RFC 6454), as for Django's CSRF check."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    own = _own_origin(scope)
    if own is None or origin.lower() != own.lower():
        return False
    host, _port = split_domain_port(parts.netloc)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(host) and validate_host(host, allowed)


def _own_origin(scope: dict) -> str | None:
    """scheme://host[:port] the handshake was addressed to (default ports
    left out, as browsers write Origin)."""
    host = _header(scope, b"host")
    if not host:
        return None
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    default = ":443" if scheme == "https" else ":80"
    if host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class TokenOrSessionAuthMiddleware:
    """Runs inside channels' AuthMiddlewareStack (which resolved the session
    user); replaces it with the token's user when a bearer token is sent."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        reason, scope = await self._authenticate(scope)
        if reason is not None:
            metrics.REFUSALS.labels(reason).inc()
            log_event(log, "refused", path=scope.get("path"), reason=reason)
            return await limits.refuse(scope, receive, send, reason)
        return await self.inner(scope, receive, send)

    async def _authenticate(self, scope) -> tuple[str | None, dict]:
        origin = _header(scope, b"origin")
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return "malformed_authorization", scope
            if origin is not None and not origin_allowed(origin, scope):
                return "foreign_origin", scope
            # With the other handshakes of the moment, in one query
            # (chat.store.batching; docs/performance.md, connect).
            found = await batching.user_for_token(token.strip())
            if found is None:
                return "bad_token", scope
            user, token_id = found
            return None, dict(scope, user=user, chat_credential=f"token:{token_id}")
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return "anonymous", scope
        if origin is None or not origin_allowed(origin, scope):
            return "foreign_origin" if origin else "missing_origin", scope
        session = scope.get("session")
        credential = f"session:{session.session_key}" if session else None
        return None, dict(scope, chat_credential=credential)


class _SessionUnlessBearer:
    """A bearer-token handshake skips channels' cookie, session and auth
    middleware: their user lookup is one more database-thread hop per
    connect, and the session wrapper runs on every frame the socket is sent
    (docs/performance.md). Cookie handshakes go through them as before."""

    def __init__(self, token_app, session_app) -> None:
        self.token_app = token_app
        self.session_app = session_app

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "websocket"
            and _header(scope, b"authorization") is not None
        ):
            return await self.token_app(scope, receive, send)
        return await self.session_app(scope, receive, send)


class _StorageDownAs1011:
    """The handshake's database lookups (token, session, user) failing is
    the server's fault, not a refusal: accept, then close with 1011 (the
    client retries later, docs/protocol.md), instead of the ASGI server's
    HTTP 500 page."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        sent: set[str] = set()

        async def tracked_send(message) -> None:
            sent.add(message["type"])
            await send(message)

        try:
            return await self.inner(scope, receive, tracked_send)
        except DatabaseError as exc:
            if sent:  # the consumer was under way: let the server see it
                raise
            metrics.REFUSALS.labels("storage_unavailable").inc()
            log_event(
                log,
                "refused",
                logging.WARNING,
                path=scope.get("path"),
                reason="storage_unavailable",
                error=str(exc)[:200],
            )
            message = await receive()
            if message["type"] != "websocket.connect":
                return
            await send({"type": "websocket.accept"})
            await send(
                {
                    "type": "websocket.close",
                    "code": CloseCode.SERVER_ERROR,
                    "reason": "Storage is unavailable; reconnect in a moment.",
                }
            )


def ChatAuthMiddlewareStack(inner):
    checked = TokenOrSessionAuthMiddleware(inner)
    return _StorageDownAs1011(
        _SessionUnlessBearer(checked, AuthMiddlewareStack(checked))
    )
