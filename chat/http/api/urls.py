"""The API's URL patterns, mounted at /api/v1/ and, as aliases, at /api/
(config/urls.py).

Built from the NinjaAPI's own patterns, with what the contract adds on top:
a trailing slash optional on every path, a wrong method answered with the
JSON `method_not_allowed` error (and `Allow`), HEAD answered with headers
only, and any other path under /api/ with the JSON `not_found` error.
"""

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path

from chat.http.api.app import api
from chat.http.api.errors import error_response
from chat.protocol.v1 import ChatError, ErrorCode


def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code == 405 and response.get("Content-Type") != (
        "application/json"
    ):  # ninja's own plain-text 405
        allowed = sorted(m.strip() for m in response["Allow"].split(","))
        return error_response(
            request,
            ChatError(
                ErrorCode.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
            ),
            {"Allow": ", ".join(allowed)},
        )
    if request.method == "HEAD" and not response.streaming:
        length = len(response.content)
        response.content = b""
        response["Content-Length"] = str(length)  # the GET's, as HTTP says
    return response


def _wrap(view: Callable) -> Callable:
    if iscoroutinefunction(view):

        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            return _finish(request, await view(request, *args, **kwargs))

        wrapper: Callable = markcoroutinefunction(async_wrapper)
    else:

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            return _finish(request, view(request, *args, **kwargs))

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # see auth.py
    return wrapper


async def not_found(request: HttpRequest, **_kwargs: Any) -> HttpResponse:
    return _finish(
        request,
        error_response(
            request,
            ChatError(
                ErrorCode.NOT_FOUND,
                f"No API endpoint at {request.path}; see /api/v1/schema/.",
            ),
        ),
    )


not_found.csrf_exempt = True  # type: ignore[attr-defined]


def _patterns() -> list[URLPattern]:
    ninja_patterns, _app, _namespace = api.urls
    patterns = []
    seen = set()
    for pattern in ninja_patterns:
        # ninja makes each a named URLPattern with a view
        assert isinstance(pattern, URLPattern) and pattern.name
        if pattern.name == "api-root":  # ninja reverses it for the schema's paths
            patterns.append(path("", not_found, name="api-root"))
            continue
        route = str(pattern.pattern)
        if route in seen:  # ninja repeats a path once per operation on it
            continue
        seen.add(route)
        view = _wrap(pattern.callback)
        patterns.append(path(route, view, name=pattern.name))
        patterns.append(path(f"{route}/", view))
    patterns.append(re_path(r"", not_found))
    return patterns


app_name = "api"
urlpatterns = _patterns()
