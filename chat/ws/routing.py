from channels.routing import URLRouter
from django.urls import re_path

from chat.ws import limits
from chat.ws.v1 import ChatConsumer
from chat.ws.v2 import UserSocket


async def _no_route(scope, receive, send) -> None:
    await limits.refuse(scope, receive, send, "no_route")


websocket_urlpatterns = [
    # Any single path segment reaches the consumer, which checks the room
    # name itself and refuses (HTTP 403) before accept when it is invalid.
    re_path(r"^ws/chat/(?P<room>[^/]+)/$", ChatConsumer.as_asgi()),
    # Version 2: one socket per user, many rooms (chat.ws.v2).
    re_path(r"^ws/$", UserSocket.as_asgi()),
    # Everything else is refused too (HTTP 403 saying where sockets are),
    # instead of URLRouter's "No route found" server error.
    re_path(r"", _no_route),  # type: ignore[arg-type]  # an ASGI app (URLRouter)
]

router = URLRouter(websocket_urlpatterns)
