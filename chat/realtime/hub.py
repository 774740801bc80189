"""Where a message is fanned out.

Every post, presence change, typing notice and revocation is published to a
channel-layer group (`publish`). Each process has ONE `RoomHub`: a single
channel on the layer that joins the group of every room with a socket in
this process (and the one revocations group), receives each event once,
encodes it once, and hands the same text to every local socket. Per-socket channels would cost one layer
receive, one copy and one JSON encoding per member per message (docs/performance.md).

Any Channels layer works behind it (in-memory, channels_redis core or
pub/sub). Layers can drop events (a Redis restart, channels #1717), so the
database stays the source of truth: sockets fill seq gaps from it, and the
hub's reconcile loop notices rooms whose newest seq it has not seen.
"""

import asyncio
import logging
import time
from typing import Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from chat import metrics
from chat.domain.access import lost_access
from chat.domain.rooms import REVOCATIONS_GROUP, room_group, user_group
from chat.loops import per_loop
from chat.models import Room
from chat.protocol import events
from chat.realtime.state import get_state
from chat.store import actions, db
from chat.store.batching import Batcher
from chat.store.credentials import revoked
from chat.store.recent import RecentPage, Snapshot

log = logging.getLogger("chat.broadcast")


async def _send_many(items: list[tuple[str, dict]]) -> list[None]:
    await get_hub().layer.group_send_many(items)
    return [None] * len(items)


# Publishes of the same moment (a storage batch's posts finishing together)
# go to Redis as one pipeline (chat.realtime.redis_layer), not one round trip each.
_publishes = per_loop(lambda: Batcher(_send_many))


async def publish(group: str, event: dict) -> None:
    """Send `event` to a group; called only after the change is committed.

    If the layer is unreachable the local sockets still get the event; other
    processes catch up from the database (RoomHub._reconcile).
    """
    hub = get_hub()
    try:
        if hasattr(hub.layer, "group_send_many"):
            await _publishes().submit((group, event))
        else:
            await hub.layer.group_send(group, event)
    except Exception as exc:  # the layer's own errors vary by backend
        log.warning("publish to %s failed (%s); delivering locally only", group, exc)
        hub.dispatch(event)


async def publish_message(message: dict) -> None:
    await publish(room_group(message["room"]), events.message_event(message))


async def publish_presence(room: str) -> None:
    await publish(room_group(room), events.presence_event(room))


async def publish_typing(room: str, username: str) -> None:
    await publish(room_group(room), events.typing_event(room, username))


# Any event of a room's log (message, edited, deleted, reaction, member,
# topic) travels as chat.message: the hub and every socket's ordered delivery
# treat them alike, by seq.
publish_event = publish_message


async def publish_removed(room: str, user_id: int | None) -> None:
    """`user_id` (everyone: None) lost access to `room`; its sockets close."""
    await publish(room_group(room), events.removed_event(room, user_id))


async def publish_user(user_id: int, frame: dict) -> None:
    """A per-user frame (room, read, removed) to every socket of the user."""
    await publish(user_group(user_id), events.user_event(user_id, frame))


def publish_on_commit(*publications) -> None:
    """Publish after the current transaction commits (at once outside one).

    For sync code (the services, the admin); each publication is a coroutine
    function and its arguments: (publish_event, frame). async_to_sync runs
    them on the server's event loop when called from a database_sync_to_async
    thread.
    """

    async def send() -> None:
        for function, *args in publications:
            await function(*args)

    transaction.on_commit(lambda: async_to_sync(send)())


async def publish_revoke(user_id: int, credential: str | None = None) -> None:
    await publish(REVOCATIONS_GROUP, events.revoke_event(user_id, credential))


_revoked = db.reads(revoked)
_lost_access = db.reads(lost_access)
_messages_after = db.reads(actions.messages_after)


