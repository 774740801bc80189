"""Where a message enters: the WebSocket consumer at /ws/chat/<room>/.

A consumer is a view for WebSockets: parse the frame, authorise it, call an
action (chat.actions), reply, and publish (chat.broadcast) after commit.

Outgoing frames go through a per-socket outbox in order. Room messages carry
a seq; `deliver` passes them on strictly in seq order, drops ones already
sent, and fills any gap from the database, so a socket sees every message
exactly once whichever process stored it and whatever the layer dropped.
"""

import asyncio
import itertools
import logging
from collections import deque
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from . import actions, drain, events, metrics, posting
from .broadcast import get_hub, publish_presence, publish_typing
from .logfmt import log_event
from .posting import RateLimited
from .protocol import (
    CloseCode,
    ErrorCode,
    FrameError,
    HistoryFrame,
    PostFrame,
    TypingFrame,
    parse_frame,
)
from .rooms import InvalidRoomName, canonical_room
from .services.rooms import open_v1_room
from .state import get_state

log = logging.getLogger("chat.consumers")

# A read, so off the one database thread that stores posts (a burst of
# connects no longer queues behind it, nor it behind them).
connect_snapshot = database_sync_to_async(
    actions.connect_snapshot, thread_sensitive=False
)
history_page = database_sync_to_async(actions.history_page)
# The access rule (chat.access): private rooms and DMs refuse non-members.
open_room = database_sync_to_async(open_v1_room, thread_sensitive=False)
messages_after = database_sync_to_async(actions.messages_after)


_conn_ids = itertools.count(1)


def parse_since(query_string: bytes) -> int | None:
    """`since` from the query string: None when absent, ValueError when bad."""
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get(
        "since"
    )
    if not values:
        return None
    since = int(values[-1])
    if since < 0:
        raise ValueError("since must not be negative")
    return since


