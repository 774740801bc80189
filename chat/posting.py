"""The one way a post enters the room, for the WebSocket and the REST API alike:
rate limit → store (validated text, dedup by client_id, next seq) → publish
after commit.
"""

import logging

from channels.db import database_sync_to_async
from django.conf import settings

from . import actions, metrics
from .broadcast import publish_message
from .logfmt import log_event
from .protocol import ErrorCode, FrameError
from .state import get_state

log = logging.getLogger("chat.posting")

_store_post = database_sync_to_async(actions.store_post)


class RateLimited(FrameError):
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
        raise RateLimited()


async def post_message(
    user, room: str, text: str, client_id: str | None
) -> tuple[dict, bool]:
    """Store `text` (already validated by protocol.parse_post) in canonical
    `room` and publish it; return (the stored message frame, whether it is new).

    Raises RateLimited (a FrameError) or actions.PostRefused (a locked room);
    database errors propagate. A repeated client_id returns the message stored
    the first time and publishes nothing.
    """
    try:
        await take_token(user)
    except RateLimited:
        metrics.RATE_LIMITED.inc()
        raise
    message, created = await _store_post(room, user, text, client_id)
    if created:
        metrics.POSTS.inc()
        await publish_message(message)
    return message, created
