"""The in-process test suite: fast hashing, the in-memory layer and state.

DATABASE_URL still applies (CI runs the suite on PostgreSQL). Tests of
several processes start real servers with REDIS_URL themselves
(tests/conftest.py), reading it from the environment.
"""

import os
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import _channel_layers

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REDIS_URL = ""
CHANNEL_LAYERS = _channel_layers("")  # the shipped single-process layer

# Static files straight from the apps (no collectstatic needed), rescanned on
# each request: convenient here, too slow for production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Django's default SQLite test database is in-memory with a shared cache,
# whose table locks ignore the busy timeout, so concurrent writers fail at
# once instead of waiting. A file behaves like what users run.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"chat-test-{os.getpid()}.sqlite3")
    }

# Password reset pages on (pytest-django's test environment sends to locmem).
CHAT_PASSWORD_RESET = True

# The in-process tests log as they go, so pytest's log capture gets every
# record inside the test that made it. (Server processes started by the
# tests use the other settings, and log from a thread as in production.)
CHAT_LOG_FROM_THREAD = False

# No persistent connections in tests: the thread behind database_sync_to_async
# would keep one open, and PostgreSQL refuses to drop the test database then.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# The in-process suite signs up and fails logins from one address (the test
# client's 127.0.0.1) across many tests, and throttle counters live as long
# as the process: tests of the limits set their own (accounts/tests).
CHAT_SIGNUPS_PER_ADDRESS = 100_000
CHAT_ROOMS_PER_HOUR = 100_000
CHAT_LOGIN_FAILURES_PER_ADDRESS = 100_000
CHAT_LOGIN_FAILURES_PER_ACCOUNT = 100_000

# No connection pool in the in-process suite. Each test runs on an event loop
# of its own, torn down with the sockets it opened; a thread still finishing a
# query for a cancelled socket then keeps its pooled connection checked out,
# and a file of socket tests used up the pool (PoolTimeout). Server processes
# started by the end-to-end tests use the pool as deployed, and
# tests/test_security_e2e.py holds it to its bound.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
