"""The request and response bodies of the REST API, as django-ninja schemas.

The OpenAPI document at /api/v1/schema/ is generated from these and from the
operations' signatures. Limits that come from settings are validated by the
protocol (chat.protocol.v1.parse_post, the views) and written into the document
when it is served (`from_settings`), never read at import time.
"""

from collections.abc import Callable
from typing import Annotated, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, JsonValue

from chat.domain.rooms import ROOM_NAME_RE
from chat.http.api.errors import ERROR_CODES


def from_settings(static: dict | None = None, **names: str) -> Callable[[dict], None]:
    """A json_schema_extra that writes `static` and settings (by name) into
    the schema when it is generated: `from_settings(maxLength="CHAT_MAX_...")`."""

    def extra(schema: dict) -> None:
        schema.update(static or {})
        schema.update({key: getattr(settings, name) for key, name in names.items()})

    return extra


ROOM_PATTERN = f"^{ROOM_NAME_RE.pattern}$"
GET = ["GET", "HEAD"]  # HEAD wherever GET is


def _whole(value: object) -> object:
    # JSON Schema counts 3.0 as an integer; orjson reads it as a float.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Whole numbers in a strict body: 0 and up, or 1 and up (a message's seq).
# (The bound before the validator, or pydantic writes it as "ge" in the schema.)
Integer = Annotated[int, Field(ge=0), BeforeValidator(_whole)]
Seq = Annotated[int, Field(ge=1), BeforeValidator(_whole)]


class Body(Schema):
    """A request body: JSON types as they are (no "5" for 5, no 0 for false)."""

    model_config = ConfigDict(strict=True)


class Error(Schema):
    """Every refusal: one of the protocol's codes and a sentence for people."""

    code: str = Field(..., json_schema_extra={"enum": list[JsonValue](ERROR_CODES)})
    detail: str


class TokenRequest(Body):
    username: str
    password: str


class Token(Schema):
    token: str = Field(..., description="Shown once; send it as a Bearer token.")
    username: str


class TokenInfo(Schema):
    id: int
    created_at: str
    expires_at: str | None = Field(..., description="null: it does not expire.")


class TokenList(Schema):
    tokens: list[TokenInfo] = Field(..., description="Newest first.")


class Post(Body):
    reply_to: Seq | None = Field(
        None, description="Reply in the thread of this message (its seq)."
    )
    attachments: list[str] | None = Field(
        None,
        max_length=10,
        description="Ids of your uploads (POST /api/v1/uploads) this message "
        "carries; at most CHAT_ATTACHMENTS_MAX.",
    )
    # Only the type is checked here: an empty or too long message gets the
    # protocol's own codes (`empty`, `too_long`) from chat.protocol.v1.parse_post.
    message: str = Field(
        ...,
        description="1 to CHAT_MAX_MESSAGE_LENGTH (default 4000) characters "
        "after stripping surrounding white space.",
        json_schema_extra=from_settings(
            # Stripped of surrounding white space, it must not be empty.
            {"minLength": 1, "pattern": r"\S"},
            maxLength="CHAT_MAX_MESSAGE_LENGTH",
        ),
    )
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Stored at most once per (user, client_id): send a retry "
        "with the same one. null: none.",
    )


class RoomPath(Schema):
    # The pattern documents the rule; a name that breaks it is answered 404
    # not_found by the view, as a room that does not exist.
    room: str = Field(
        ...,
        description="Room name: 1 to 64 ASCII letters, digits, `-` or `_`; "
        "case-insensitive (the canonical form is lowercase).",
        json_schema_extra={"pattern": ROOM_PATTERN},
    )


class PageQuery(Schema):
    before: int | None = Field(None, ge=1, description="Only seq < before.")
    after: int | None = Field(
        None,
        ge=0,
        description="Only seq > after, oldest first: a forward cursor (pass "
        "the last seq you got).",
    )
    limit: int | None = Field(
        None,
        ge=1,
        description="1 to CHAT_HISTORY_PAGE_MAX (default 100); by default "
        "CHAT_HISTORY_ON_CONNECT (50).",
        json_schema_extra=from_settings(
            maximum="CHAT_HISTORY_PAGE_MAX", default="CHAT_HISTORY_ON_CONNECT"
        ),
    )
    thread: int | None = Field(
        None, ge=1, description="Only this thread: its root (this seq) and replies."
    )
    around: int | None = Field(
        None,
        ge=1,
        description="A page centred on this seq (a permalink opened in "
        "context); has_more: older ones exist.",
    )


class Message(Schema):
    """The WebSocket's message frame, as stored."""

    # Fields the frame gains later pass through unchanged.
    model_config = ConfigDict(extra="allow")

    type: Literal["message"]
    seq: int = Field(..., ge=1)
    room: str
    username: str
    message: str = Field(..., description="Empty when deleted.")
    ts: str = Field(..., description="UTC, e.g. 2026-11-23T22:20:00.123Z")
    deleted: bool | None = Field(None, description="Present (true) when deleted.")
    reply_to: int | None = Field(None, description="The seq of its thread's root.")
    edited_at: str | None = Field(None, description="When last edited (UTC).")
    mentions: list[str] | None = Field(None, description="Usernames mentioned.")
    mentions_room: bool | None = Field(None, description="True for @room / @all.")
    reactions: dict[str, list[str]] | None = Field(
        None, description='Who reacted with what: {"👍": ["bob"]}.'
    )
    replies: int | None = Field(None, description="On a thread's root: its replies.")
    attachments: list[dict] | None = Field(
        None,
        description="Files it carries: id, name, size, content_type, url, and "
        "thumbnail_url, width, height for images.",
    )


