"""The request and response bodies of the REST API, as django-ninja schemas.

The OpenAPI document at /api/v1/schema/ is generated from these and from the
operations' signatures. Limits that come from settings are validated by the
protocol (chat.protocol.parse_post, the views) and written into the document
when it is served (`from_settings`), never read at import time.
"""

from collections.abc import Callable
from typing import Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import ConfigDict

from ..rooms import ROOM_NAME_RE
from .errors import ERROR_CODES


def from_settings(static: dict | None = None, **names: str) -> Callable[[dict], None]:
    """A json_schema_extra that writes `static` and settings (by name) into
    the schema when it is generated: `from_settings(maxLength="CHAT_MAX_...")`."""

    def extra(schema: dict) -> None:
        schema.update(static or {})
        schema.update({key: getattr(settings, name) for key, name in names.items()})

    return extra


ROOM_PATTERN = f"^{ROOM_NAME_RE.pattern}$"


class Error(Schema):
    """Every refusal: one of the protocol's codes and a sentence for people."""

    code: str = Field(..., json_schema_extra={"enum": ERROR_CODES})
    detail: str


class TokenRequest(Schema):
    username: str
    password: str


class Token(Schema):
    token: str = Field(..., description="Shown once; send it as a Bearer token.")
    username: str


class Room(Schema):
    name: str
    last_seq: int = Field(..., ge=0)
    locked: bool = Field(..., description="Read only when true.")
    last_message_at: str | None


class RoomList(Schema):
    rooms: list[Room]


class Post(Schema):
    # Only the type is checked here: an empty or too long message gets the
    # protocol's own codes (`empty`, `too_long`) from chat.protocol.parse_post.
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


class MessagePage(Schema):
    room: str
    messages: list[Message] = Field(..., description="Oldest first.")
    has_more: bool = Field(
        ...,
        description="More messages exist past this page: older ones when "
        "paging back (`before`), newer ones when paging forward (`after`).",
    )
