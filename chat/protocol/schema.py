"""`GET /api/v1/protocol.json`: the JSON Schema of every frame (chat/protocol/frames.py),
with the error and close codes. Public: it describes the protocol, not data."""

import functools

import orjson
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from chat.protocol.frames import protocol_schema


@functools.cache
def _body() -> bytes:
    return orjson.dumps(protocol_schema(), option=orjson.OPT_INDENT_2)


@require_safe
def protocol_json(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_body(), content_type="application/schema+json")
    response["Cache-Control"] = "public, max-age=300"
    return response
