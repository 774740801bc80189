"""Graceful restart: what a server process does between SIGTERM and its exit.

uvicorn alone, on SIGTERM, stops listening and closes every socket with 1012
within ~0.1 s: posts stored but not yet acknowledged lose their ack, frames
queued for a socket are dropped, and a proxy still routes new handshakes to
the process until its next probe fails. Here, under `python -m config.serve`:

1. At once: `/readyz` answers 503 (`draining`), so a proxy or orchestrator
   stops routing to the process, and new WebSocket handshakes are refused
   with HTTP 503 (nginx retries them on another upstream:
   `proxy_next_upstream http_503`). Pages and the API are still served.
2. For up to CHAT_DRAIN_SECONDS (fewer when every socket is gone), open
   sockets are served as usual.
3. Then each socket answers the posts it took (their acks after commit),
   sends what is queued for it, and is closed with 1012 (server restarting):
   the client resumes with `since` on another process. Posts not answered
   by then are retried by the client with their client_id, stored once.
4. Then uvicorn's own shutdown runs (whatever is left gets its 1012).

A second SIGTERM (systemd signals every process of the unit; uvicorn's
supervisor signals its workers again) changes nothing; SIGINT (Ctrl+C) still
stops at once. The hook is installed by the ASGI lifespan startup, in each
worker, in front of uvicorn's own SIGTERM handler, which it calls at the end.
"""

import asyncio
import logging
import signal
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from django.conf import settings

from chat import metrics
from chat.logfmt import log_event
from chat.protocol.v1 import CloseCode

log = logging.getLogger("chat.drain")

# Step 3 is bounded: a socket whose posts cannot be committed (database gone)
# does not hold the restart up longer than this.
CLOSE_TIMEOUT = 10.0


class Restartable(Protocol):
    async def restart(self) -> None:
        """Answer what was taken, send what is queued, close with 1012."""


_draining = False
_sockets: "weakref.WeakSet[Restartable]" = weakref.WeakSet()
_gone = asyncio.Event()  # set when the last tracked socket is forgotten


def draining() -> bool:
    """True from the SIGTERM on: /readyz is 503, handshakes are refused."""
    return _draining


def track(socket: Restartable) -> None:
    """An accepted socket, to be closed gracefully on restart."""
    _sockets.add(socket)
    _gone.clear()


def forget(socket: Restartable) -> None:
    _sockets.discard(socket)
    if not _sockets:
        _gone.set()


class RefuseWhileDraining:
    """ASGI middleware in front of the WebSocket stack: while draining, a new
    handshake gets HTTP 503 saying why, before authentication or any query."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not _draining:
            return await self.app(scope, receive, send)
        await receive()  # websocket.connect
        metrics.REFUSALS.labels("draining").inc()
        log_event(log, "refused", path=scope.get("path"), reason="draining")
        if "websocket.http.response" not in scope.get("extensions", {}):
            close = {"type": "websocket.close", "code": CloseCode.SERVICE_RESTART}
            return await send(close)
        body = b"This server is restarting; connect again (another one answers).\n"
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", b"1"),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol: install the SIGTERM hook at startup."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _install(asyncio.get_running_loop())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _install(loop: asyncio.AbstractEventLoop) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    # Only in front of uvicorn's handler (uvicorn.Server.handle_exit), which
    # ends its serve loop; other servers keep their own behaviour.
    server = getattr(previous, "__self__", None)
    if type(server).__module__ != "uvicorn.server" or not callable(previous):
        log.debug("not under uvicorn: no drain on SIGTERM")
        return
    exit_server: Callable[[int, FrameType | None], Any] = previous

    def on_sigterm(sig, frame) -> None:
        global _draining
        if _draining:
            return
        _draining = True  # before anything else: the next request sees it
        loop.call_soon_threadsafe(
            lambda: loop.create_task(_drain(lambda: exit_server(sig, frame)))
        )

    signal.signal(signal.SIGTERM, on_sigterm)
    logging.getLogger("uvicorn.error").addFilter(_quiet_denials)


def _quiet_denials(record: logging.LogRecord) -> bool:
    """uvicorn's websockets-sansio logs "ASGI callable returned without
    completing handshake" at ERROR after every denial response it sent fine
    (Kludex/uvicorn PR #3138): not an error while draining."""
    return not (_draining and "without completing handshake" in record.getMessage())


async def _restart(socket: Restartable) -> None:
    try:
        await socket.restart()
    except Exception as exc:  # the connection went away meanwhile
        log.debug("restart close failed (%s)", exc)


async def _drain(exit_server) -> None:
    seconds = settings.CHAT_DRAIN_SECONDS
    log_event(log, "drain", seconds=seconds, sockets=len(_sockets))
    if _sockets:
        try:
            await asyncio.wait_for(_gone.wait(), seconds)
        except TimeoutError:
            pass
    sockets = list(_sockets)
    if sockets:
        done, pending = await asyncio.wait(
            [asyncio.ensure_future(_restart(s)) for s in sockets],
            timeout=CLOSE_TIMEOUT,
        )
        log_event(
            log,
            "drained",
            closed=len(done),
            unfinished=len(pending),
            code=CloseCode.SERVICE_RESTART.value,
        )
    exit_server()  # uvicorn's handler: stop listening, finish, exit
