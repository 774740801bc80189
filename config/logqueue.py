"""Log records written by a thread, not by the event loop.

A StreamHandler writes each record to stderr as it is logged: a system call
on the event loop per connect, disconnect and refusal, and a stall for every
socket whenever stderr is a pipe its reader drains slowly (journald, a
container runtime). QueueHandler hands the record to a QueueListener thread
that formats and writes it (the pattern the logging cookbook gives for
asyncio). Python 3.12 can declare this in LOGGING; on 3.11 it is done here.
"""

import atexit
import logging
import logging.handlers
import queue


def write_logs_from_a_thread() -> None:
    """Move the root logger's handlers behind one queue and listener thread."""
    root = logging.getLogger()
    handlers = [
        h for h in root.handlers if not isinstance(h, logging.handlers.QueueHandler)
    ]
    if not handlers:
        return
    records: queue.SimpleQueue = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(
        records, *handlers, respect_handler_level=True
    )
    for handler in handlers:
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(records))
    listener.start()
    atexit.register(listener.stop)  # writes what is still queued