class ChatConsumer(AsyncWebsocketConsumer):
    # No per-socket channel on the layer: the process's RoomHub holds the one
    # subscription per room and calls deliver()/push() on local sockets.
    # Posts of one socket stored but not yet acknowledged; past it, reading
    # the socket's next frame waits for storage.
    posts_in_flight = 64

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.room = ""
        self.username = ""
        self.user_id = 0
        self.credential: str | None = None  # "session:<key>" or "token:<id>"
        self.last_seq: int | None = None  # None while connecting: buffer
        self.online_sent: list[str] | None = None  # the last presence list sent
        self._joined = False
        self._closed = False
        self._close_sent = False
        self._early: list[tuple[int, str]] = []
        self._early_deleted: list[str] = []
        self._ahead: dict[int, str] = {}
        self._catch_up_requested = False
        self._filling = False
        self._outbox: deque[str] = deque()
        self._outbox_max = settings.CHAT_OUTBOX_MAX
        self._writer: asyncio.Task | None = None
        self._strikes = 0
        # Replies in frame order: a post's (frame, future of its commit), or
        # the text of a reply to a later frame, waiting behind that post.
        self._replies: deque[tuple[PostFrame, asyncio.Future] | str] = deque()
        self._pending_posts = 0
        self._finisher: asyncio.Task | None = None
        self._restarting = False  # chat.drain: frames are no longer taken

    async def __call__(self, scope, receive, send) -> None:
        # channels' loop (await_many_dispatch) wraps every frame in a new task
        # and asyncio.wait()s on it, to listen to the client and a per-socket
        # layer channel at once. With no layer channel (the hub delivers), the
        # client is all there is to listen to: a plain loop does the same.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message) -> None:
        # channels' dispatch first runs close_old_connections through
        # sync_to_async: one hop to the database thread per frame, waiting for
        # the GIL behind the fan-out. Every query here goes through
        # database_sync_to_async, which does that clean-up in the thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connect / disconnect ---

    async def connect(self) -> None:
        user = self.scope.get("user")
        try:
            room = canonical_room(self.scope["url_route"]["kwargs"]["room"])
            since = parse_since(self.scope.get("query_string", b""))
        except InvalidRoomName:
            await self._refuse_handshake("bad_room")
            return
        except ValueError:
            await self._refuse_handshake("bad_since")
            return
        if user is None or not user.is_authenticated:
            await self._refuse_handshake("anonymous")
            return
        if await open_room(user, room) is None:  # as for a bad name: 403
            await self._refuse_handshake("not_found")
            return
        self.room = room
        self.user = user
        self.user_id = user.pk
        self.username = user.get_username()
        self.credential = self.scope.get("chat_credential")
        self.conn_id = str(next(_conn_ids))  # per process (state adds the process)
        await self.accept()
        drain.track(self)
        metrics.CONNECTS.inc()
        metrics.OPEN_SOCKETS.inc()

        self.hub = get_hub()
        await self.hub.join(self)  # from here, live messages are buffered
        self._joined = True
        state = get_state()
        try:
            snapshot = self.hub.recent_snapshot(room, since)
            if snapshot is None:
                deletions = self.hub.deletions
                snapshot = await connect_snapshot(room, since)
                self.hub.seed_page(room, snapshot, deletions)
            came_online, online = await state.join(room, self.username, self.conn_id)
        except Exception:
            log.exception("connect to %s failed", room)
            await self.close(code=CloseCode.SERVER_ERROR)
            return
        self.push_frame(
            events.hello_frame(
                room=room,
                username=self.username,
                online=online,
                last_seq=snapshot.last_seq,
            )
        )
        self.push(snapshot.history_text())
        self.last_seq = snapshot.last_seq
        self.online_sent = online
        self.hub.note_seq(room, snapshot.last_seq)
        early, self._early = self._early, []
        for seq, text in early:
            self.deliver(seq, text)
        # Deletions that came while connecting may be newer than the snapshot.
        early_deleted, self._early_deleted = self._early_deleted, []
        for text in early_deleted:
            self.push(text)
        log_event(log, "connect", room=room, user=self.username, since=since)
        if came_online:
            await publish_presence(room)
        else:  # the list may have changed since it was read for hello
            self.hub.refresh_presence(room)

    async def _refuse_handshake(self, reason: str) -> None:
        metrics.REFUSALS.labels(reason).inc()
        log_event(log, "refused", path=self.scope.get("path"), reason=reason)
        await self.close()  # before accept: HTTP 403

    async def disconnect(self, code) -> None:
        self._closed = self._close_sent = True
        self._outbox.clear()
        drain.forget(self)
        if self.room:  # accepted
            metrics.OPEN_SOCKETS.dec()
            metrics.DISCONNECTS.labels(code).inc()
            log_event(log, "disconnect", room=self.room, user=self.username, code=code)
        await self._leave()

    async def _leave(self) -> None:
        """Leave the hub and presence, once (on disconnect, or on a drop)."""
        if not self._joined:
            return
        self._joined = False
        await self.hub.leave(self)
        try:
            went_offline = await get_state().leave(
                self.room, self.username, self.conn_id
            )
            if went_offline:
                await publish_presence(self.room)
        except Exception as exc:
            log.warning("presence leave for %s failed (%s)", self.room, exc)

    def drop(self, code: int, why: str) -> None:
        """Close a socket the server gives up on (too slow, revoked).

        It leaves the room and presence at once: the close frame itself may
        wait behind megabytes the client does not read, until the server's
        ping timeout ends the connection.
        """
        if self._close_sent:
            return
        log_event(log, "close", room=self.room, user=self.username, reason=why)
        self._closed = True
        self._outbox.clear()

        async def leave_then_close() -> None:
            await self._leave()
            try:
                await self.close(code=code)
            except Exception as exc:  # the connection died meanwhile
                log.debug("close in %s failed (%s)", self.room, exc)

        asyncio.create_task(leave_then_close())

    # --- frames from the client ---

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self._restarting:  # closing with 1012: unacked posts are sent again
            return
        if text_data is None:
            self.refuse(
                ErrorCode.BAD_FRAME,
                "Binary frames are not accepted; send JSON as text.",
            )
            return
        limit = settings.CHAT_MAX_FRAME_BYTES
        if len(text_data) > limit or (
            len(text_data) * 4 > limit and len(text_data.encode()) > limit
        ):
            await self.close(code=CloseCode.MESSAGE_TOO_BIG)
            return
        try:
            frame = parse_frame(text_data)
            if isinstance(frame, PostFrame):
                await self._post(frame)
            elif isinstance(frame, TypingFrame):
                await self._typing()
            elif isinstance(frame, HistoryFrame):
                await self._history(frame)
        except FrameError as exc:
            self.refuse(exc.code, exc.detail)
        except Exception as exc:
            self._refuse_failure(exc)

    def _refuse_failure(self, exc: Exception, now: bool = False) -> None:
        """Answer a frame whose handling failed (called in an except block)."""
        if isinstance(exc, DatabaseError):
            log.warning("database error in room %s: %s", self.room, exc)
            self.refuse(
                ErrorCode.UNAVAILABLE,
                "Storage is unavailable; nothing was stored. Send it again "
                "(with the same client_id) in a moment.",
                now=now,
            )
        else:
            log.exception("frame in room %s failed", self.room)
            self.refuse(
                ErrorCode.UNAVAILABLE,
                "The server could not handle this frame; nothing was stored. Try again.",
                now=now,
            )

    async def _take_token(self) -> bool:
        """The per-user rate limit; kept up long after, the socket is closed."""
        try:
            await posting.take_token(self.user)
        except RateLimited as exc:
            await self._rate_limited(exc)
            return False
        self._strikes = 0
        return True

    async def _rate_limited(self, exc: RateLimited) -> None:
        self._strikes += 1
        if self._strikes >= settings.CHAT_RATE_LIMIT_CLOSE_AFTER:
            log_event(
                log, "close", room=self.room, user=self.username, reason="rate_limit"
            )
            if self._finisher is not None:
                await self._finisher  # the acks of posts already accepted go first
            await self.close(code=CloseCode.POLICY_VIOLATION)
        else:
            self.refuse(exc.code, exc.detail)

    async def _post(self, frame: PostFrame) -> None:
        if not await self._take_token():
            return
        # Queued for storage now, in this socket's order. The commit is awaited
        # in _finish_replies, so the socket's next frames are read meanwhile and
        # a burst is stored in one transaction (chat.batching).
        stored = posting.submit(self.user, self.room, frame.text, frame.client_id)
        self._replies.append((frame, stored))
        self._pending_posts += 1
        if self._finisher is None:
            self._finisher = asyncio.create_task(self._finish_replies())
        if self._pending_posts > self.posts_in_flight:
            await asyncio.wait([stored])  # a flood waits for storage

    async def _finish_replies(self) -> None:
        """Answer this socket's frames in the order they came: each post's
        ack after its commit, and any reply queued behind it after that."""
        try:
            while self._replies:
                item = self._replies[0]  # stays queued until answered, so
                try:  # that replies to later frames wait behind it
                    if isinstance(item, str):
                        self.push(item)
                    else:
                        frame, stored = item
                        try:
                            await self._posted(frame, stored)
                        except Exception as exc:
                            self._refuse_failure(exc, now=True)
                finally:
                    self._replies.popleft()
                    if not isinstance(item, str):
                        self._pending_posts -= 1
        finally:
            self._finisher = None

    async def _posted(self, frame: PostFrame, stored: asyncio.Future) -> None:
        try:
            message, created = await stored
        except actions.PostRefused as exc:
            self.refuse(exc.code, exc.detail, now=True)
            return
        if frame.client_id is not None:
            self.push_frame(
                events.ack_frame(client_id=frame.client_id, seq=message["seq"])
            )
        await posting.finish(message, created)

    async def _typing(self) -> None:
        if await get_state().typing_allowed(self.user_id, self.room):
            await publish_typing(self.room, self.username)

    async def _history(self, frame: HistoryFrame) -> None:
        if not await self._take_token():
            return
        messages, has_more = await history_page(self.room, frame.before, frame.limit)
        self._reply(
            events.history_frame(
                messages=messages, complete=not has_more, has_more=has_more
            )
        )

    def refuse(self, code: str, detail: str, now: bool = False) -> None:
        metrics.ERRORS.labels(code).inc()
        log_event(log, "error", room=self.room, user=self.username, code=code)
        self._reply(events.error_frame(str(code), detail), now=now)

    def _reply(self, frame: dict, now: bool = False) -> None:
        """Answer the frame being handled: behind this socket's posts still
        waiting for their commit, so replies keep the order of the frames
        (`now`: from the finisher itself, whose turn it is)."""
        text = events.encode(frame)
        if self._replies and not now:
            self._replies.append(text)
        else:
            self.push(text)

    # --- frames to the client (called by this consumer and by the RoomHub) ---

    def deliver(self, seq: int, text: str) -> None:
        """Pass room message `seq` on in order, once; fill gaps from the database."""
        if self.last_seq is None:
            self._early.append((seq, text))
        elif seq <= self.last_seq:
            return
        elif seq == self.last_seq + 1 and not self._filling:
            self.last_seq = seq
            self.push(text)
        else:
            self._ahead[seq] = text
            self._start_fill()

    def deleted(self, text: str) -> None:
        """A moderator deleted a message of this room (a `deleted` frame)."""
        if self.last_seq is None:
            self._early_deleted.append(text)  # after hello and history
        else:
            self.push(text)

    def catch_up(self) -> None:
        """The layer may have dropped messages: read what is past last_seq."""
        if self.last_seq is not None and not self._closed:
            self._catch_up_requested = True
            self._start_fill()

    def _start_fill(self) -> None:
        if not self._filling:
            self._filling = True
            asyncio.create_task(self._fill())

    async def _fill(self) -> None:
        limit = settings.CHAT_RESUME_MAX
        try:
            while (self._ahead or self._catch_up_requested) and not self._closed:
                assert self.last_seq is not None  # set at hello, before any fill
                upto = None if self._catch_up_requested else max(self._ahead)
                self._catch_up_requested = False
                rows = await messages_after(self.room, self.last_seq, upto, limit)
                for frame in rows:
                    if frame["seq"] == self.last_seq + 1:
                        self.last_seq = frame["seq"]
                        self.push(events.encode(frame))
                while self.last_seq + 1 in self._ahead:
                    self.last_seq += 1
                    self.push(self._ahead.pop(self.last_seq))
                self._ahead = {
                    s: t for s, t in self._ahead.items() if s > self.last_seq
                }
                if len(rows) == limit:
                    self._catch_up_requested = True
                elif self._ahead and not rows:
                    # Seq k+1 exists only after k committed, so a gap the
                    # database cannot fill means this socket's view is broken:
                    # close it, and the client resumes with `since`.
                    log.error("unfillable gap in %s after %s", self.room, self.last_seq)
                    await self.close(code=CloseCode.SERVER_ERROR)
                    return
        except Exception as exc:
            log.warning(
                "gap fill in %s failed (%s); closing for resume", self.room, exc
            )
            await self.close(code=CloseCode.SERVER_ERROR)
        finally:
            self._filling = False

    def push_frame(self, frame: dict) -> None:
        self.push(events.encode(frame))

    def push(self, text: str) -> None:
        """Queue a frame; a socket that does not read is closed, not waited for."""
        if self._closed:
            return
        self._outbox.append(text)
        if len(self._outbox) > self._outbox_max:
            self.drop(CloseCode.TOO_SLOW, "too_slow")
            return
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._outbox:
                # Straight to the server's send: AsyncWebsocketConsumer.send
                # only wraps the same event, three coroutines deep, per frame.
                await self.base_send(
                    {"type": "websocket.send", "text": self._outbox.popleft()}
                )
        except Exception as exc:  # the connection went away under us
            log.debug("send failed in %s (%s)", self.room, exc)
            self._outbox.clear()
            self._closed = True
        finally:
            self._writer = None

    async def restart(self) -> None:
        """The server is restarting (chat/drain.py): acks of the posts taken
        and queued frames go first, then 1012; the client resumes elsewhere."""
        self._restarting = True
        while self._finisher is not None:
            await self._finisher
        await self.close(code=CloseCode.SERVICE_RESTART)

    def revoke(self) -> None:
        """Logged out, deactivated or token revoked: close with 4403."""
        self.drop(CloseCode.REVOKED, "revoked")

    async def close(self, code=None, reason=None) -> None:
        if self._close_sent:  # a second close is an ASGI error on some servers
            return
        self._close_sent = True
        if self._writer is not None and not self._closed:
            # Frames already queued (acks, the error that explains the close)
            # go first; a drop() set _closed, so a stalled socket is not waited for.
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
            except Exception:  # TimeoutError, or the connection went away
                pass
        self._closed = True
        self._outbox.clear()
        # A plain int: Daphne refuses an IntEnum as a close code.
        await super().close(code=int(code) if code is not None else None, reason=reason)
