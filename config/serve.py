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
    args = parser.parse_args(argv)
    _prepare_metrics_dir(args.workers)

    import django
    from django.conf import settings

    django.setup()
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
        log_level=os.environ.get(
            "UVICORN_LOG_LEVEL", "info" if args.reload else "warning"
        ),
        lifespan="off",
    )
    return 0


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
