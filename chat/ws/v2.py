"""Where a message enters on the version 2 WebSocket, /ws/: one socket per
user (per device), many rooms (PROTOCOL.md section 5; docs/protocol.md).

Parse (chat.protocol.v2) -> authorise (chat.domain.access, through the services)
-> call a service (chat.services.posting, chat.services) -> reply. Each synced room
has its own RoomStream (chat.realtime.stream): the room's events in seq
order, once, gaps filled, exactly as a v1 socket gets them. Per-user frames
(`room`, `read`, `removed`) come through the hub's per-user subscription
(one per user on this process, not one per socket). Each member room not
synced has a RoomWatcher (chat.realtime.watcher) that keeps its summary
current with `room` frames.

Every refused frame gets an `error` with the frame's `room` and `client_id`,
changes nothing, and the socket stays open (until too many refusals in a
row: 1008, as on v1).
"""

import asyncio
import logging

from chat.domain import access
from chat.logfmt import log_event
from chat.protocol import events, v2
from chat.protocol.v1 import ChatError, CloseCode, ErrorCode, load_object
from chat.realtime.hub import get_hub, publish_presence, publish_typing
from chat.realtime.state import get_state
from chat.realtime.stream import RoomStream
from chat.realtime.watcher import RoomWatcher
from chat.services import messages, posting, reads
from chat.services import rooms as room_services
from chat.services.errors import no_room
from chat.store import actions, db
from chat.ws.socket import BaseSocket, SocketState

log = logging.getLogger("chat.consumers")

# Reads on the pool, off the one database thread that stores posts; writes
# on it (chat.store.db).
_summaries = db.reads(reads.summaries)
_snapshot = db.reads(actions.connect_snapshot)
_history_page = db.reads(actions.history_page)


def _readable(user, name: str) -> tuple[bool, bool]:
    """(readable, a member) for room `name`."""
    room = access.readable_room(user, name)
    if room is None:
        return False, False
    return True, access.is_member(user, room)


_readable_async = db.reads(_readable)


def _summary(user, name: str) -> dict | None:
    """The user's summary of room `name`; None if no longer a member."""
    room = access.readable_room(user, name)
    return None if room is None else reads.summary(user, room)


_summary_async = db.reads(_summary)
_postable = db.writes(room_services.postable_room)  # joins a public room
_mark_read = db.writes(reads.mark_read)
_edit = db.writes(messages.edit_message)
_delete = db.writes(messages.delete_message)
_react = db.writes(messages.react)


