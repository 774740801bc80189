"""A member room a v2 socket has not synced: its summary, kept current.

PROTOCOL.md section 5: rooms not synced get only `room` summary updates
(new unread, a mention, the topic). A RoomWatcher subscribes to the room on
the hub like a stream (the process's one subscription per room serves
both), but passes no event on: any event marks the room's summary stale,
and at most once per CHAT_SUMMARY_INTERVAL the socket recounts it from the
log (chat.services.reads: unread and mentions are counted, never kept as a
counter that could drift) and sends a `room` frame when it changed.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings

from chat.protocol import events

log = logging.getLogger("chat.realtime")


class RoomWatcher:
    __slots__ = (
        "room",
        "username",
        "user_id",
        "member",
        "with_room",
        "last_seq",
        "online_sent",
        "summary",
        "_recount",
        "_push",
        "_removed",
        "_task",
    )

    def __init__(
        self,
        owner,
        room: str,
        summary: dict | None,
        recount: Callable[[str], Awaitable[dict | None]],
    ) -> None:
        self.room = room
        self.username = owner.username
        self.user_id = owner.user_id
        self.member = True
        self.with_room = True
        # Never a stream: no typing (last_seq None) and no presence (online_sent).
        self.last_seq: int | None = None
        self.online_sent: list[str] | None = None
        self.summary = summary  # the last one the client got
        self._recount = recount
        self._push = owner.outbox.push
        self._removed = lambda: owner.stream_removed(self)
        self._task: asyncio.Task | None = None

    # --- the hub's Subscriber protocol ---

    def deliver(self, seq: int, text: str) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._refresh())

    def catch_up(self) -> None:
        self.deliver(0, "")

    def push(self, text: str) -> None:
        pass  # presence and typing are for synced rooms

    def removed(self) -> None:
        self._removed()

    # --- the summary ---

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _refresh(self) -> None:
        try:
            await asyncio.sleep(settings.CHAT_SUMMARY_INTERVAL)  # coalesce
            self._task = None  # an event from here on schedules another pass
            summary = await self._recount(self.room)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._task = None
            log.warning("summary of %s failed (%s)", self.room, exc)
            return
        if summary is not None and summary != self.summary:
            self.summary = summary
            self._push(events.encode(events.room_frame(summary)))
