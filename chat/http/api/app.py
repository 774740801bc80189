"""The NinjaAPI instance: JSON in and out with orjson, the project's errors
(errors.install), Bearer-or-session auth on every operation by default, and
the OpenAPI document generated from the code (served by urls.py).
"""

import copy
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.renderers import BaseRenderer

from chat.http.api import errors
from chat.http.api.auth import user_auth
from chat.protocol.v1 import ChatError, ErrorCode

DESCRIPTION = (
    "Read and post in rooms over HTTP; live updates are on the WebSocket "
    "(docs/protocol.md). See docs/api.md. Every error is "
    '`{"code": ..., "detail": ...}` with the protocol\'s codes.'
)


class OrjsonParser(Parser):
    """A JSON object, or the refusal that says what is wrong with the body."""

    def parse_body(self, request: HttpRequest) -> dict:
        body = request.body
        limit = settings.CHAT_MAX_FRAME_BYTES
        if len(body) > limit:
            raise ChatError(
                ErrorCode.TOO_LONG, f"The request body is over {limit} bytes."
            )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ChatError(
                ErrorCode.BAD_JSON, "The request body is not valid JSON."
            ) from None
        if not isinstance(data, dict):
            raise ChatError(
                ErrorCode.BAD_FRAME, "The request body must be a JSON object."
            )
        return data


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class ChatAPI(NinjaAPI):
    def get_content_type(self) -> str:
        return "application/json"  # JSON is UTF-8 (RFC 8259): no charset

    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation.view_func.__name__  # list_rooms, post_message, ...

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """ninja's document, with each HEAD its own operation: a unique
        operationId and no response body."""
        schema = super().get_openapi_schema(**kwargs)
        for item in schema["paths"].values():
            if "head" not in item:
                continue
            head = copy.deepcopy(item["head"])
            head["operationId"] += "_head"
            head["summary"] = f"Headers only: {head['summary']}"
            for response in head["responses"].values():
                response.pop("content", None)
            item["head"] = head
        return schema


api = ChatAPI(
    title="Chat API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    openapi_url=None,  # views.schema serves it at /schema (GET and HEAD only)
    docs_url=None,
    auth=user_auth(),
    parser=OrjsonParser(),
    renderer=OrjsonRenderer(),
)
errors.install(api)
api.add_router("", "chat.http.api.views.router")
api.add_router("", "chat.http.api.rooms.router")  # /rooms/public before /rooms/{room}
api.add_router("", "chat.http.api.messages.router")
api.add_router("", "chat.http.api.files_search.router")
api.add_router("", "chat.http.api.mentions.router")
api.add_router("", "chat.http.api.users.router")
