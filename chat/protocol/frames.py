"""Every frame of the WebSocket protocol as a type, and its JSON Schema.

The server frames (what a client receives) and the client frames (what it may
send) of docs/protocol.md and PROTOCOL.md version 2, as TypedDicts: the shape
is checked by mypy where a frame is typed, and `protocol_schema()` turns these
types into the JSON Schema served at `/api/v1/protocol.json`. The in-process
consumer tests validate every frame the server sends against that schema
(chat/tests/conftest.py), so a frame that drifts from its type fails a test.

Server frames are strict (no property beyond those named here): a new field
is added here first. The error codes and close codes come from chat/protocol/v1.py
(`ErrorCode`, `CloseCode`), named there once.
"""

import functools
import types
from enum import Enum
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    TypedDict,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from chat.protocol.v1 import CloseCode, ErrorCode, constants


class Schema:
    """JSON Schema keywords for an Annotated type: Annotated[int, Schema(minimum=1)]."""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords


# --- field types ---

Seq = Annotated[int, Schema(minimum=1, description="A room event's sequence number.")]
LastSeq = Annotated[
    int, Schema(minimum=0, description="The room's newest seq (0: none yet).")
]
RoomName = Annotated[
    str,
    Schema(
        pattern="^[a-z0-9_-]{1,64}$",
        description="A room's canonical (lowercase) name.",
    ),
]
Timestamp = Annotated[
    str,
    Schema(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
        description="UTC with milliseconds: 2026-11-23T22:20:00.123Z.",
    ),
]
Position = Annotated[
    int, Schema(minimum=0, description="A read position (a seq, or 0).")
]
Count = Annotated[int, Schema(minimum=0)]
ClientId = Annotated[str, Schema(minLength=1, maxLength=64)]
Username = str
RoomKind = Literal["public", "private", "dm"]
Notify = Literal["all", "mentions", "none"]


class Attachment(TypedDict):
    """An uploaded file a message carries."""

    id: str
    name: str
    size: Count
    content_type: str  # sniffed from the bytes
    url: str  # served only to readers of a live message that carries it
    thumbnail_url: NotRequired[str]  # images
    width: NotRequired[Count]
    height: NotRequired[Count]


class RoomSummary(TypedDict):
    """A room as its member sees it in the v2 hello and `room` frames."""

    room: RoomName
    kind: RoomKind
    topic: str | None
    last_seq: LastSeq
    last_read_seq: Position
    unread: Count
    mentions: Count
    notify: Notify
    members: NotRequired[list[Username]]  # DMs and private rooms


# --- server → client: room events (each takes the room's next seq) ---


class MessageFrame(TypedDict):
    """A post; in history with its current state (edited, deleted, reactions)."""

    type: Literal["message"]
    seq: Seq
    room: RoomName
    username: Username
    message: str
    ts: Timestamp
    deleted: NotRequired[bool]  # true: a tombstone, `message` is empty
    reply_to: NotRequired[Seq]
    mentions: NotRequired[list[Username]]
    mentions_room: NotRequired[bool]
    attachments: NotRequired[list[Attachment]]
    edited_at: NotRequired[Timestamp]
    reactions: NotRequired[dict[str, list[Username]]]
    replies: NotRequired[Count]
    last_reply: NotRequired[Seq]  # on a root: its newest reply's seq


class EditedFrame(TypedDict):
    """Message `target` has a new text."""

    type: Literal["edited"]
    seq: Seq
    room: RoomName
    username: Username  # who made the change (the author)
    ts: Timestamp
    target: Seq
    message: str  # empty once the message is deleted
    edited_at: Timestamp
    mentions: NotRequired[list[Username]]  # of the new text
    mentions_room: NotRequired[bool]


class DeletedFrame(TypedDict):
    """Message `target` was deleted: show a tombstone in its place.

    Version 1 (before the room event log) sends `room` and `seq` only, `seq`
    naming the deleted message; with the event log `seq` is the event's own,
    `target` the message's, and `ts` is set.
    """

    type: Literal["deleted"]
    seq: Seq
    room: RoomName
    username: NotRequired[Username]  # who deleted it (author, owner, staff)
    ts: NotRequired[Timestamp]
    target: NotRequired[Seq]


