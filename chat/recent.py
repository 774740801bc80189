"""Each room's newest messages, kept by the process that fans them out.

A socket connecting to a room gets hello with the room's last seq and the
newest page of history (docs/protocol.md). Read from the database, that was
four ORM queries and most of a connect's cost (docs/performance.md, connect).
The RoomHub already receives every message of every room it has sockets in,
in seq order, so it keeps that page in memory and a connect reads it there.

The page is only trusted while it is exactly what the database would give:

- it is seeded from a database snapshot, and only if nothing newer has been
  seen meanwhile and no deletion arrived during the read (`mark`);
- a message extends it only when its seq is the page's last seq + 1; any
  jump (a dropped or reordered event) throws the page away;
- a moderator's deletion turns the message into its tombstone in the page;
- the hub throws a room's page away when it leaves the room, and all pages
  on each reconcile pass, so a change that sends no event (a user renamed in
  the admin) is served for at most CHAT_RECONCILE_INTERVAL;
- the hub serves it only while its last seq equals the newest seq the hub
  has seen for the room (RoomHub.recent_snapshot).

Any other case reads the database, as before.

So a socket connecting from the page knows what the process's other sockets
in the room know. A message committed elsewhere whose event has not arrived
yet reaches it as it reaches them: live when the event comes, or from the
database at the next reconcile pass if the layer lost it.
"""

from collections import deque
from dataclasses import dataclass, field, replace

from django.conf import settings

from . import events


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a socket gets on connect: the room's last seq and a history frame.

    `latest`: the messages are the room's newest page (not a resume from
    `since`), so the snapshot can seed a RecentPage.
    """

    last_seq: int
    messages: list[dict]
    complete: bool
    has_more: bool
    latest: bool = False
    # The history frame, encoded; a page keeps it for every connect without
    # `since` until the page changes.
    text: str | None = field(default=None, compare=False)

    def history_text(self) -> str:
        if self.text is not None:
            return self.text
        return events.encode(
            events.history_frame(
                messages=self.messages, complete=self.complete, has_more=self.has_more
            )
        )


class RecentPage:
    """The newest CHAT_HISTORY_ON_CONNECT messages of one room, oldest first."""

    __slots__ = ("frames", "last_seq", "has_more", "_latest")

    def __init__(self, snapshot: Snapshot) -> None:
        self.frames: deque[dict] = deque(
            snapshot.messages, maxlen=settings.CHAT_HISTORY_ON_CONNECT
        )
        self.last_seq = snapshot.last_seq
        self.has_more = snapshot.has_more  # older messages exist
        self._latest: Snapshot | None = None  # snapshot(None), while unchanged

    def extend(self, message: dict) -> bool:
        """Add the next message; False if it is not the next one."""
        seq = message["seq"]
        if seq <= self.last_seq:
            return True  # already here
        if seq != self.last_seq + 1:
            return False
        if len(self.frames) == self.frames.maxlen:
            self.has_more = True
        self.frames.append(message)
        self.last_seq = seq
        self._latest = None
        return True

    def delete(self, seq: int) -> bool:
        """Show message `seq` as deleted; False if the page cannot tell."""
        if seq > self.last_seq:
            return False
        for i, frame in enumerate(self.frames):
            if frame["seq"] == seq:
                self.frames[i] = events.tombstone(frame)
                self._latest = None
                break
        return True  # found, or older than the page

    def snapshot(self, since: int | None) -> Snapshot | None:
        """What actions.connect_snapshot would return, or None if this page
        does not hold all of it (a resume from before the page)."""
        frames = self.frames
        if since is not None and since <= self.last_seq:
            oldest = frames[0]["seq"] if frames else self.last_seq + 1
            if self.has_more and since < oldest - 1:
                return None
            messages = [f for f in frames if f["seq"] > since]
            if len(messages) > settings.CHAT_RESUME_MAX:
                return None
            return Snapshot(self.last_seq, messages, complete=True, has_more=since > 0)
        # No `since`, or one from the future: the newest page (as the database
        # path, complete only when nothing older exists and no `since` was sent).
        if since is None and self._latest is not None:
            return self._latest
        complete = not self.has_more and since is None
        latest = Snapshot(
            self.last_seq,
            list(frames),
            complete=complete,
            has_more=self.has_more,
            latest=True,
        )
        if since is None:
            latest = self._latest = replace(latest, text=latest.history_text())
        return latest