@db.reads
def _last_seqs(rooms: list[str]) -> dict[str, int]:
    return dict(Room.objects.filter(name__in=rooms).values_list("name", "last_seq"))


class Subscriber(Protocol):
    """One room's receiver on this process (chat.realtime.stream.RoomStream:
    one per v1 socket, one per synced room of a v2 socket)."""

    room: str
    username: str
    user_id: int
    member: bool  # synced as a member (else a public room read by a non-member)
    last_seq: int | None  # None until its hello/history went out
    online_sent: list[str] | None  # the last presence list it got
    with_room: bool  # its presence/typing frames name the room (v2)

    def deliver(self, seq: int, text: str) -> None:
        """Room event `seq` (encoded): pass on in seq order, once."""

    def removed(self) -> None:
        """Its user lost access to the room (v1: close 4403; v2: `removed`)."""

    def catch_up(self) -> None:
        """The layer may have dropped events: read past last_seq."""

    def push(self, text: str) -> None:
        """Send a frame as is (presence, typing)."""


class SocketSubscriber(Protocol):
    """A socket of this process, as revocation sees it."""

    user_id: int
    credential: str | None  # "session:<key>" or "token:<id>"

    def revoke(self) -> None:
        """Close with 4403."""


class UserSubscriber(SocketSubscriber, Protocol):
    """A v2 socket: it also gets its user's per-user frames."""

    def user_frame(self, frame: dict, text: str) -> None:
        """A `room`, `read` or `removed` frame for the user (`text` encoded)."""


