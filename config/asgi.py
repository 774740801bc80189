"""ASGI entry point: HTTP by Django, WebSockets by Channels.

Django's ASGI app is built first (it sets up the app registry); only then is
the routing imported, because it imports models.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from chat.auth import ChatAuthMiddlewareStack  # noqa: E402
from chat.routing import router  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ChatAuthMiddlewareStack(router),
    }
)
