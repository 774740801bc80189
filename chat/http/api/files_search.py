"""`GET /api/v1/search` and `POST /api/v1/uploads`: thin views over
chat.services.search and chat.services.uploads, both behind the one access
rule. The database, Pillow and the file storage run in threads, never on
the event loop.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.http.bodylimit import UPLOAD_ENVELOPE
from chat.services import search as search_service
from chat.services import uploads
from chat.store import db
from chat.store.attachments import descriptor

router = Router()

GET = ["GET", "HEAD"]
AUTH_ERRORS = {401: schemas.Error, 503: schemas.Error}


class SearchParams(Schema):
    q: str = Field(
        ...,
        min_length=1,
        max_length=search_service.MAX_QUERY,
        pattern=r"^[^\x00]*\S[^\x00]*$",  # (a NUL is refused, saying so)
        description="Words or fragments, and filters: from:alice in:dev "
        "has:link has:file before:2026-12-01 after:2026-11-01.",
    )
    room: str | None = Field(None, max_length=64, description="Only this room.")
    from_: str | None = Field(None, alias="from", max_length=150)
    limit: int | None = Field(None, ge=1, le=100)


class SearchHit(schemas.Message):
    highlights: list[list[int]] = Field(
        ..., description="[start, end) character ranges of the query's terms."
    )


class SearchResults(Schema):
    results: list[SearchHit] = Field(..., description="Newest first.")


class UploadOut(Schema):
    id: str
    name: str
    size: int
    content_type: str = Field(..., description="Sniffed from the bytes.")
    url: str = Field(..., description="Served only to readers of its message.")
    thumbnail_url: str | None = Field(None, description="Images only.")
    width: int | None = None
    height: int | None = None


@router.api_operation(
    GET,
    "/search",
    response={200: SearchResults, 400: schemas.Error, 429: schemas.Error} | AUTH_ERRORS,
    summary="Search the messages of the rooms the caller may read, newest first.",
    exclude_none=True,  # a hit reads as its frame does: no null fields
)
async def search(request: HttpRequest, params: Query[SearchParams]) -> Any:
    from chat.services.posting import take_token

    await take_token(caller(request))  # a search is a read: it takes a token
    results = await db.reads(search_service.search)(
        caller(request),
        params.q,
        room=params.room,
        sender=params.from_,
        limit=params.limit,
    )
    return {"results": results}


@router.post(
    "/uploads",
    response={201: UploadOut, 400: schemas.Error, 413: schemas.Error} | AUTH_ERRORS,
    summary="Upload a file (multipart, field `file`), to attach to a message.",
    exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "minLength": 1,
                            }
                        },
                    }
                }
            },
        }
    },
)
async def upload(request: HttpRequest) -> Any:
    """The file is parsed, sniffed and stored in a thread (Pillow and the
    storage never run on the event loop)."""
    upload = await db.slow(_store)(request)
    return Status(201, upload)


def _store(request: HttpRequest) -> dict:
    """The multipart body is parsed here, through a handler that also stops
    at the size limit."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise uploads.BadRequest("Content-Length must be a number.")
    # (A body over the limit never got here: chat.http.bodylimit refused it.)
    if int(declared) > settings.CHAT_UPLOAD_MAX_BYTES + UPLOAD_ENVELOPE:
        raise uploads.too_large_error()
    uploads.check_quota(caller(request), max(0, int(declared) - UPLOAD_ENVELOPE))
    file = multipart_file(request, "file")
    return descriptor(uploads.store_upload(caller(request), file))


def multipart_file(request: HttpRequest, what: str):
    """The file in the multipart field `file` (uploads, avatars), parsed
    through a handler that stops at CHAT_UPLOAD_MAX_BYTES; `what` names it in
    the refusals ("file", "picture"). Run in a thread: it reads the body."""
    handler = uploads.LimitedUploadHandler(request)
    # With the session (the page), the CSRF check has read request.POST, so
    # the body is parsed already (bounded by chat.http.bodylimit; the services
    # check the size again).
    if not hasattr(request, "_files"):
        request.upload_handlers = [handler]
    try:
        files = request.FILES
    except RequestDataTooBig:
        raise uploads.too_large_error() from None
    except MultiPartParserError as exc:
        raise uploads.BadRequest(
            f"The body is not valid multipart/form-data ({exc}); send the "
            f'{what} in a field named "file".'
        ) from None
    if handler.too_large:
        raise uploads.too_large_error()
    file = files.get("file")
    if file is None:
        raise uploads.BadRequest(
            f'Send the {what} as multipart/form-data in a field named "file".'
        )
    return file
