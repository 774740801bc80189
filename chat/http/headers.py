"""Content-Security-Policy and Permissions-Policy on every HTTP answer.

Django 5.2 has no CSP of its own (6.0 will). The policy allows only this
site's own files: no inline script or style attribute (the templates load
every script from chat/static/ and keep configuration in a JSON
`json_script` block, which is data, not script), no plugins, no framing.
Sockets: the page connects back to its own host (ws: or wss:).
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import DisallowedHost


def _policy(request) -> str:
    if settings.CHAT_CSP:
        return settings.CHAT_CSP
    try:
        host = request.get_host()
        sockets = f" ws://{host} wss://{host}"
    except DisallowedHost:
        sockets = ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class SecurityHeadersMiddleware:
    """Sync and async (as Django's own middleware): an async view is not
    sent through a thread for it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        return self._add(request, self.get_response(request))

    async def _acall(self, request):
        return self._add(request, await self.get_response(request))

    @staticmethod
    def _add(request, response):
        response.headers.setdefault("Content-Security-Policy", _policy(request))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