class RoomHub:
    """This process's subscription to the channel layer and its local sockets."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.rooms: dict[str, set[Subscriber]] = {}
        self.users: dict[int, set[SocketSubscriber]] = {}
        # v2 sockets by user: the process is in the user's group while any.
        self.user_sockets: dict[int, set[UserSubscriber]] = {}
        self.last_seen: dict[str, int] = {}  # newest seq this process has seen
        self.pages: dict[str, RecentPage] = {}  # each room's newest messages
        self.deletions = 0  # deletion events seen (see seed_page)
        self._presence: dict[str, list[str]] = {}  # the last list pushed
        self._presence_dirty: set[str] = set()
        self._presence_wake = asyncio.Event()
        self._start_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._failed_groups: set[str] = set()  # group_add failed: retry
        self._refreshed_at = time.monotonic()

    # --- membership ---

    async def _start(self) -> None:
        async with self._start_lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel("chat.hub.")
                await self._group_add(REVOCATIONS_GROUP)
                self._tasks = [
                    asyncio.create_task(self._receive_loop()),
                    asyncio.create_task(self._reconcile_loop()),
                    asyncio.create_task(self._presence_loop()),
                ]

    async def _group_add(self, group: str) -> None:
        try:
            await self.layer.group_add(group, self.channel)
        except Exception as exc:
            # Not fatal: the reconcile loop keeps this room current from the
            # database and re-adds the group once the layer answers again.
            # (The pub/sub layer's receive never fails, so a failed
            # subscription would otherwise wait for CHAT_GROUP_REFRESH.)
            log.warning("group_add %s failed (%s); will retry", group, exc)
            self._failed_groups.add(group)
        else:
            self._failed_groups.discard(group)

    async def _group_discard(self, group: str) -> None:
        self._failed_groups.discard(group)
        try:
            await self.layer.group_discard(group, self.channel)
        except Exception as exc:
            log.warning("group_discard %s failed (%s)", group, exc)

    async def join(self, subscriber: Subscriber) -> None:
        """Deliver the room's events to `subscriber`; the first subscriber of
        a room on this process subscribes the process on the layer."""
        await self._start()
        members = self.rooms.setdefault(subscriber.room, set())
        members.add(subscriber)
        if len(members) == 1:
            await self._group_add(room_group(subscriber.room))

    async def leave(self, subscriber: Subscriber) -> None:
        task = self.unsubscribe(subscriber)
        if task is not None:
            await task

    def unsubscribe(self, subscriber: Subscriber) -> asyncio.Task | None:
        """Stop delivering to `subscriber` now; when it was the room's last,
        the layer subscription ends in the returned task."""
        room = subscriber.room
        members = self.rooms.get(room)
        if members is None or subscriber not in members:
            return None
        members.discard(subscriber)
        if members:
            return None
        del self.rooms[room]
        self.last_seen.pop(room, None)
        self.pages.pop(room, None)  # no longer kept current
        return asyncio.create_task(self._discard_room(room))

    async def _discard_room(self, room: str) -> None:
        if room not in self.rooms:  # unless a socket joined it again meanwhile
            await self._group_discard(room_group(room))

    def add_socket(self, socket: SocketSubscriber) -> None:
        """Count a socket of the user (revocations, the per-user cap)."""
        self.users.setdefault(socket.user_id, set()).add(socket)

    async def join_user(self, socket: UserSubscriber) -> None:
        """Per-user frames to `socket`; the user's first v2 socket on this
        process subscribes the process to the user's group (one per user,
        never one per socket)."""
        await self._start()
        sockets = self.user_sockets.setdefault(socket.user_id, set())
        sockets.add(socket)
        if len(sockets) == 1:
            await self._group_add(user_group(socket.user_id))

    async def leave_user(self, socket: UserSubscriber) -> None:
        sockets = self.user_sockets.get(socket.user_id)
        if sockets is not None and socket in sockets:
            sockets.discard(socket)
            if not sockets:
                del self.user_sockets[socket.user_id]
                await self._group_discard(user_group(socket.user_id))

    def remove_socket(self, socket: SocketSubscriber) -> None:
        sockets = self.users.get(socket.user_id)
        if sockets is not None and socket in sockets:
            sockets.discard(socket)
            if not sockets:
                del self.users[socket.user_id]

    def note_seq(self, room: str, seq: int) -> None:
        if seq > self.last_seen.get(room, 0):
            self.last_seen[room] = seq

    # --- the newest page of each room (chat.store.recent) ---

    def recent_snapshot(self, room: str, since: int | None) -> Snapshot | None:
        """A connecting socket's snapshot from memory, or None: read the database."""
        page = self.pages.get(room)
        if page is None or page.last_seq != self.last_seen.get(room, 0):
            return None  # behind what this process has seen: gap
        return page.snapshot(since)

    def seed_page(self, room: str, snapshot: Snapshot, deletions: int) -> None:
        """Keep `snapshot` (read from the database while `self.deletions`
        was `deletions`) as the room's page, if nothing newer came meanwhile."""
        if (
            snapshot.latest
            and room in self.rooms
            and deletions == self.deletions
            and snapshot.last_seq >= self.last_seen.get(room, 0)
        ):
            self.pages[room] = RecentPage(snapshot)
            self.note_seq(room, snapshot.last_seq)

    def refresh_presence(self, room: str) -> None:
        """Re-read the room's online list soon; sockets whose last list
        differs get a presence frame."""
        self._presence_dirty.add(room)
        self._presence_wake.set()

    # --- events ---

    def dispatch(self, event: dict) -> None:
        """Hand one channel-layer event to the local sockets it concerns."""
        kind = event.get("type")
        if kind == "chat.message":
            message = event["message"]
            room, seq = message["room"], message["seq"]
            if message["type"] != "message":
                self.deletions += 1  # a change to history (see seed_page)
            self.note_seq(room, seq)
            page = self.pages.get(room)
            if page is not None and not page.extend(message):
                del self.pages[room]  # a jump: read the database next time
            members = self.rooms.get(room)
            if members:
                text = events.encode(message)  # once, for every local socket
                for subscriber in tuple(members):
                    subscriber.deliver(seq, text)
                metrics.observe_fanout(message, len(members), time.time())
        elif kind == "chat.typing":
            room, username = event["room"], event["username"]
            texts: dict[bool, str] = {}  # v1 and v2 frames, each encoded once
            for subscriber in tuple(self.rooms.get(room, ())):
                # Not before a connecting socket's hello (protocol: hello first).
                if subscriber.username != username and subscriber.last_seq is not None:
                    v2 = subscriber.with_room
                    typing = texts.get(v2)
                    if typing is None:
                        frame = events.typing_frame(username, room if v2 else None)
                        typing = texts[v2] = events.encode(frame)
                    subscriber.push(typing)
        elif kind == "chat.removed":
            user_id = event["user_id"]
            for subscriber in tuple(self.rooms.get(event["room"], ())):
                if user_id is None or subscriber.user_id == user_id:
                    subscriber.removed()
        elif kind == "chat.user":
            frame = event["frame"]
            sockets = self.user_sockets.get(event["user_id"])
            if sockets:
                text = events.encode(frame)
                for user_socket in tuple(sockets):
                    user_socket.user_frame(frame, text)
        elif kind == "chat.presence":
            self.refresh_presence(event["room"])
        elif kind == "chat.revoke":
            credential = event.get("credential")
            for socket in tuple(self.users.get(event["user_id"], ())):
                if credential is None or socket.credential == credential:
                    socket.revoke()
        else:
            log.warning("ignoring unknown event type %r", kind)

    async def _receive_loop(self) -> None:
        backoff = 0.1
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("channel layer receive failed (%s); retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                await self._resubscribe()
                continue
            backoff = 0.1
            try:
                self.dispatch(event)
            except Exception:
                log.exception("dispatching %r failed", event.get("type"))

    async def _resubscribe(self) -> None:
        for room in tuple(self.rooms):
            await self._group_add(room_group(room))
        for user_id in tuple(self.user_sockets):
            await self._group_add(user_group(user_id))
        await self._group_add(REVOCATIONS_GROUP)
        for room in tuple(self.rooms):
            self._catch_up(room)

    def _catch_up(self, room: str) -> None:
        for subscriber in tuple(self.rooms.get(room, ())):
            subscriber.catch_up()

    async def _reconcile_loop(self) -> None:
        """Every few seconds: close sockets whose credentials were revoked,
        catch up rooms whose newest seq never arrived, refresh presence (a
        crashed process's users expire from the shared store), and re-add
        groups before the layer's group expiry."""
        while True:
            await asyncio.sleep(settings.CHAT_RECONCILE_INTERVAL)
            try:
                await self._reconcile()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reconcile failed (%s); will retry", exc)

    async def _reconcile(self) -> None:
        # A change that sends no event (a username edited in the admin) is
        # served from memory for one interval at most.
        self.pages.clear()
        for group in tuple(self._failed_groups):
            await self._group_add(group)
        rooms = list(self.rooms)
        if not rooms:
            return
        lagging = {
            room: last_seq
            for room, last_seq in (await _last_seqs(rooms)).items()
            if last_seq > self.last_seen.get(room, 0)
        }
        if lagging:
            # Under load the newest seq is usually committed but not yet
            # published; catching up then makes every socket of every busy
            # room read the database (docs/performance.md). Give the layer a
            # moment, and catch up only the rooms still behind.
            await asyncio.sleep(min(1.0, settings.CHAT_RECONCILE_INTERVAL / 5))
        for room, last_seq in lagging.items():
            if room in self.rooms and last_seq > self.last_seen.get(room, 0):
                await self._catch_up_room(room)
        self._presence_dirty.update(rooms)
        self._presence_wake.set()
        await self._close_revoked()
        if time.monotonic() - self._refreshed_at > settings.CHAT_GROUP_REFRESH:
            self._refreshed_at = time.monotonic()
            await self._resubscribe()

    async def _catch_up_room(self, room: str) -> None:
        """Read the events past what this process has seen ONCE for the room
        and hand them to its sockets, each taking what it lacks in seq order
        (as from the layer), instead of every socket reading the database:
        a room of 5,000 sockets made 5,000 reads. A socket that was behind
        the process already catches up on its own."""
        limit = settings.CHAT_RESUME_MAX
        while room in self.rooms:
            after = self.last_seen.get(room, 0)
            for subscriber in tuple(self.rooms[room]):
                if subscriber.last_seq is not None and subscriber.last_seq < after:
                    subscriber.catch_up()
            rows = await _messages_after(room, after, None, limit)
            if rows:
                self.pages.pop(room, None)  # read the database next time
            for frame in rows:
                seq = frame["seq"]
                if frame["type"] != "message":
                    self.deletions += 1  # a change to history (see seed_page)
                self.note_seq(room, seq)
                text = events.encode(frame)
                for subscriber in tuple(self.rooms.get(room, ())):
                    subscriber.deliver(seq, text)
            if len(rows) < limit:
                return

    async def _close_revoked(self) -> None:
        """Close sockets whose user or token the database no longer accepts,
        in case no revoke event reached this process."""
        sockets = [c for members in self.users.values() for c in members]
        credentials = {c.credential for c in sockets if c.credential}
        kind_ids = [credential.split(":", 1) for credential in credentials]
        tokens = {int(value) for kind, value in kind_ids if kind == "token"}
        sessions = {value for kind, value in kind_ids if kind == "session"}
        users, tokens, sessions = await _revoked(set(self.users), tokens, sessions)
        gone = {f"token:{t}" for t in tokens} | {f"session:{s}" for s in sessions}
        for socket in sockets:
            if socket.user_id in users or socket.credential in gone:
                socket.revoke()
        # Membership too, in case no `chat.removed` event reached this process.
        streams = [s for members in self.rooms.values() for s in members if s.member]
        lost = await _lost_access({(s.room, s.user_id) for s in streams})
        for stream in streams:
            if (stream.room, stream.user_id) in lost:
                stream.removed()

    async def _presence_loop(self) -> None:
        """Send each local socket the room's online list when it differs from
        the list that socket last got (in hello or presence); one room at a
        time, so that an older read never overwrites a newer one."""
        state = get_state()
        while True:
            await self._presence_wake.wait()
            # Changes of the next moment go out together: N members joining
            # a room at once (everyone reconnecting after a restart) would
            # otherwise cost N²/2 presence frames.
            await asyncio.sleep(settings.CHAT_PRESENCE_COALESCE)
            self._presence_wake.clear()
            while self._presence_dirty:
                room = self._presence_dirty.pop()
                members = self.rooms.get(room, ())
                # Only rooms a socket shows presence in (a v2 socket's rooms
                # not synced, RoomWatcher, never get it): no read for the rest.
                if not any(s.online_sent is not None for s in members):
                    continue
                try:
                    online = await state.online(room)
                except Exception as exc:
                    log.warning("presence read for %s failed (%s)", room, exc)
                    continue
                # Per socket: one that connected while the list changed got
                # an older list in hello than its neighbours (None: no hello
                # yet, and nothing may precede hello). Sockets holding the
                # last list pushed share it, so the room costs one comparison.
                last = self._presence.get(room)
                changed = online != last
                texts: dict[bool, str] = {}  # v1 and v2 frames
                for subscriber in tuple(self.rooms.get(room, ())):
                    sent = subscriber.online_sent
                    if sent is None:
                        continue
                    if changed if sent is last else sent != online:
                        v2 = subscriber.with_room
                        text = texts.get(v2)
                        if text is None:
                            frame = events.presence_frame(online, room if v2 else None)
                            text = texts[v2] = events.encode(frame)
                        subscriber.push(text)
                    subscriber.online_sent = online
                self._presence[room] = online


# The hub of the running event loop (one per server process).
get_hub = per_loop(lambda: RoomHub(get_channel_layer()))
