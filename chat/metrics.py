"""Every Prometheus metric of the server, defined here and rendered at /metrics.

With several worker processes (`python -m config.serve --workers N`), each
process writes its values to files in PROMETHEUS_MULTIPROC_DIR (config/serve.py
creates and empties it) and /metrics, whichever worker answers, adds up all of
them: prometheus-client's multiprocess mode. With one process and no such
directory, the default registry is used.

Hooks elsewhere are one line each; the per-message fan-out counts its local
sockets in one increment, never one per socket.
"""

import glob
import os
import platform
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from chat.version import VERSION

OPEN_SOCKETS = Gauge(
    "chat_open_sockets",
    "WebSocket connections accepted and not yet closed.",
    multiprocess_mode="livesum",
)
CONNECTS = Counter("chat_connects_total", "WebSocket connections accepted.")
REFUSALS = Counter(
    "chat_refusals_total",
    "WebSocket handshakes refused before accept, by reason.",
    ["reason"],
)
DISCONNECTS = Counter(
    "chat_disconnects_total",
    "Accepted WebSocket connections closed, by close code.",
    ["code"],
)
POSTS = Counter(
    "chat_posts_total", "Messages stored (repeated client_ids not counted)."
)
DELIVERIES = Counter(
    "chat_deliveries_total", "Room messages handed to local sockets (one per socket)."
)
ERRORS = Counter(
    "chat_errors_total",
    "Error answers (WebSocket error frames and API errors), by code.",
    ["code"],
)
RATE_LIMITED = Counter(
    "chat_rate_limited_total", "Posts refused by the per-user rate limit."
)
DELIVERY_LATENCY = Histogram(
    "chat_delivery_latency_seconds",
    "From a message's timestamp (when it was stored) to its fan-out to local sockets.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_REQUESTS = Counter(
    "chat_http_requests_total",
    "HTTP requests answered, by method, URL pattern name and status class.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "chat_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern name.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUILD_INFO = Gauge(
    "chat_build_info",
    "Always 1; the labels say which server version and Python run.",
    ["version", "python"],
    multiprocess_mode="max",
)
BUILD_INFO.labels(VERSION, platform.python_version()).set(1)


def observe_fanout(message: dict, sockets: int, now: float) -> None:
    """One fan-out of `message` to `sockets` local sockets, at wall-clock `now`."""
    DELIVERIES.inc(sockets)
    try:
        stored = datetime.fromisoformat(message["ts"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return
    DELIVERY_LATENCY.observe(max(0.0, now - stored))


def _forget_dead_processes(path: str) -> None:
    """A worker that died (even by SIGKILL) must not count its sockets as open."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = int(name.rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)
        except PermissionError:
            pass  # alive, another user's


def render() -> tuple[bytes, str]:
    """The exposition text of every metric (of every worker), and its content type."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        _forget_dead_processes(path)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
