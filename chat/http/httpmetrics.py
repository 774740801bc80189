"""HTTP request metrics (chat_http_requests_total,
chat_http_request_duration_seconds): Django middleware, sync and async.

Labelled by the URL pattern's name (`chat:room`, `healthz`, ...), never by
the path itself, so a scan of random paths adds no series: unmatched paths
count as `unmatched`.
"""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from chat import metrics


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class HttpMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, started)
        return response

    async def _acall(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response, started)
        return response

    @staticmethod
    def _observe(request, response, started: float) -> None:
        route = _route(request)
        metrics.HTTP_REQUESTS.labels(
            request.method, route, f"{response.status_code // 100}xx"
        ).inc()
        metrics.HTTP_DURATION.labels(route).observe(time.perf_counter() - started)
