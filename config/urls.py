from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from chat import health
from chat.protocol_http import protocol_json

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat:index"), name="home"),
    path("chat/", include("chat.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    # Before the API's include, which answers any other /api/ path.
    re_path(r"^api/v1/protocol\.json/?$", protocol_json, name="protocol-json"),
    path("api/", include("chat.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
]
