"""The one way a post enters the room, for the WebSocket and the REST API alike:
rate limit → store (validated text, dedup by client_id, next seq; batched with
the other posts of the moment, chat.store.batching) → publish after commit.

`post_message` does all three. The WebSocket consumer calls the steps itself
(take_token, submit, finish) so that it can read a socket's next frames while
its earlier posts are being stored.
"""

import asyncio
import logging

from django.conf import settings

from chat import metrics
from chat.logfmt import log_event
from chat.protocol.v1 import ChatError, ErrorCode
from chat.realtime.hub import publish_message
from chat.realtime.state import get_state
from chat.store import batching

log = logging.getLogger("chat.posting")


class RateLimited(ChatError):
    """The user's token bucket is empty; nothing was stored."""

    def __init__(self) -> None:
        rate = settings.CHAT_RATE_LIMIT_PER_SECOND
        super().__init__(
            ErrorCode.RATE_LIMITED,
            f"Too many messages: at most {rate:g} a second. Wait and send again.",
        )


async def take_token(user) -> None:
    """One token from the user's bucket (shared by all its sockets and API
    calls), or RateLimited."""
    if not await get_state().take_token(user.pk):
        log_event(log, "rate_limited", user=user.get_username())
        metrics.RATE_LIMITED.inc()
        raise RateLimited()


def submit(
    user,
    room: str,
    text: str,
    client_id: str | None,
    reply_to: int | None = None,
    attachments: tuple = (),
) -> asyncio.Future:
    """Queue a post for storage; the future gets (message frame, is new) once
    committed, or the storage error (a ChatError, DatabaseError).
    `reply_to`: a message's seq (refused with not_found if there is none).
    `attachments`: Upload rows of the poster's (services.uploads.owned_uploads)."""
    return batching.submit(room, user, text, client_id, reply_to, attachments)


async def finish(message: dict, created: bool) -> None:
    """After commit: count and publish a new post (a repeat publishes nothing)."""
    if created:
        metrics.POSTS.inc()
        await publish_message(message)


async def post_message(
    user,
    room: str,
    text: str,
    client_id: str | None,
    reply_to: int | None = None,
    attachments: tuple = (),
) -> tuple[dict, bool]:
    """Store `text` (already validated by protocol.parse_post) in canonical
    `room` and publish it; return (the stored message frame, whether it is new).

    Raises RateLimited or another ChatError (a locked room);
    database errors propagate. A repeated client_id returns the message stored
    the first time and publishes nothing.
    """
    await take_token(user)
    message, created = await submit(user, room, text, client_id, reply_to, attachments)
    await finish(message, created)
    return message, created
