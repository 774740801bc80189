"""Typed events: what `ChatClient.events()` yields, built from server frames.

Room events (`Message`, `Edited`, `Deleted`, `Reaction`, `Member`, `Topic`)
carry the room's `seq`; the client yields them exactly once per room, in seq
order. The others concern the user or the connection and carry no seq.
Every event keeps the frame it came from in `raw`, so a field the server adds
later is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

Frame = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    raw: Frame = field(repr=False, compare=False)

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))


@dataclass(frozen=True, slots=True)
class RoomEvent(Event):
    room: str
    seq: int
    ts: str | None
    # True for events replayed by a sync (what happened while away), False
    # for events that arrived live.
    replayed: bool = field(default=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Message(RoomEvent):
    username: str
    text: str
    reply_to: int | None = None
    mentions: tuple[str, ...] = ()
    mentions_room: bool = False
    deleted: bool = False
    edited_at: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    replies: int = 0
    attachments: tuple[Frame, ...] = ()


@dataclass(frozen=True, slots=True)
class Edited(RoomEvent):
    target: int
    text: str
    edited_at: str | None


@dataclass(frozen=True, slots=True)
class Deleted(RoomEvent):
    target: int


@dataclass(frozen=True, slots=True)
class Reaction(RoomEvent):
    target: int
    emoji: str
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Member(RoomEvent):
    username: str
    op: str  # join | leave | remove
    by: str | None


@dataclass(frozen=True, slots=True)
class Topic(RoomEvent):
    topic: str
    by: str | None


@dataclass(frozen=True, slots=True)
class OtherRoomEvent(RoomEvent):
    """A seq'd event of a kind this version of the library does not know."""


@dataclass(frozen=True, slots=True)
class Hello(Event):
    username: str
    rooms: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class RoomSummary(Event):
    """A room's summary changed (unread, mentions, a new membership, topic)."""

    room: str
    unread: int
    mentions: int


@dataclass(frozen=True, slots=True)
class Read(Event):
    room: str
    seq: int


@dataclass(frozen=True, slots=True)
class Removed(Event):
    room: str


@dataclass(frozen=True, slots=True)
class Presence(Event):
    room: str
    online: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Typing(Event):
    room: str
    username: str


@dataclass(frozen=True, slots=True)
class Reset(Event):
    """The client was away too long for a replay: the room's view starts
    again from these messages (the newest page); drop what was shown."""

    room: str
    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class ErrorEvent(Event):
    """A refusal not tied to a call the client awaits (an edit, a read...)."""

    code: str
    detail: str
    room: str | None
    client_id: str | None


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """The socket is (re)connected and every room is synced."""


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The socket dropped; the client reconnects by itself (`code`: the
    close code, when the server sent one)."""

    code: int | None
    reason: str


ROOM_EVENT_TYPES = {"message", "edited", "deleted", "reaction", "member", "topic"}


def room_event(frame: Frame, replayed: bool = False) -> RoomEvent:
    """The typed form of a seq'd room frame."""
    event = _room_event(frame)
    return replace(event, replayed=True) if replayed else event


def _room_event(frame: Frame) -> RoomEvent:
    kind = frame.get("type")
    room, seq, ts = str(frame["room"]), int(frame["seq"]), frame.get("ts")
    if kind == "message":
        return Message(
            frame,
            room,
            seq,
            ts,
            username=str(frame.get("username", "")),
            text=str(frame.get("message", "")),
            reply_to=frame.get("reply_to"),
            mentions=tuple(frame.get("mentions") or ()),
            mentions_room=bool(frame.get("mentions_room", False)),
            deleted=bool(frame.get("deleted", False)),
            edited_at=frame.get("edited_at"),
            reactions=dict(frame.get("reactions") or {}),
            replies=int(frame.get("replies") or 0),
            attachments=tuple(frame.get("attachments") or ()),
        )
    if kind == "edited":
        return Edited(
            frame,
            room,
            seq,
            ts,
            target=int(frame["target"]),
            text=str(frame.get("message", "")),
            edited_at=frame.get("edited_at"),
        )
    if kind == "deleted":
        return Deleted(frame, room, seq, ts, target=int(frame.get("target", seq)))
    if kind == "reaction":
        return Reaction(
            frame,
            room,
            seq,
            ts,
            target=int(frame["target"]),
            emoji=str(frame["emoji"]),
            users=tuple(frame.get("users") or ()),
        )
    if kind == "member":
        return Member(
            frame,
            room,
            seq,
            ts,
            username=str(frame.get("username", "")),
            op=str(frame.get("op", "")),
            by=frame.get("by"),
        )
    if kind == "topic":
        return Topic(
            frame, room, seq, ts, topic=str(frame.get("topic", "")), by=frame.get("by")
        )
    return OtherRoomEvent(frame, room, seq, ts)


def user_event(frame: Frame) -> Event | None:
    """The typed form of a frame without seq, or None for one to ignore."""
    kind = frame.get("type")
    if kind == "hello":
        return Hello(
            frame, username=str(frame["username"]), rooms=tuple(frame.get("rooms", ()))
        )
    if kind == "room":
        return RoomSummary(
            frame,
            room=str(frame["room"]),
            unread=int(frame.get("unread", 0)),
            mentions=int(frame.get("mentions", 0)),
        )
    if kind == "read":
        return Read(frame, room=str(frame["room"]), seq=int(frame["seq"]))
    if kind == "removed":
        return Removed(frame, room=str(frame["room"]))
    if kind == "presence":
        return Presence(
            frame, room=str(frame.get("room", "")), online=tuple(frame["online"])
        )
    if kind == "typing":
        return Typing(
            frame, room=str(frame.get("room", "")), username=str(frame["username"])
        )
    if kind == "error":
        return ErrorEvent(
            frame,
            code=str(frame.get("code", "")),
            detail=str(frame.get("detail", "")),
            room=frame.get("room"),
            client_id=frame.get("client_id"),
        )
    return None