class ReactionFrame(TypedDict):
    """The full list of users who reacted to `target` with `emoji`."""

    type: Literal["reaction"]
    seq: Seq
    room: RoomName
    username: Username  # who reacted or took the reaction back
    ts: Timestamp
    target: Seq
    emoji: str
    users: list[Username]


class MemberFrame(TypedDict):
    type: Literal["member"]
    seq: Seq
    room: RoomName
    ts: Timestamp
    username: Username
    op: Literal["join", "leave", "remove"]
    by: Username


class TopicFrame(TypedDict):
    type: Literal["topic"]
    seq: Seq
    room: RoomName
    username: NotRequired[Username]  # who set it (as `by`)
    ts: Timestamp
    topic: str
    by: Username


RoomEvent = (
    MessageFrame | EditedFrame | DeletedFrame | ReactionFrame | MemberFrame | TopicFrame
)


# --- server → client: the rest ---


class HelloFrame(TypedDict):
    """Version 1, first frame: the room, who you are, who is online."""

    type: Literal["hello"]
    v: Literal[1]  # the protocol's version
    server: str  # the server's version (CHANGELOG.md)
    room: RoomName
    username: Username
    online: list[Username]
    last_seq: LastSeq


class HelloV2Frame(TypedDict):
    """Version 2 (`/ws/`), first frame: a summary per room of the user's."""

    type: Literal["hello"]
    v: Literal[2]
    username: Username
    rooms: list[RoomSummary]


class HistoryFrame(TypedDict):
    """A page of events, oldest first (on connect, resume, or asked for)."""

    type: Literal["history"]
    messages: list[RoomEvent]
    complete: bool
    has_more: bool
    room: NotRequired[RoomName]  # version 2
    # Version 2, in answer to a sync: the room's newest seq when the history
    # was read; live events continue from the next one.
    last_seq: NotRequired[Seq]


class AckFrame(TypedDict):
    """The post with this client_id is stored as `seq`."""

    type: Literal["ack"]
    client_id: ClientId
    seq: Seq
    room: NotRequired[RoomName]  # version 2


class PresenceFrame(TypedDict):
    type: Literal["presence"]
    online: list[Username]
    room: NotRequired[RoomName]  # version 2


class TypingFrame(TypedDict):
    type: Literal["typing"]
    username: Username
    room: NotRequired[RoomName]  # version 2


class ErrorFrame(TypedDict):
    """A refused frame: nothing was stored or sent; the socket stays open."""

    type: Literal["error"]
    code: ErrorCode
    detail: str
    # Version 2: the refused frame's own values, echoed as sent (even a bad name).
    room: NotRequired[str]
    client_id: NotRequired[ClientId]  # version 2: the refused frame's


class RoomFrame(RoomSummary):
    """Version 2, per user: a room's summary changed."""

    type: Literal["room"]


class ReadFrame(TypedDict):
    """Version 2, per user: the read position moved (on another socket)."""

    type: Literal["read"]
    room: RoomName
    seq: Position


class RemovedFrame(TypedDict):
    """Version 2, per user: access to the room ended."""

    type: Literal["removed"]
    room: RoomName


ServerFrame = (
    HelloFrame
    | HelloV2Frame
    | HistoryFrame
    | MessageFrame
    | AckFrame
    | PresenceFrame
    | TypingFrame
    | ErrorFrame
    | DeletedFrame
    | EditedFrame
    | ReactionFrame
    | MemberFrame
    | TopicFrame
    | RoomFrame
    | ReadFrame
    | RemovedFrame
)
SERVER_FRAMES: tuple[Any, ...] = get_args(ServerFrame)


# --- client → server (the server ignores properties it does not know) ---


class PostIn(TypedDict):
    """A post; `type` may be left out (the Channels tutorial's frame)."""

    type: NotRequired[Literal["message"]]
    message: str
    client_id: NotRequired[ClientId]
    room: NotRequired[RoomName]  # version 2
    reply_to: NotRequired[Seq]  # version 2


class TypingIn(TypedDict):
    type: Literal["typing"]
    room: NotRequired[RoomName]  # version 2


class HistoryIn(TypedDict):
    type: Literal["history"]
    before: NotRequired[Seq]
    limit: NotRequired[Annotated[int, Schema(minimum=1)]]
    room: NotRequired[RoomName]  # version 2


