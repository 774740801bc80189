"""One room's events for one socket: in seq order, exactly once, no gap.

The hub hands every local stream of a room the same encoded event. A stream
passes room events (every frame with a seq) on strictly in seq order, drops
ones already sent, and fills any gap from the database, so a socket sees
every event exactly once whichever process stored it and whatever the
channel layer dropped. While its socket is connecting (`last_seq` None) it
buffers what arrives, and sends it after the hello and history (`start`).

A v1 socket has one stream; a v2 socket one per synced room. A stream
implements the hub's `Subscriber` protocol (chat.realtime.hub) and talks to
its socket through `StreamOwner`.
"""

import asyncio
import logging
from typing import Protocol

from django.conf import settings

from chat.protocol import events
from chat.protocol.v1 import CloseCode
from chat.realtime.outbox import Outbox
from chat.store import actions, db

log = logging.getLogger("chat.realtime")

messages_after = db.reads(actions.messages_after)


class StreamOwner(Protocol):
    """The socket a stream writes to."""

    username: str
    user_id: int
    outbox: Outbox

    def revoke(self) -> None: ...

    def stream_removed(self, stream: "RoomStream") -> None:
        """The user lost access to the stream's room."""

    async def close(self, code: int | None = None, reason: str | None = None): ...


class RoomStream:
    __slots__ = (
        "owner",
        "room",
        "username",
        "user_id",
        "member",
        "with_room",
        "last_seq",
        "online_sent",
        "push",
        "_early",
        "_ahead",
        "_catch_up_requested",
        "_filling",
    )

    def __init__(
        self, owner: StreamOwner, room: str, with_room: bool, member: bool = True
    ) -> None:
        self.owner = owner
        self.room = room
        self.username = owner.username
        self.user_id = owner.user_id
        self.member = member
        # v2: presence and typing frames name their room (one socket, many rooms).
        self.with_room = with_room
        self.last_seq: int | None = None  # None while connecting: buffer
        self.online_sent: list[str] | None = None  # the last presence list sent
        self.push = owner.outbox.push
        self._early: list[tuple[int, str]] = []
        self._ahead: dict[int, str] = {}
        self._catch_up_requested = False
        self._filling = False

    def start(self, last_seq: int, online: list[str] | None) -> None:
        """The history up to `last_seq` went out: send what came meanwhile."""
        self.last_seq = last_seq
        self.online_sent = online
        early, self._early = self._early, []
        for seq, text in early:
            self.deliver(seq, text)

    # --- called by the hub (the Subscriber protocol) ---

    def deliver(self, seq: int, text: str) -> None:
        """Pass room event `seq` on in order, once; fill gaps from the database."""
        last_seq = self.last_seq
        if last_seq is None:
            self._early.append((seq, text))
        elif seq <= last_seq:
            return
        elif seq == last_seq + 1 and not self._filling:
            self.last_seq = seq
            self.push(text)
        else:
            self._ahead[seq] = text
            self._start_fill()

    def catch_up(self) -> None:
        """The layer may have dropped events: read what is past last_seq."""
        if self.last_seq is not None and not self.owner.outbox.closed:
            self._catch_up_requested = True
            self._start_fill()

    def removed(self) -> None:
        self.owner.stream_removed(self)

    # --- gap fill ---

    def _start_fill(self) -> None:
        if not self._filling:
            self._filling = True
            asyncio.create_task(self._fill())

    async def _fill(self) -> None:
        limit = settings.CHAT_RESUME_MAX
        outbox = self.owner.outbox
        try:
            while (self._ahead or self._catch_up_requested) and not outbox.closed:
                assert self.last_seq is not None  # set at start, before any fill
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
                    await self.owner.close(code=CloseCode.SERVER_ERROR)
                    return
        except Exception as exc:
            log.warning(
                "gap fill in %s failed (%s); closing for resume", self.room, exc
            )
            await self.owner.close(code=CloseCode.SERVER_ERROR)
        finally:
            self._filling = False
