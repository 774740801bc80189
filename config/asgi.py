"""ASGI entry point: HTTP by Django, WebSockets by Channels.

Django's ASGI app is built first (it sets up the app registry); only then is
the routing imported, because it imports models.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.http.bodylimit import BodyLimitMiddleware  # noqa: E402
from chat.realtime import drain  # noqa: E402
from chat.ws.handshake import ChatAuthMiddlewareStack  # noqa: E402
from chat.ws.limits import HandshakeLimit  # noqa: E402
from chat.ws.routing import router  # noqa: E402
from config.logqueue import write_logs_from_a_thread  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": drain.RefuseWhileDraining(
            HandshakeLimit(ChatAuthMiddlewareStack(router))
        ),
        "lifespan": drain.lifespan,  # the SIGTERM hook (graceful restart)
    }
)

# The cyclic garbage collector, tuned for a server holding many sockets
# (docs/performance.md, "Garbage-collector pauses"):
# - everything loaded so far (Django, the apps, the routing: ~90,000
#   objects) lives as long as the process; frozen, no collection walks it;
# - with the default threshold (a collection every 700 new objects), the
#   short-lived objects of each post (futures, tasks, frames) lived through
#   enough collections to reach the oldest generation, whose collection then
#   ran every few seconds and paused every socket for ~110 ms at 1,000
#   sockets. Collecting every 50,000 objects lets them die young.
gc.freeze()
gc.set_threshold(50_000, 20, 100)

if settings.CHAT_LOG_FROM_THREAD:
    write_logs_from_a_thread()
