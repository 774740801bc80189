"""Request bodies refused past their limit before they are read whole.

Django's ASGI handler reads the whole body (spooled to a temporary file past
FILE_UPLOAD_MAX_MEMORY_SIZE) before any view runs, so a view's own size
check came after 193 MiB were spooled. This ASGI middleware answers 413 from
the Content-Length alone, or, for a body sent without one (chunked), as soon
as the bytes received pass the limit; the application then sees the client
go away and never gets the rest.

Limits: CHAT_MAX_FRAME_BYTES under /api/ (a JSON body is one post, like a
frame), except uploads (CHAT_UPLOAD_MAX_BYTES and room for the multipart
envelope); CHAT_MAX_BODY_BYTES elsewhere (forms, the admin).
"""

import orjson
from django.conf import settings

from chat.protocol.v1 import ChatError, ErrorCode

# Bytes a multipart body adds around the file (boundaries, headers).
UPLOAD_ENVELOPE = 64 * 1024


def body_limit(path: str) -> int:
    if path.startswith("/api/"):
        if path.rstrip("/") in ("/api/v1/uploads", "/api/uploads"):
            return settings.CHAT_UPLOAD_MAX_BYTES + UPLOAD_ENVELOPE
        return settings.CHAT_MAX_FRAME_BYTES
    return settings.CHAT_MAX_BODY_BYTES


def _content_length(scope) -> int | None:
    """The Content-Length header, or None; -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else -1
    return None


async def _too_large(scope, send, limit: int) -> None:
    refused = ChatError(ErrorCode.TOO_LONG, f"The request body is over {limit} bytes.")
    if scope["path"].startswith("/api/"):
        body = orjson.dumps(refused.as_dict())
        content_type = b"application/json"
    else:
        body, content_type = refused.detail.encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        length = _content_length(scope)
        if length is not None and not 0 <= length <= limit:
            return await _too_large(scope, send, limit)
        received = 0
        over = started = False

        async def limited_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}  # the app stops reading
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            if over and not started:
                return  # the 413 below answers instead
            started = True
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if over and not started:
            await _too_large(scope, send, limit)
