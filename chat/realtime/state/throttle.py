"""Counters in fixed windows for failed logins and sign-ups, shared by every
process (Redis) or kept by this one (memory).

Synchronous on purpose: they are called from the credential check, which
runs in a thread next to the password hash (accounts/credentials.py), never
on the event loop. Keys: `<CHAT_REDIS_PREFIX>:throttle:<kind>:<who>`, living
for the window. Redis unreachable: this process's own counters (availability
over strictness, as the rate limit does: chat/realtime/state/redis_impl.py).
"""

import logging
import math
import threading
import time

import redis
from django.conf import settings
from redis.exceptions import RedisError

log = logging.getLogger("chat.state")


class MemoryCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, ends at)

    def get(self, key: str) -> tuple[int, float]:
        """(count, seconds until the window ends) of `key`."""
        now = time.monotonic()
        with self._lock:
            count, ends = self._counts.get(key, (0, now))
            if ends <= now:
                self._counts.pop(key, None)
                return 0, 0.0
            return count, ends - now

    def add(self, key: str, window: float) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 100_000:  # an address flood: forget the stale
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, ends = self._counts.get(key, (0, now))
            if ends <= now:
                count, ends = 0, now + window
            self._counts[key] = (count + 1, ends)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class RedisCounters:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2
        )
        self.prefix = prefix
        self.fallback = MemoryCounters()

    def _key(self, key: str) -> str:
        return f"{self.prefix}:throttle:{key}"

    def get(self, key: str) -> tuple[int, float]:
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(self._key(key))
                pipe.pttl(self._key(key))
                count, ttl = pipe.execute()
        except RedisError as exc:
            log.warning("redis unavailable for throttling (%s)", exc)
            return self.fallback.get(key)
        return int(count or 0), max(0, ttl) / 1000

    def add(self, key: str, window: float) -> None:
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key(key), 0, px=int(window * 1000), nx=True)
                pipe.incr(self._key(key))
                pipe.execute()
        except RedisError as exc:
            log.warning("redis unavailable for throttling (%s)", exc)
            self.fallback.add(key, window)

    def clear(self, key: str) -> None:
        try:
            self.redis.delete(self._key(key))
        except RedisError:
            self.fallback.clear(key)


_counters: list = []
_counters_lock = threading.Lock()


def counters() -> MemoryCounters | RedisCounters:
    """This process's counters (one client, shared by every thread)."""
    with _counters_lock:
        if not _counters:
            if settings.REDIS_URL:
                _counters.append(
                    RedisCounters(settings.REDIS_URL, settings.CHAT_REDIS_PREFIX)
                )
            else:
                _counters.append(MemoryCounters())
        return _counters[0]


def reset() -> None:
    """Forget every counter (tests: a fresh process's state)."""
    with _counters_lock:
        _counters.clear()


def wait_seconds(keys: dict[str, int]) -> int:
    """Whole seconds until every key is under its limit (`keys`: key ->
    limit); 0 when none is at its limit now."""
    store = counters()
    wait = 0.0
    for key, limit in keys.items():
        count, remaining = store.get(key)
        if count >= limit:
            wait = max(wait, remaining, 1.0)
    return math.ceil(wait) if wait else 0


def add(keys: list[str], window: float) -> None:
    store = counters()
    for key in keys:
        store.add(key, window)


def clear(key: str) -> None:
    counters().clear(key)
