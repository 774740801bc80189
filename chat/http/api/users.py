"""Display names and avatars (chat.services.profiles): `GET /api/v1/users`
(profiles by username), `GET|PATCH /api/v1/users/me`, `POST|DELETE
/api/v1/users/me/avatar`. The database, Pillow and the storage run in
threads, never on the event loop."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from accounts.models import DISPLAY_NAME_FORBIDDEN, DISPLAY_NAME_MAX
from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.http.api.files_search import multipart_file
from chat.services import profiles
from chat.store import db

router = Router()


class Profile(Schema):
    username: str
    display_name: str = Field(
        ..., description='Shown beside the username; "" when none is set.'
    )
    avatar_url: str | None = Field(
        ..., description="A 128 px PNG; its URL changes with it. null: initials."
    )


class Profiles(Schema):
    users: list[Profile] = Field(
        ..., description="The active users among those asked, in that order."
    )


class ProfileParams(Schema):
    names: str = Field(
        ...,
        max_length=profiles.NAMES_MAX_CHARS,
        description=f"Comma-separated usernames, at most {profiles.NAMES_MAX} "
        f"and {profiles.NAMES_MAX_CHARS} characters.",
    )


class ProfileChange(Schema):
    display_name: str = Field(
        ...,
        max_length=DISPLAY_NAME_MAX,
        pattern=f"^[^{DISPLAY_NAME_FORBIDDEN}]*$",
        description="At most 64 characters, spaces trimmed; empty for none "
        "(the username alone). No control or formatting characters.",
    )


@router.api_operation(
    ["GET", "HEAD"],
    "/users",
    response={200: Profiles} | schemas.refusals(400),
    summary="Display names and avatars of users, by username.",
)
async def list_profiles(request: HttpRequest, params: Query[ProfileParams]) -> Any:
    names = [name.strip() for name in params.names.split(",")]
    found = await db.reads(profiles.profiles)(caller(request), names)
    return {"users": found}


@router.api_operation(
    ["GET", "HEAD"],
    "/users/me",
    response={200: Profile} | schemas.refusals(),
    summary="Your display name and avatar.",
)
async def my_profile(request: HttpRequest) -> Any:
    return await db.reads(profiles.own)(caller(request))


@router.patch(
    "/users/me",
    response={200: Profile} | schemas.refusals(400),
    summary="Set your display name (empty: none).",
)
async def change_profile(request: HttpRequest, change: ProfileChange) -> Any:
    return await db.writes(profiles.set_display_name)(
        caller(request), change.display_name
    )


@router.post(
    "/users/me/avatar",
    response={200: Profile} | schemas.refusals(400, 413),
    summary="Set your avatar from a picture (multipart, field `file`): "
    "cropped to its centre square, 128 px, metadata removed.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def set_avatar(request: HttpRequest) -> Any:
    return await db.slow(_set_avatar)(request)


def _set_avatar(request: HttpRequest) -> dict:
    file = multipart_file(request, "picture")
    return profiles.set_avatar(caller(request), file)


@router.delete(
    "/users/me/avatar",
    response={200: Profile} | schemas.refusals(),
    summary="Remove your avatar (initials on a colour instead).",
)
async def clear_avatar(request: HttpRequest) -> Any:
    return await db.slow(profiles.clear_avatar)(caller(request))
