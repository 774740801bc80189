from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    # '.' is not allowed in a room name, so this cannot shadow a room.
    path("rooms.json", views.room_list, name="room_list"),
    path("<str:room_name>/", views.room, name="room"),
]
