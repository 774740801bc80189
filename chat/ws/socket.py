"""What every WebSocket of the server shares, v1 (chat.ws.v1) and v2
(chat.ws.v2): the connection state, the outbox, replies in frame
order, the frame size limit, refusals (sampled logs, the 1008 close after
too many), the rate limit, the cap on sockets per user, and the close.

A subclass connects (`connect`), handles one parsed frame (`handle`), and
cleans up (`leave`). It keeps the hot path of channels' consumer out: no
per-socket channel on the layer (the hub delivers), no task per frame.
"""

import asyncio
import itertools
import logging
from enum import Enum

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from chat import metrics
from chat.logfmt import log_event
from chat.protocol import events
from chat.protocol.v1 import ChatError, CloseCode, ErrorCode, storage_unavailable
from chat.realtime import drain
from chat.realtime.outbox import Outbox
from chat.realtime.replies import Replies
from chat.services import posting
from chat.services.posting import RateLimited
from chat.ws import limits

log = logging.getLogger("chat.consumers")

_conn_ids = itertools.count(1)


class SocketState(Enum):
    CONNECTING = "connecting"  # handshake, hello not sent yet
    OPEN = "open"  # frames are read and answered
    CLOSING = "closing"  # given up on (too slow, revoked, refused): frames ignored
    CLOSED = "closed"  # close sent, refused before accept, or disconnected


