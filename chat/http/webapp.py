"""The installable app: manifest, service worker, favicon; and the data
every page's scripts get (`site_config`).

The service worker caches the page's static files only (never a page, the
API or the socket): it is the static file chat/sw.js behind a first line
naming the files of this deployment (their hashed URLs in production), so a
new deployment is a new worker, which drops the old cache.
"""

import hashlib
import json

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from chat.domain.rooms import ROOM_NAME_RE

# What the worker stores at install: everything a page needs to draw itself.
# The room page is app.js and the modules it imports (tests/browser/
# test_page_edges.py checks that every module the page loads is here).
ASSETS = [
    "chat/chat.css",
    "chat/team.css",
    "chat/fonts/emoji.css",
    "chat/fonts/emoji.woff2",
    "chat/site.js",
    "chat/switcher.js",
    "chat/index.js",
    "chat/app.js",
    "chat/api.js",
    "chat/dialogs.js",
    "chat/dom.js",
    "chat/emoji.js",
    "chat/format.js",
    "chat/i18n.js",
    "chat/markdown.js",
    "chat/notify.js",
    "chat/outbox.js",
    "chat/profiles.js",
    "chat/roomview.js",
    "chat/search.js",
    "chat/sidebar.js",
    "chat/socket.js",
    "chat/socket_v2.js",
    "chat/store.js",
    "chat/thread.js",
    "chat/uploads.js",
    "chat/vendor/dompurify/purify.es.js",
    "chat/vendor/markdown-it/markdown-it.min.js",
    "chat/views/composer.js",
    "chat/views/presence.js",
    "chat/views/status.js",
    "chat/icons/icon.svg",
    "chat/icons/icon-192.png",
    "chat/icons/favicon.ico",
]
ICONS = [
    ("chat/icons/icon.svg", "any", "image/svg+xml", "any"),
    ("chat/icons/icon-192.png", "192x192", "image/png", "any"),
    ("chat/icons/icon-512.png", "512x512", "image/png", "any"),
    ("chat/icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
]


def _read_static(path: str) -> bytes:
    found = finders.find(path)
    if found:
        with open(found, "rb") as file:
            return file.read()
    with staticfiles_storage.open(path) as file:  # collected (production)
        return file.read()


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "Chat",
        "short_name": "Chat",
        "description": _("Rooms and people, live."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("chat:index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#1b2233",
        "theme_color": "#1b2233",
        "icons": [
            {"src": static(path), "sizes": sizes, "type": kind, "purpose": purpose}
            for path, sizes, kind, purpose in ICONS
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """At the site's root, so its scope is every page (a worker under
    /static/ could only control /static/)."""
    assets = [static(path) for path in ASSETS]
    code = _read_static("chat/sw.js")
    version = hashlib.sha256(json.dumps(assets).encode() + code).hexdigest()[:12]
    config = {"version": version, "assets": assets, "staticPrefix": static("")}
    head = f"self.CHAT_SW = {json.dumps(config)};\n".encode()
    return HttpResponse(head + code, content_type="text/javascript")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for by themselves."""
    return redirect(static("chat/icons/favicon.ico"), permanent=True)


def site(request: HttpRequest) -> dict:
    """Template context `site_config`: the data block (json_script
    "site-config") of every page: the service worker, and what the room
    switcher (Ctrl+K) needs."""
    return {
        "site_config": {
            "serviceWorker": reverse("service_worker"),
            "roomListUrl": (
                reverse("chat:room_list") if request.user.is_authenticated else None
            ),
            "roomUrl": reverse("chat:room", args=["ROOM"]),
            "roomNamePattern": ROOM_NAME_RE.pattern,
            "username": (
                request.user.get_username() if request.user.is_authenticated else None
            ),
        }
    }
