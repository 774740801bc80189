"""Each room's newest messages, kept by the process that fans them out.

A socket connecting to a room gets hello with the room's last seq and the
newest page of history (docs/protocol.md). Read from the database, that was
four ORM queries and most of a connect's cost (docs/performance.md, connect).
The RoomHub already receives every message of every room it has sockets in,
in seq order, so it keeps that page in memory and a connect reads it there.

The page is only trusted while it is exactly what the database would give:

- it is seeded from a database snapshot, and only if nothing newer has been
  seen meanwhile and no deletion arrived during the read (`mark`);
- an event (a message, or an edit, deletion, reaction, member or topic
  change: the room's log, PROTOCOL section 2) extends it only when its seq is
  the page's last seq + 1; any jump (a dropped or reordered event) throws the
  page away;
- an edit, deletion or reaction changes its target message in the page (the
  current state history shows), and the page keeps the events themselves
  since its first message, so a resume (`since`) within the page gets every
  event past `since` from memory, in seq order;
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

from chat.protocol import events


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
    # With `latest`: the room's other events since the page's first message,
    # not sent (history pages hold messages only) but kept by a RecentPage.
    events: list[dict] = field(default_factory=list, compare=False)
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
    """The newest CHAT_HISTORY_ON_CONNECT messages of one room, oldest first,
    and the room's other events since the first of them."""

    __slots__ = ("frames", "others", "last_seq", "has_more", "_latest")

    def __init__(self, snapshot: Snapshot) -> None:
        self.frames: deque[dict] = deque(
            snapshot.messages, maxlen=settings.CHAT_HISTORY_ON_CONNECT
        )
        self.others: deque[dict] = deque(snapshot.events)
        self.last_seq = snapshot.last_seq
        self.has_more = snapshot.has_more  # older messages exist
        self._latest: Snapshot | None = None  # snapshot(None), while unchanged

    def extend(self, event: dict) -> bool:
        """Add the room's next event; False if it is not the next one."""
        seq = event["seq"]
        if seq <= self.last_seq:
            return True  # already here
        if seq != self.last_seq + 1:
            return False
        self.last_seq = seq
        self._latest = None
        if event["type"] == "message":
            if len(self.frames) == self.frames.maxlen:
                self.has_more = True
                self.frames.popleft()
                oldest = self.frames[0]["seq"] if self.frames else seq
                while self.others and self.others[0]["seq"] < oldest:
                    self.others.popleft()
            self.frames.append(event)
            return True
        target = event.get("target")
        if event["type"] == "deleted":
            # As in the database: an edit replayed later must not show the
            # deleted text (services.messages).
            for i, other in enumerate(self.others):
                if other["type"] == "edited" and other["target"] == target:
                    self.others[i] = dict(other, message="")
        self.others.append(event)
        if target is not None:
            for i, frame in enumerate(self.frames):
                if frame["seq"] == target:
                    self.frames[i] = events.apply_event(frame, event)
                    break
        return True

    def snapshot(self, since: int | None) -> Snapshot | None:
        """What actions.connect_snapshot would return, or None if this page
        does not hold all of it (a resume from before the page)."""
        frames = self.frames
        if since is not None and since <= self.last_seq:
            oldest = frames[0]["seq"] if frames else self.last_seq + 1
            if self.has_more and since < oldest - 1:
                return None
            messages = [f for f in frames if f["seq"] > since]
            if self.others and self.others[-1]["seq"] > since:
                messages += [e for e in self.others if e["seq"] > since]
                messages.sort(key=_seq)
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


def _seq(frame: dict) -> int:
    return frame["seq"]