class BaseSocket(AsyncWebsocketConsumer):
    # Posts of one socket stored but not yet acknowledged; past it, reading
    # the socket's next frame waits for storage.
    posts_in_flight = 64

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state = SocketState.CONNECTING
        self.username = ""
        self.user_id = 0
        self.user = None
        self.credential: str | None = None  # "session:<key>" or "token:<id>"
        self.conn_id = str(next(_conn_ids))  # per process (state adds the process)
        self.where = "-"  # the room (v1) or "-" (v2), for log lines
        # Made when the server's send is known (__call__); used once accepted.
        self.outbox: Outbox
        self.replies: Replies
        self.accepted = False
        self._strikes = 0  # refused frames since the last accepted one
        self._errors = 0  # refused frames in all (for sampled logging)

    async def __call__(self, scope, receive, send) -> None:
        # channels' loop (await_many_dispatch) wraps every frame in a new task
        # and asyncio.wait()s on it, to listen to the client and a per-socket
        # layer channel at once. With no layer channel (the hub delivers), the
        # client is all there is to listen to: a plain loop does the same.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        self.outbox = Outbox(
            send,
            settings.CHAT_OUTBOX_MAX_BYTES,
            lambda: self.drop(CloseCode.TOO_SLOW, "too_slow"),
        )
        self.replies = Replies(self.outbox.push, self._refuse_failure_now)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message) -> None:
        # channels' dispatch first runs close_old_connections through
        # sync_to_async: one hop to the database thread per frame, waiting for
        # the GIL behind the fan-out. Every query here goes through
        # chat.store.db (database_sync_to_async), which does that clean-up in the
        # thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- the handshake ---

    def authenticated(self) -> bool:
        """Take the user the handshake established (chat.ws.handshake); False if none."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        self.user = user
        self.user_id = user.pk
        self.username = user.get_username()
        self.credential = self.scope.get("chat_credential")
        return True

    async def refuse_handshake(self, reason: str, detail: str | None = None) -> None:
        """Before accept: HTTP 403, its body saying why (chat.ws.limits)."""
        metrics.REFUSALS.labels(reason).inc()
        log_event(log, "refused", path=self.scope.get("path"), reason=reason)
        self.state = SocketState.CLOSED
        refused = limits.handshake_refusal(reason, detail)
        await limits.deny(self.scope, self.base_send, refused)

    async def over_socket_cap(self, held: int) -> bool:
        """Refuse (HTTP 429) a user already holding CHAT_MAX_SOCKETS_PER_USER
        sockets on this process; True if refused."""
        cap = settings.CHAT_MAX_SOCKETS_PER_USER
        if held < cap:
            return False
        metrics.REFUSALS.labels("too_many_sockets").inc()
        log_event(log, "refused", user=self.username, reason="too_many_sockets")
        self.state = SocketState.CLOSED
        refused = ChatError(
            ErrorCode.RATE_LIMITED,
            f"Too many open sockets for {self.username}: at most {cap}"
            " per server process. Close some first.",
        )
        await limits.deny(self.scope, self.base_send, refused)
        return True

    async def open(self) -> None:
        """Accept the socket; frames to the client may be pushed from here."""
        self.accepted = True
        await self.accept()
        drain.track(self)  # closed with 1012 when the server restarts
        metrics.CONNECTS.inc()
        metrics.OPEN_SOCKETS.inc()

    async def disconnect(self, code) -> None:
        self.state = SocketState.CLOSED
        drain.forget(self)
        if self.accepted:
            self.outbox.close()
            metrics.OPEN_SOCKETS.dec()
            metrics.DISCONNECTS.labels(code).inc()
            log_event(log, "disconnect", room=self.where, user=self.username, code=code)
            await self.leave()

    async def leave(self) -> None:
        """Leave the hub and presence; called once or more (must be idempotent)."""

    # --- frames from the client ---

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.state is not SocketState.OPEN:
            return  # closing: later frames are not read
        if text_data is None:
            self.refuse(
                ChatError(
                    ErrorCode.BAD_FRAME,
                    "Binary frames are not accepted; send JSON as text.",
                )
            )
            return
        limit = settings.CHAT_MAX_FRAME_BYTES
        if len(text_data) > limit or (
            len(text_data) * 4 > limit and len(text_data.encode()) > limit
        ):
            await self.close(code=CloseCode.MESSAGE_TOO_BIG)
            return
        try:
            await self.handle(text_data)
        except ChatError as exc:
            self.refuse(exc, **self.error_context(exc))
        except Exception as exc:
            self._refuse_failure(exc)

    async def handle(self, text: str) -> None:
        """Parse and answer one text frame (raise ChatError to refuse it)."""
        raise NotImplementedError

    def error_context(self, exc: Exception) -> dict:
        """Fields an error frame carries besides code and detail (v2: room,
        client_id)."""
        return {}

    def _refuse_failure_now(self, exc: Exception) -> None:
        self._refuse_failure(exc, now=True)

    def _refuse_failure(self, exc: Exception, now: bool = False, **context) -> None:
        """Answer a frame whose handling failed (called in an except block)."""
        if isinstance(exc, ChatError):  # e.g. a locked room, from storage
            self.refuse(exc, now=now, **context)
        elif isinstance(exc, DatabaseError):
            log.warning("database error in room %s: %s", self.where, exc)
            self.refuse(storage_unavailable(), now=now, **context)
        else:
            log.exception("frame in room %s failed", self.where)
            failed = ChatError(
                ErrorCode.UNAVAILABLE,
                "The server could not handle this frame; nothing was stored. Try again.",
            )
            self.refuse(failed, now=now, **context)

    async def take_token(self, **context) -> bool:
        """The per-user rate limit; a refusal counts toward the 1008 close."""
        try:
            await posting.take_token(self.user)
        except RateLimited as exc:
            self.refuse(exc, **context)
            return False
        self._strikes = 0
        return True

    def refuse(self, error: ChatError, now: bool = False, **context) -> None:
        """Answer a refused frame with an `error` frame of the error's code and
        detail (and `context`: v2's room, client_id); refused
        CHAT_RATE_LIMIT_CLOSE_AFTER times in a row (not for `unavailable`: not
        the client's fault), close 1008."""
        code = error.code
        metrics.ERRORS.labels(code).inc()
        self._errors += 1
        # Sampled: the 1st, 2nd, 4th, 8th... error of a socket (a flood of bad
        # frames wrote 17,903 lines in 3.4 s: issue 10).
        if self._errors & (self._errors - 1) == 0:
            log_event(
                log,
                "error",
                room=self.where,
                user=self.username,
                code=code,
                count=self._errors,
            )
        if code != ErrorCode.UNAVAILABLE:
            self._strikes += 1
            if self._strikes >= settings.CHAT_RATE_LIMIT_CLOSE_AFTER:
                if self.state is SocketState.OPEN:
                    self.state = SocketState.CLOSING
                    asyncio.create_task(self._close_for_refusals())
                return
        frame = events.error_frame(code.value, error.detail, **context)
        self.reply(frame, now=now)

    async def _close_for_refusals(self) -> None:
        log_event(log, "close", room=self.where, user=self.username, reason="refused")
        await self.replies.drain()  # the acks of posts already accepted go first
        await self.close(
            code=CloseCode.POLICY_VIOLATION,
            reason="Too many refused frames in a row.",
        )

    def reply(self, frame: dict, now: bool = False) -> None:
        """Answer the frame being handled, in the order of the frames."""
        self.replies.reply(events.encode(frame), now=now)

    # --- frames to the client ---

    def push_frame(self, frame: dict) -> None:
        self.outbox.push(events.encode(frame))

    def drop(self, code: int, why: str) -> None:
        """Close a socket the server gives up on (too slow, revoked).

        It leaves the hub and presence at once: the close frame itself may
        wait behind megabytes the client does not read, until the server's
        ping timeout ends the connection.
        """
        if self.state is SocketState.CLOSED or self.outbox.closed:
            return
        log_event(log, "close", room=self.where, user=self.username, reason=why)
        self.state = SocketState.CLOSING
        self.outbox.close()

        async def leave_then_close() -> None:
            await self.leave()
            try:
                await self.close(code=code)
            except Exception as exc:  # the connection died meanwhile
                log.debug("close in %s failed (%s)", self.where, exc)

        asyncio.create_task(leave_then_close())

    async def restart(self) -> None:
        """The server is restarting (chat/realtime/drain.py): no frame is taken any
        more, the acks of posts already taken and queued frames go first,
        then 1012; the client resumes on another process (a post it sent
        that was not taken is sent again with its client_id)."""
        if self.state is SocketState.OPEN:
            self.state = SocketState.CLOSING
        await self.replies.drain()
        await self.close(code=CloseCode.SERVICE_RESTART)

    def revoke(self) -> None:
        """Logged out, deactivated or token revoked: close with 4403."""
        self.drop(CloseCode.REVOKED, "revoked")

    async def close(self, code=None, reason=None) -> None:
        if self.state is SocketState.CLOSED:  # a second close is an ASGI error
            return
        self.state = SocketState.CLOSED
        if self.accepted:
            # Frames already queued (acks, the error that explains the close)
            # go first; a drop() closed the outbox, so a stalled socket is
            # not waited for.
            await self.outbox.flush(2.0)
            self.outbox.close()
        # A plain int: Daphne refuses an IntEnum as a close code.
        await super().close(code=int(code) if code is not None else None, reason=reason)
