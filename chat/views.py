from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from .models import Room
from .rooms import InvalidRoomName, canonical_room


def index(request):
    rooms = Room.objects.order_by("-last_message_at", "name")[:200]
    return render(request, "chat/index.html", {"rooms": rooms})


@login_required
def room(request, room_name: str):
    try:
        name = canonical_room(room_name)
    except InvalidRoomName as exc:
        raise Http404(str(exc)) from None
    if name != room_name:
        return redirect("chat:room", room_name=name)
    return render(request, "chat/room.html", {"room_name": name})
