"""Where a message enters: the version 1 WebSocket at /ws/chat/<room>/.

A consumer is a view for WebSockets: parse the frame, authorise it, call a
service (chat.services.posting, chat.store.actions), reply, and publish (chat.realtime.hub)
after commit. What every socket shares (connection state, outbox, replies
in frame order, limits, the close) is chat.ws.socket.BaseSocket; the
room's live events reach this socket through its one RoomStream
(chat.realtime.stream), which the process's hub feeds.
"""

import asyncio
import logging
from urllib.parse import parse_qs

from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.logfmt import log_event
from chat.loops import per_loop
from chat.protocol import events
from chat.protocol.v1 import (
    ChatError,
    CloseCode,
    HistoryFrame,
    PostFrame,
    TypingFrame,
    parse_frame,
)
from chat.realtime.hub import get_hub, publish_presence, publish_typing
from chat.realtime.state import get_state
from chat.realtime.stream import RoomStream
from chat.services import posting
from chat.services.errors import no_room
from chat.services.rooms import v1_rooms_access
from chat.store import actions, batching, db
from chat.store.batching import Batcher
from chat.ws.socket import BaseSocket, SocketState

log = logging.getLogger("chat.consumers")

# A read, so off the one database thread that stores posts (a burst of
# connects no longer queues behind it, nor it behind them).
# The handshakes of a moment check their rooms in one read, two queries for
# all (chat.store.batching): one per handshake made 5,000 connects 3.4x slower.
# (It writes only to make a room that does not exist yet, rarely, in a
# get_or_create of its own; the membership goes through the write batcher.)
_room_access = per_loop(lambda: Batcher(db.reads(v1_rooms_access)))
connect_snapshot = db.reads(actions.connect_snapshot)
history_page = db.reads(actions.history_page)
# The access rule (chat.domain.access): private rooms and DMs refuse non-members.


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


class ChatConsumer(BaseSocket):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.room = ""
        self.stream: RoomStream | None = None  # while subscribed to the hub

    # --- connect / disconnect ---

    async def connect(self) -> None:
        try:
            room = canonical_room(self.scope["url_route"]["kwargs"]["room"])
            since = parse_since(self.scope.get("query_string", b""))
        except InvalidRoomName:
            await self.refuse_handshake("bad_room")
            return
        except ValueError:
            await self.refuse_handshake("bad_since")
            return
        if not self.authenticated():
            await self.refuse_handshake("anonymous")
            return
        found, join = await _room_access().submit((self.user, room))
        if found is None:  # as for a bad name: 403
            await self.refuse_handshake("not_found", no_room(room).detail)
            return
        if join:  # opening a public room makes a member (batched: chat.store.batching)
            await batching.record_join(found.pk, self.user_id)
        self.hub = hub = get_hub()
        if await self.over_socket_cap(len(hub.users.get(self.user_id, ()))):
            return
        self.room = self.where = room
        await self.open()

        self.stream = stream = RoomStream(self, room, with_room=False)
        hub.add_socket(self)
        await hub.join(stream)  # from here, live messages are buffered
        state = get_state()
        try:
            snapshot = hub.recent_snapshot(room, since)
            if snapshot is None:
                deletions = hub.deletions
                snapshot = await connect_snapshot(room, since)
                hub.seed_page(room, snapshot, deletions)
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
        self.outbox.push(snapshot.history_text())
        if self.state is SocketState.CONNECTING:  # not dropped meanwhile
            self.state = SocketState.OPEN
        hub.note_seq(room, snapshot.last_seq)
        stream.start(snapshot.last_seq, online)
        log_event(log, "connect", room=room, user=self.username, since=since)
        if came_online:
            await publish_presence(room)
        else:  # the list may have changed since it was read for hello
            hub.refresh_presence(room)

    async def leave(self) -> None:
        """Leave the hub and presence, once (on disconnect, or on a drop)."""
        stream, self.stream = self.stream, None
        if stream is None:
            return
        await self.hub.leave(stream)
        self.hub.remove_socket(self)
        try:
            went_offline = await get_state().leave(
                self.room, self.username, self.conn_id
            )
            if went_offline:
                await publish_presence(self.room)
        except Exception as exc:
            log.warning("presence leave for %s failed (%s)", self.room, exc)

    def stream_removed(self, stream: RoomStream) -> None:
        """The user lost access to the room: close with 4403."""
        self.revoke()

    # --- frames from the client ---

    async def handle(self, text: str) -> None:
        frame = parse_frame(text)
        if isinstance(frame, PostFrame):
            await self._post(frame)
        elif isinstance(frame, TypingFrame):
            await self._typing()
        elif isinstance(frame, HistoryFrame):
            await self._history(frame)

    async def _post(self, frame: PostFrame) -> None:
        if not await self.take_token():
            return
        # Queued for storage now, in this socket's order. The commit is awaited
        # in the replies' turn, so the socket's next frames are read meanwhile
        # and a burst is stored in one transaction (chat.store.batching).
        stored = posting.submit(self.user, self.room, frame.text, frame.client_id)
        self.replies.answer(lambda: self._posted(frame, stored))
        if self.replies.pending > self.posts_in_flight:
            await asyncio.wait([stored])  # a flood waits for storage

    async def _posted(self, frame: PostFrame, stored: asyncio.Future) -> None:
        try:
            message, created = await stored
        except ChatError as exc:
            self.refuse(exc, now=True)
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
        if not await self.take_token():
            return
        messages, has_more = await history_page(self.room, frame.before, frame.limit)
        self.reply(
            events.history_frame(
                messages=messages, complete=not has_more, has_more=has_more
            )
        )
