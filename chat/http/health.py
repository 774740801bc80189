"""What an operator's probes and scraper read: /healthz, /readyz, /metrics.

No authentication: keep these paths internal at the proxy (docs/api.md).
"""

import asyncio
import logging

from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from chat import metrics
from chat.logfmt import log_event
from chat.realtime import drain
from chat.store import db

log = logging.getLogger("chat.health")

# A probe that hangs is a failed probe: each check gets this long.
CHECK_TIMEOUT = 3.0


async def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and its event loop answers."""
    return JsonResponse({"status": "ok"})


@db.reads
def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_channel_layer() -> None:
    # A group nobody joins: one round trip to the layer's backend (a Redis
    # PUBLISH or group lookup), nothing queued, nothing left behind.
    await get_channel_layer().group_send("chat.readyz", {"type": "chat.readyz"})


async def _failure(name: str, check) -> str | None:
    """None when `check` answers in time; else a short reason (the details,
    which may name hosts, go to the log only)."""
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except TimeoutError:
        reason = detail = f"no answer in {CHECK_TIMEOUT:g}s"
    except Exception as exc:  # whatever the backend raises: report, don't crash
        reason, detail = type(exc).__name__, str(exc)[:300]
    else:
        return None
    log_event(log, "not_ready", logging.WARNING, part=name, error=detail)
    return reason


async def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer; else 503 naming
    the failing parts; 503 at once while the process drains for a restart."""
    if drain.draining():
        body = {"status": "draining", "failing": ["draining"], "checks": {}}
        return JsonResponse(body, status=503)
    names = ("database", "channel_layer")
    results = await asyncio.gather(
        _failure("database", _check_database),
        _failure("channel_layer", _check_channel_layer),
    )
    checks = {name: problem or "ok" for name, problem in zip(names, results)}
    failing = [name for name, problem in zip(names, results) if problem]
    body = {
        "status": "unavailable" if failing else "ok",
        "failing": failing,
        "checks": checks,
    }
    return JsonResponse(body, status=503 if failing else 200)


async def metrics_view(request: HttpRequest) -> HttpResponse:
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
