from django.urls import path

from chat.http import files
from chat.http import pages as views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    # '.' is not allowed in a room name, so this cannot shadow a room.
    path("rooms.json", views.room_list, name="room_list"),
    # Two segments: a room page is one, so these never shadow a room.
    path("files/<str:upload_id>/", files.upload_file, name="upload"),
    path(
        "files/<str:upload_id>/thumbnail",
        files.upload_thumbnail,
        name="upload_thumbnail",
    ),
    path("avatars/<str:username>/<str:version>.png", files.avatar, name="avatar"),
    path("<str:room_name>/", views.room, name="room"),
]
