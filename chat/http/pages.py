"""The pages: the room index, its live room list, and a room.

Each asks the one access rule (chat.domain.access): lists show only rooms the user
may see, and a private room or DM is a 404 to a non-member, the same page as
for a name that can never be a room.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chat.domain import access
from chat.domain.rooms import ROOM_NAME_RE, InvalidRoomName, canonical_room
from chat.protocol.events import iso_ts
from chat.protocol.v1 import ChatError, ErrorCode
from chat.realtime.state import get_state
from chat.services.errors import no_room
from chat.services.rooms import DM_PREFIX
from chat.store import db

# The index lists the most recently active rooms; a room past these is still
# reachable by name.
INDEX_ROOMS = 200


def _active_rooms(user):
    """The rooms `user` may see (none when logged out), most active first."""
    return access.visible_rooms(user).order_by(
        F("last_message_at").desc(nulls_last=True), "name"
    )[:INDEX_ROOMS]


def index(request: HttpRequest) -> HttpResponse:
    config = {
        "roomNamePattern": ROOM_NAME_RE.pattern,
        "roomUrl": reverse("chat:room", args=["ROOM"]),
        # Logged out there is no list to refresh (rooms.json needs a login).
        "roomListUrl": (
            reverse("chat:room_list") if request.user.is_authenticated else None
        ),
    }
    return render(
        request,
        "chat/index.html",
        {"rooms": _active_rooms(request.user), "index_config": config},
    )


@db.reads
def _room_rows(user) -> list[dict]:
    return list(_active_rooms(user).values("name", "last_message_at"))


@require_GET
@never_cache
async def room_list(request: HttpRequest) -> JsonResponse:
    """The index's live list: each room's online count and last activity.

    Async on purpose: presence lives in the process's event loop (or Redis),
    and get_state() is per loop, so this must run on the server's loop.
    Logged-in users only: it lists the rooms the user may see.
    """
    user = await request.auser()
    if not user.is_authenticated:
        refused = ChatError(ErrorCode.UNAUTHORIZED, "Log in to list rooms.")
        return JsonResponse(refused.as_dict(), status=refused.status)
    rooms = await _room_rows(user)
    counts = await get_state().online_counts([row["name"] for row in rooms])
    return JsonResponse(
        {
            "rooms": [
                {
                    "name": row["name"],
                    "url": reverse("chat:room", args=[row["name"]]),
                    "online": counts.get(row["name"], 0),
                    "last_message_at": (
                        iso_ts(row["last_message_at"])
                        if row["last_message_at"]
                        else None
                    ),
                }
                for row in rooms
            ]
        }
    )


@login_required
def room(request: HttpRequest, room_name: str) -> HttpResponse:
    try:
        name = canonical_room(room_name)
    except InvalidRoomName:
        raise Http404(no_room(room_name).detail) from None
    room = access.room_named(name)
    if (room is None and name.startswith(DM_PREFIX)) or (
        room is not None and not access.can_read(request.user, room)
    ):
        raise Http404(no_room(room_name).detail)  # as for a name that cannot be
    if name != room_name:
        return redirect("chat:room", room_name=name)
    config = {
        "room": name,
        "username": request.user.get_username(),
        "maxLength": settings.CHAT_MAX_MESSAGE_LENGTH,
        "maxFrameBytes": settings.CHAT_MAX_FRAME_BYTES,
        "typingInterval": settings.CHAT_TYPING_INTERVAL,
        "historyPage": settings.CHAT_HISTORY_ON_CONNECT,
        # The page's socket is version 1 (one per room); docs/page.md.
        "urls": {
            "socket": f"/ws/chat/{name}/",
            "page": reverse("chat:room", args=[name]),
            "login": reverse("login"),
        },
    }
    # The team chat (docs/page.md): one v2 socket for all the user's rooms.
    config.update(team_chat_config(request, name, room))
    return render(request, "chat/app.html", {"room_name": name, "chat_config": config})


def team_chat_config(request: HttpRequest, name: str, room) -> dict:
    return {
        "exists": room is not None,
        "csrfToken": get_token(request),
        "v2": {
            "socket": "/ws/",
            "api": "/api/v1/",
            "roomUrl": reverse("chat:room", args=["ROOM"]),
            "uploadMaxBytes": settings.CHAT_UPLOAD_MAX_BYTES,
        },
    }
