"""Run the production ASGI server (uvicorn) with N worker processes.

    python -m config.serve --workers 4 --port 8000

Several workers share rooms only through a shared channel layer, so more than
one worker on the in-memory layer is refused here, before anything starts.
"""

import argparse
import atexit
import glob
import os
import shutil
import socket
import sys
import tempfile


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    parser = argparse.ArgumentParser(prog="python -m config.serve", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "1")),
        help="processes",
    )
    parser.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="load the settings, say what is wrong, and exit (make serve runs it)",
    )
    args = parser.parse_args(argv)
    _prepare_metrics_dir(args.workers)

    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return 0
    from channels.layers import InMemoryChannelLayer
    from django.utils.module_loading import import_string

    backend = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    if args.workers > 1 and issubclass(backend, InMemoryChannelLayer):
        print(
            f"error: --workers {args.workers} needs a shared channel layer, but "
            "REDIS_URL is not set (the in-memory layer lives inside one process, "
            "so users on different workers would not see each other). Set "
            "REDIS_URL=redis://host:6379/0, or run one worker. See docs/deploy.md.",
            file=sys.stderr,
        )
        return 2

    busy = _port_in_use(args.host, args.port)
    if busy:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {busy}. Another "
            "server (an earlier `make run`?) is using it: stop it, or pick another "
            f"port: make run PORT={args.port + 1} (or --port {args.port + 1}).",
            file=sys.stderr,
        )
        return 2

    budget = connection_budget(args.workers)
    if budget:
        print(budget, file=sys.stderr)

    import uvicorn

    uvicorn.run(
        "config.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        reload_dirs=[str(settings.BASE_DIR)] if args.reload else None,
        # Frames over the protocol's limit are closed with 1009 by the server
        # itself, before they are buffered whole.
        ws_max_size=settings.CHAT_MAX_FRAME_BYTES,
        proxy_headers=True,
        # uvicorn's own lines go through Django's LOGGING: one format
        # (CHAT_LOG_FORMAT) for every line of the process.
        log_config=None,
        log_level=os.environ.get(
            "UVICORN_LOG_LEVEL", "info" if args.reload else "warning"
        ),
        lifespan="on",  # chat.realtime.drain: graceful restart on SIGTERM
    )
    return 0


def connection_budget(workers: int) -> str | None:
    """The PostgreSQL connections this server may hold at most, said at start
    so an operator can check them against the server's max_connections (or
    PgBouncer's pool): each worker has one pool (docs/deploy.md)."""
    from django.conf import settings

    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if not isinstance(pool, dict):
        return None
    size = pool["max_size"]
    return (
        f"database: {workers} worker(s) x a pool of {size} = at most "
        f"{workers * size} PostgreSQL connections (CHAT_DB_POOL_SIZE)"
    )


def _port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (a busy port), or None. Tried here
    so that the answer is one line with a hint, not uvicorn's traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _prepare_metrics_dir(workers: int) -> None:
    """With several workers, /metrics must add up every worker's values:
    prometheus-client's multiprocess mode keeps them in files in
    PROMETHEUS_MULTIPROC_DIR, set here before any worker imports it."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        # Values of a previous run would be added to this one's.
        for name in glob.glob(os.path.join(given, "*.db")):
            os.remove(name)
    elif workers > 1:  # (one process: the default registry is exact)
        made = tempfile.mkdtemp(prefix="chat-metrics-")
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made


if __name__ == "__main__":
    sys.exit(main())
