from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("token", views.token, name="token"),
    path("rooms", views.rooms, name="rooms"),
    path("tokens", views.token_list, name="tokens"),
    path("tokens/<int:token_id>", views.token_detail, name="token"),
    # Any room segment reaches the view, which answers a bad name with a JSON
    # 404 rather than Django's HTML one.
    re_path(r"^rooms/(?P<room>[^/]+)/messages$", views.messages, name="messages"),
    path("schema/", views.schema, name="schema"),
    re_path(r"", views.not_found),
]
