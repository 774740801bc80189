from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from accounts import preferences
from chat.http import health, webapp
from chat.protocol.schema import protocol_json

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat:index"), name="home"),
    path("chat/", include("chat.http.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    # The page: translations for its scripts, the installable app, settings.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("sw.js", webapp.service_worker, name="service_worker"),
    path("favicon.ico", webapp.favicon, name="favicon"),
    path("preferences/", preferences.save, name="preferences"),
    # Before the API's include, which answers any other /api/ path.
    re_path(r"^api/v1/protocol\.json/?$", protocol_json, name="protocol-json"),
    path("api/v1/", include("chat.http.api.urls", namespace="api-v1")),
    path("api/", include("chat.http.api.urls", namespace="api")),  # unversioned aliases
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
]
