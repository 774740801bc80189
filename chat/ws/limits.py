"""Limits on sockets, decided before a handshake is accepted.

- Handshakes per address per minute (CHAT_HANDSHAKES_PER_MINUTE): checked by
  `HandshakeLimit`, the outermost WebSocket middleware, before the token or
  session is looked up, so a flood of handshakes costs no database query.
- Sockets per user (CHAT_MAX_SOCKETS_PER_USER): checked by the consumers
  against the sockets this process's hub holds for the user.

Both are counted per server process (in memory, with the hub): one more
shared-state round trip per connect would cost more than it protects, and
with N workers an address or a user gets at most N times the limit. Both
refuse with HTTP 429, a `Retry-After` and a JSON body `{"code", "detail"}`
where the server supports the ASGI `websocket.http.response` extension
(uvicorn); elsewhere (Daphne, channels' test communicator) with a close
before accept, which the server answers as HTTP 403.
"""

import logging
import math
import time

import orjson
from django.conf import settings

from chat import metrics
from chat.logfmt import log_event
from chat.loops import per_loop
from chat.protocol.v1 import ChatError, ErrorCode

log = logging.getLogger("chat.limits")


async def deny(scope, send, error: ChatError) -> None:
    """Refuse a handshake before accept, saying why when the server can: the
    error's status, `Retry-After` and body `{"code", "detail"}`, as the API."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        headers = [(b"content-type", b"application/json")]
        if error.retry_after is not None:
            headers.append((b"retry-after", str(error.retry_after).encode()))
        await send(
            {
                "type": "websocket.http.response.start",
                "status": error.status,
                "headers": headers,
            }
        )
        body = orjson.dumps(error.as_dict())
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close"})


# Why a handshake was refused, by the reason its log line and metric carry.
# The body of the HTTP 403 says it (uvicorn; Daphne cannot send a body and
# answers a bare 403). The access rule's refusal is said by the caller,
# with the room's name, as HTTP says it (chat.services.errors.no_room).
_WHY = {
    "bad_room": "That is not a room name: 1 to 64 ASCII letters, digits, - or _.",
    "bad_since": "since must be a whole number, 0 or more.",
    "anonymous": "Log in first, or send Authorization: Bearer <token> "
    "(POST /api/v1/token gives one).",
    "malformed_authorization": "The Authorization header must be 'Bearer <token>'.",
    "bad_token": "The token is not valid: mistyped, revoked, or its user deactivated.",
    "foreign_origin": "Sockets may be opened only from this chat's own pages "
    "(the Origin header is another site's).",
    "missing_origin": "A browser session must send the Origin of this chat's "
    "own pages.",
    "no_route": "No socket here: connect to /ws/ (one socket per user) or "
    "/ws/chat/<room>/.",
}


def handshake_refusal(reason: str, detail: str | None = None) -> ChatError:
    """The 403 for a refused handshake: `detail`, or what `reason` means."""
    return ChatError(ErrorCode.FORBIDDEN, detail or _WHY[reason])


async def refuse(scope, receive, send, reason: str) -> None:
    """An ASGI answer to a handshake refused before any consumer ran: wait
    for websocket.connect, then 403 saying why."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await deny(scope, send, handshake_refusal(reason))


class _Window:
    """Handshakes per address in the current minute (a fixed window)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.counts: dict[str, int] = {}

    def take(self, address: str, limit: int) -> float | None:
        """Count one handshake; None if allowed, else seconds to wait."""
        now = time.monotonic()
        if now - self.started >= 60.0:
            self.started, self.counts = now, {}
        count = self.counts.get(address, 0) + 1
        self.counts[address] = count
        if count > limit:
            return 60.0 - (now - self.started)
        return None


_window = per_loop(_Window)


class HandshakeLimit:
    """ASGI middleware: at most CHAT_HANDSHAKES_PER_MINUTE WebSocket
    handshakes per client address per minute, per process (0: no limit)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        limit = settings.CHAT_HANDSHAKES_PER_MINUTE
        client = scope.get("client")
        if scope["type"] == "websocket" and limit > 0 and client:
            wait = _window().take(client[0], limit)
            if wait is not None:
                await receive()  # websocket.connect
                metrics.REFUSALS.labels("too_many_handshakes").inc()
                log_event(
                    log,
                    "refused",
                    path=scope.get("path"),
                    reason="too_many_handshakes",
                )
                refused = ChatError(
                    ErrorCode.RATE_LIMITED,
                    f"Too many connections from your address: at most {limit}"
                    " a minute. Wait and connect again.",
                    retry_after=max(1, math.ceil(wait)),
                )
                await deny(scope, send, refused)
                return
        return await self.inner(scope, receive, send)
