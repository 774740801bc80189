"""The PostgreSQL pool fails fast while the database is unreachable.

psycopg_pool makes a request wait up to its `timeout` for a connection. With
the database down that is every request, one after another (a socket's posts
are stored in order): a 2-second cut became 45 seconds of waiting in
tests/test_faults.py. While the pool's last attempt to connect failed, the
wait is cut to FAILING_TIMEOUT; requests still ask the pool (so it keeps
trying to reconnect), and the first connection that succeeds restores the
configured wait.
"""

from typing import cast

import psycopg

FAILING_TIMEOUT = 0.25


def _pool():
    from django.db import connections

    return getattr(connections["default"], "pool", None)  # PostgreSQL's only


class FailFastConnection(psycopg.Connection):
    """The pool's `connection_class`: notes each connection attempt's outcome
    on the pool (settings: DATABASES OPTIONS pool)."""

    @classmethod
    def connect(cls, *args, **kwargs):
        pool = _pool()
        configured = getattr(pool, "chat_timeout", None)
        if pool is not None and configured is None:
            configured = pool.chat_timeout = pool.timeout
        try:
            conn = super().connect(*args, **kwargs)
        except psycopg.OperationalError:
            if pool is not None:
                pool.timeout = min(cast(float, configured), FAILING_TIMEOUT)
            raise
        if pool is not None:
            pool.timeout = configured
        return conn
