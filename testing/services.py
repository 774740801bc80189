"""Real services for the tests: which are here, and what to do when one is not.

On a developer's machine without Redis, PostgreSQL or Chromium, the tests
that need them skip and say why. Under CI=true they fail instead: CI has the
services, so a skip there would hide a broken set-up.
"""

import os
import shutil
from functools import cache

import pytest

CI = os.environ.get("CI", "").lower() == "true"


def require(what: str, reason: str | None) -> None:
    """Skip (or fail, under CI) when `reason` says what is missing."""
    if reason is None:
        return
    message = f"{what} unavailable: {reason}"
    if CI:
        pytest.fail(f"{message} (CI=true requires it)")
    pytest.skip(message)


@cache
def redis_problem() -> str | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except Exception as exc:
        return f"cannot reach {url}: {exc}"
    return None


@cache
def postgres_problem() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL"
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        return f"cannot reach PostgreSQL: {exc}"
    return None


@cache
def chromium_problem() -> str | None:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.exists(path) or shutil.which("chromium")):
        return f"no Chromium at {path} (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def redis_url() -> str:
    require("Redis", redis_problem())
    return os.environ["REDIS_URL"]


def postgres_url() -> str:
    require("PostgreSQL", postgres_problem())
    return os.environ["DATABASE_URL"]