class SyncIn(TypedDict):
    """Version 2: send these rooms' events from `since` (null: newest page)."""

    type: Literal["sync"]
    rooms: dict[str, Annotated[int, Schema(minimum=0)] | None]


class UnsyncIn(TypedDict):
    type: Literal["unsync"]
    rooms: list[RoomName]


class EditIn(TypedDict):
    type: Literal["edit"]
    room: RoomName
    seq: Seq
    message: str


class DeleteIn(TypedDict):
    type: Literal["delete"]
    room: RoomName
    seq: Seq


class ReactIn(TypedDict):
    type: Literal["react"]
    room: RoomName
    seq: Seq
    emoji: str
    on: bool


class ReadIn(TypedDict):
    type: Literal["read"]
    room: RoomName
    seq: Position
    force: NotRequired[bool]


ClientFrame = (
    PostIn
    | TypingIn
    | HistoryIn
    | SyncIn
    | UnsyncIn
    | EditIn
    | DeleteIn
    | ReactIn
    | ReadIn
)
CLIENT_FRAMES: tuple[Any, ...] = get_args(ClientFrame)

SCHEMA_ID = "/api/v1/protocol.json"


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a type of this module; TypedDicts and enums go to defs."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extras = get_args(tp)
        schema = _schema(base, defs)
        for extra in extras:
            if isinstance(extra, Schema):
                schema = {**schema, **extra.keywords}
        return schema
    if origin in (Required, NotRequired):
        return _schema(get_args(tp)[0], defs)
    if origin is Literal:
        values = list(get_args(tp))
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, defs) for arg in get_args(tp)]}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(tp)[0], defs)}
    if origin is dict:
        key, value = get_args(tp)
        assert key is str, tp
        return {"type": "object", "additionalProperties": _schema(value, defs)}
    if tp is type(None):
        return {"type": "null"}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if isinstance(tp, type) and issubclass(tp, Enum):
        defs.setdefault(tp.__name__, {"enum": [member.value for member in tp]})
        return {"$ref": _REF.format(name=tp.__name__)}
    if is_typeddict(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}  # placeholder: a recursive reference stops here
            hints = get_type_hints(tp, include_extras=True)
            definition: dict[str, Any] = {"type": "object", "title": tp.__name__}
            if tp.__doc__:
                definition["description"] = " ".join(tp.__doc__.split())
            definition["properties"] = {
                name: _schema(hint, defs) for name, hint in hints.items()
            }
            definition["required"] = sorted(tp.__required_keys__)
            defs[tp.__name__] = definition
        return {"$ref": _REF.format(name=tp.__name__)}
    raise TypeError(f"no JSON Schema for {tp!r}")


_SCALARS = {int: "integer", str: "string", bool: "boolean", float: "number"}
_REF = "#/$defs/{name}"


@functools.cache
def protocol_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the protocol.

    The document itself validates a server frame (`oneOf` the server frames);
    `#/$defs/ClientFrame` validates a client frame. `x-error-codes` and
    `x-close-codes` name every code (as in chat/protocol/v1.py), and
    `x-constants` is the same object the page gets as `chat-protocol`.
    """
    defs: dict[str, Any] = {}
    server = [_schema(frame, defs) for frame in SERVER_FRAMES]
    client = [_schema(frame, defs) for frame in CLIENT_FRAMES]
    for frame in SERVER_FRAMES + (RoomSummary, Attachment):
        # Server frames are closed: a field the type does not name is a bug.
        # Client frames are open: the server ignores what it does not know.
        defs[frame.__name__]["additionalProperties"] = False
    defs["ServerFrame"] = {"oneOf": server}
    defs["ClientFrame"] = {"anyOf": client}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Chat protocol frames",
        "description": (
            "Every frame of the chat WebSocket protocol (docs/protocol.md). "
            "The document validates a frame the server sends; "
            "#/$defs/ClientFrame one a client sends."
        ),
        "$ref": "#/$defs/ServerFrame",
        "$defs": defs,
        "x-error-codes": [code.value for code in ErrorCode],
        "x-close-codes": {code.name: code.value for code in CloseCode},
        "x-constants": constants(),
    }