class UserSocket(BaseSocket):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.streams: dict[str, RoomStream] = {}  # synced rooms
        self.watchers: dict[str, RoomWatcher] = {}  # member rooms not synced
        self._early_user_frames: list[str] | None = []  # before hello
        self._told_removed: set[str] = set()  # `removed` sent from a stream
        self._joined = False

    # --- connect / disconnect ---

    async def connect(self) -> None:
        if not self.authenticated():
            await self.refuse_handshake("anonymous")
            return
        self.hub = hub = get_hub()
        if await self.over_socket_cap(len(hub.users.get(self.user_id, ()))):
            return
        await self.open()
        hub.add_socket(self)
        self._joined = True
        await hub.join_user(self)  # per-user frames are buffered until hello
        try:
            rooms = await _summaries(self.user)
        except Exception:
            log.exception("v2 connect of %s failed", self.username)
            await self.close(code=CloseCode.SERVER_ERROR)
            return
        self.push_frame(
            {"type": "hello", "v": 2, "username": self.username, "rooms": rooms}
        )
        early, self._early_user_frames = self._early_user_frames or [], None
        for text in early:
            self.outbox.push(text)
        if self.state is SocketState.CONNECTING:
            self.state = SocketState.OPEN
        for summary in rooms:
            await self._watch(summary["room"], summary)
        log_event(log, "connect", room="-", user=self.username, v=2)

    async def leave(self) -> None:
        """Leave every synced room, the user's group and the hub (idempotent)."""
        if not self._joined:
            return
        self._joined = False
        for room in list(self.streams):
            await self._unsync(room, watch=False)
        for room in list(self.watchers):
            await self._unwatch(room)
        await self.hub.leave_user(self)
        self.hub.remove_socket(self)

    # --- per-user frames and removals (called by the hub) ---

    def user_frame(self, frame: dict, text: str) -> None:
        kind, room = frame.get("type"), str(frame.get("room"))
        if kind == "removed":
            if room in self._told_removed:
                self._told_removed.discard(room)  # the stream told already
                return
            stream = self.streams.pop(room, None)
            if stream is not None:
                self._end_stream(stream)
            watcher = self.watchers.pop(room, None)
            if watcher is not None:
                self._end_watcher(watcher)
        elif kind == "room" and self._joined:
            summary = {k: v for k, v in frame.items() if k != "type"}
            watcher = self.watchers.get(room)
            if watcher is not None:
                watcher.summary = summary  # the client has this one
            elif room not in self.streams and self._early_user_frames is None:
                # A new membership: keep its summary current from now on.
                asyncio.create_task(self._watch(room, summary))
        if self._early_user_frames is not None:
            self._early_user_frames.append(text)
        else:
            self.outbox.push(text)

    def stream_removed(self, stream: RoomStream | RoomWatcher) -> None:
        """The user lost access to a room: `removed`, no more events."""
        if isinstance(stream, RoomStream) and self.streams.get(stream.room) is stream:
            del self.streams[stream.room]
            self._end_stream(stream)
        elif (
            isinstance(stream, RoomWatcher) and self.watchers.get(stream.room) is stream
        ):
            del self.watchers[stream.room]
            self._end_watcher(stream)
        else:
            return
        self._told_removed.add(stream.room)
        self.push_frame(events.removed_frame(stream.room))

    def _end_stream(self, stream: RoomStream) -> None:
        self.hub.unsubscribe(stream)  # at once: nothing more is delivered
        asyncio.create_task(self._leave_presence(stream.room))

    def _end_watcher(self, watcher: RoomWatcher) -> None:
        watcher.stop()
        self.hub.unsubscribe(watcher)

    async def _watch(self, room: str, summary: dict | None) -> None:
        if room in self.watchers or room in self.streams or not self._joined:
            return
        watcher = self.watchers[room] = RoomWatcher(self, room, summary, self._recount)
        await self.hub.join(watcher)

    async def _unwatch(self, room: str) -> None:
        watcher = self.watchers.pop(room, None)
        if watcher is not None:
            watcher.stop()
            await self.hub.leave(watcher)

    async def _recount(self, room: str) -> dict | None:
        return await _summary_async(self.user, room)

    async def _leave_presence(self, room: str) -> None:
        try:
            if await get_state().leave(room, self.username, self.conn_id):
                await publish_presence(room)
        except Exception as exc:
            log.warning("presence leave for %s failed (%s)", room, exc)

    # --- frames from the client ---

    async def handle(self, text: str) -> None:
        data = load_object(text)
        context = v2.context(data)
        try:
            frame = v2.parse(data)
            if isinstance(frame, v2.Post):
                await self._post(frame, context)
            elif isinstance(frame, v2.Sync):
                await self._sync(frame)
            elif isinstance(frame, v2.Unsync):
                for room in frame.rooms:
                    await self._unsync(room)
            elif isinstance(frame, v2.Typing):
                await self._typing(frame)
            elif isinstance(frame, v2.History):
                await self._history(frame, context)
            elif isinstance(frame, v2.Read):
                await _mark_read(self.user, frame.room, frame.seq, frame.force)
            elif isinstance(frame, v2.Edit):
                if await self.take_token(**context):
                    await _edit(self.user, frame.room, frame.seq, frame.text)
            elif isinstance(frame, v2.Delete):
                if await self.take_token(**context):
                    await _delete(self.user, frame.room, frame.seq)
            elif isinstance(frame, v2.React):
                if await self.take_token(**context):
                    await _react(
                        self.user, frame.room, frame.seq, frame.emoji, frame.on
                    )
        except ChatError as exc:
            self.refuse(exc, **context)
        except Exception as exc:
            self._refuse_failure(exc, **context)

    async def _sync(self, frame: v2.Sync) -> None:
        """Each room: a history frame (since, or the newest page), presence,
        then its live events, once, in seq order."""
        for room, since in frame.rooms.items():
            try:
                await self._sync_room(room, since)
            except ChatError as exc:
                self.refuse(exc, room=room)
            except Exception as exc:
                self._refuse_failure(exc, room=room)

    async def _sync_room(self, room: str, since: int | None) -> None:
        readable, member = await _readable_async(self.user, room)
        if not readable:
            raise no_room(room)
        if room in self.streams:  # synced again: from the new `since`
            await self._unsync(room, watch=False)
        watcher = self.watchers.pop(room, None)
        hub = self.hub
        if watcher is not None:
            watcher.stop()
            hub.unsubscribe(watcher)  # the stream subscribes before any await
        stream = self.streams[room] = RoomStream(self, room, True, member)
        await hub.join(stream)  # from here, live events are buffered
        try:
            snapshot = hub.recent_snapshot(room, since)
            if snapshot is None:
                deletions = hub.deletions
                snapshot = await _snapshot(room, since)
                hub.seed_page(room, snapshot, deletions)
            came_online, online = await get_state().join(
                room, self.username, self.conn_id
            )
        except BaseException:
            if self.streams.get(room) is stream:
                del self.streams[room]
            hub.unsubscribe(stream)
            raise
        if self.streams.get(room) is not stream:  # removed or unsynced meanwhile
            return
        history = events.history_frame(
            messages=snapshot.messages,
            complete=snapshot.complete,
            has_more=snapshot.has_more,
        )
        self.push_frame({**history, "room": room, "last_seq": snapshot.last_seq})
        self.push_frame(events.presence_frame(online, room))
        hub.note_seq(room, snapshot.last_seq)
        stream.start(snapshot.last_seq, online)
        if came_online:
            await publish_presence(room)
        else:
            hub.refresh_presence(room)

    async def _unsync(self, room: str, watch: bool = True) -> None:
        stream = self.streams.pop(room, None)
        if stream is None:
            return
        await self.hub.leave(stream)
        await self._leave_presence(room)
        if watch and stream.member and self._joined:
            await self._watch(room, None)  # the summary from here on

    async def _post(self, frame: v2.Post, context: dict) -> None:
        stream = self.streams.get(frame.room)
        if stream is None or not stream.member:
            # Not synced as a member: ask the access rule (a public room
            # makes the poster a member).
            await _postable(self.user, frame.room)
            if stream is not None:
                stream.member = True
        if not await self.take_token(**context):
            return
        stored = posting.submit(
            self.user, frame.room, frame.text, frame.client_id, frame.reply_to
        )
        self.replies.answer(lambda: self._posted(frame, stored, context))
        if self.replies.pending > self.posts_in_flight:
            await asyncio.wait([stored])  # a flood waits for storage

    async def _posted(self, frame: v2.Post, stored, context: dict) -> None:
        try:
            message, created = await stored
        except ChatError as exc:
            self.refuse(exc, now=True, **context)
            return
        except Exception as exc:
            self._refuse_failure(exc, now=True, **context)
            return
        if frame.client_id is not None:
            self.push_frame(
                {
                    "type": "ack",
                    "room": frame.room,
                    "client_id": frame.client_id,
                    "seq": message["seq"],
                }
            )
        await posting.finish(message, created)

    async def _typing(self, frame: v2.Typing) -> None:
        if frame.room not in self.streams:
            raise ChatError(
                ErrorCode.BAD_FRAME, f"Sync room {frame.room!r} before typing in it."
            )
        if await get_state().typing_allowed(self.user_id, frame.room):
            await publish_typing(frame.room, self.username)

    async def _history(self, frame: v2.History, context: dict) -> None:
        if frame.room not in self.streams:
            readable, _ = await _readable_async(self.user, frame.room)
            if not readable:
                raise no_room(frame.room)
        if not await self.take_token(**context):
            return
        page, has_more = await _history_page(frame.room, frame.before, frame.limit)
        history = events.history_frame(
            messages=page, complete=not has_more, has_more=has_more
        )
        self.reply({**history, "room": frame.room})