class MessagePage(Schema):
    room: str
    messages: list[Message] = Field(..., description="Oldest first.")
    has_more: bool = Field(
        ...,
        description="More messages exist past this page: older ones when "
        "paging back (`before`), newer ones when paging forward (`after`).",
    )


Kind = Literal["public", "private", "dm"]
Notify = Literal["all", "mentions", "none"]


class Summary(Schema):
    """A room of the caller: the v2 socket's summary (docs/protocol.md)."""

    room: str
    kind: Kind
    topic: str
    last_seq: int = Field(..., ge=0)
    last_read_seq: int = Field(..., ge=0)
    unread: int = Field(..., ge=0, description="Others' messages past last_read_seq.")
    mentions: int = Field(..., ge=0, description="Of those, the ones naming you.")
    notify: Notify
    members: list[str] | None = Field(None, description="Private rooms and DMs.")


class SummaryList(Schema):
    rooms: list[Summary] = Field(..., description="Most recently active first.")


class RoomDetails(Schema):
    """A room the caller can see: its summary when a member (`member`
    true), else (a public room) the public facts."""

    room: str
    kind: Kind
    topic: str
    last_seq: int = Field(..., ge=0)
    member: bool
    last_read_seq: int | None = Field(None, ge=0)
    unread: int | None = Field(None, ge=0)
    mentions: int | None = Field(None, ge=0)
    notify: Notify | None = None
    members: list[str] | None = Field(None, description="Private rooms and DMs.")


class PublicRoom(Schema):
    room: str
    topic: str
    members: int = Field(..., ge=0, description="How many members.")
    last_message_at: str | None


class PublicRoomList(Schema):
    rooms: list[PublicRoom] = Field(..., description="Most recently active first.")


# chat.services.rooms.clean_topic: after white space runs become one space,
# no character of Unicode category Cc and at most 250 characters.
TOPIC_RULE: dict[str, JsonValue] = {
    "maxLength": 250,
    "pattern": "^[^\\x00-\\x08\\x0e-\\x1b\\x7f-\\x84\\x86-\\x9f]*$",
}


class NewRoom(Body):
    name: str = Field(
        ...,
        description="1 to 64 ASCII letters, digits, `-` or `_` (not starting "
        "with `dm-`); case-insensitive.",
        json_schema_extra={"pattern": ROOM_PATTERN},
    )
    kind: Literal["public", "private"] = "public"
    topic: str = Field(
        "",
        description="One line (white space runs become one space), at most 250 "
        "characters, no control characters.",
        json_schema_extra=TOPIC_RULE,
    )


class RoomChange(Body):
    """Either or both; one left out (or null) stays as it is."""

    topic: str | None = Field(
        None,
        description="Any member; one line, at most 250 characters, no control "
        "characters.",
        json_schema_extra=TOPIC_RULE,
    )
    notify: Notify | None = Field(None, description="Yours: which messages notify.")


class MemberPath(Schema):
    room: str = Field(..., json_schema_extra={"pattern": ROOM_PATTERN})
    username: str


Username = Annotated[str, Field(min_length=1, max_length=150)]


class NewDm(Body):
    users: list[Username] = Field(
        ...,
        max_length=8,
        description="The others: 0 to 8 usernames (a DM has 1 to 9 users, "
        "you included). The same set always gets the same room.",
    )


class MessagePath(Schema):
    room: str = Field(..., json_schema_extra={"pattern": ROOM_PATTERN})
    seq: int = Field(..., ge=1)


class ReactionPath(Schema):
    room: str = Field(..., json_schema_extra={"pattern": ROOM_PATTERN})
    seq: int = Field(..., ge=1)
    emoji: str = Field(
        ...,
        description="One emoji, URL-encoded (%F0%9F%91%8D).",
        json_schema_extra={"format": "emoji"},
    )


class Edit(Body):
    # The protocol checks it as a post: `empty`, `too_long`.
    message: str = Field(
        ...,
        json_schema_extra=from_settings(
            {"minLength": 1, "pattern": r"\S"}, maxLength="CHAT_MAX_MESSAGE_LENGTH"
        ),
    )


class Read(Body):
    seq: Integer = Field(..., description="The last seq you have read.")
    force: bool = Field(
        False, description="Move the position back too (mark as unread)."
    )


def refusals(*statuses: int) -> dict:
    """The documented errors of an operation: 401 and 503 always, and these."""
    return {status: Error for status in (*statuses, 401, 503)}


class EditRecord(Schema):
    message: str = Field(..., description="The text before this edit.")
    edited_at: str = Field(..., description="When it was replaced (UTC).")


class EditHistory(Schema):
    edits: list[EditRecord] = Field(..., description="Oldest first.")
