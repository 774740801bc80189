"""`GET /api/v1/mentions`: recent messages that mention the caller, across
the rooms the caller is a member of (chat.services.reads.mentions_of)."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.services.reads import mentions_of
from chat.store import db

router = Router()


class MentionParams(Schema):
    limit: int = Field(50, ge=1, le=100)


class Mentions(Schema):
    messages: list[schemas.Message] = Field(..., description="Newest first.")


@router.api_operation(
    ["GET", "HEAD"],
    "/mentions",
    response={200: Mentions} | schemas.refusals(400),
    exclude_none=True,
    summary="Recent messages that mention you (@you, @room, @all), newest first.",
)
async def list_mentions(request: HttpRequest, params: Query[MentionParams]) -> Any:
    found = await db.reads(mentions_of)(caller(request), params.limit)
    return {"messages": found}
