"""Shared state for one process: plain dictionaries."""

import time
from collections import defaultdict

from django.conf import settings


class MemoryState:
    def __init__(self) -> None:
        # room -> username -> connection ids
        self._rooms: dict[str, dict[str, set[str]]] = defaultdict(dict)
        self._buckets: dict[int, tuple[float, float]] = {}  # user -> (tokens, at)
        self._typing: dict[tuple[int, str], float] = {}

    async def join(
        self, room: str, username: str, conn_id: str
    ) -> tuple[bool, list[str]]:
        conns = self._rooms[room].setdefault(username, set())
        conns.add(conn_id)
        return len(conns) == 1, sorted(self._rooms[room])

    async def leave(self, room: str, username: str, conn_id: str) -> bool:
        users = self._rooms.get(room, {})
        conns = users.get(username)
        if not conns or conn_id not in conns:
            return False
        conns.discard(conn_id)
        if conns:
            return False
        del users[username]
        if not users:
            self._rooms.pop(room, None)
        return True

    async def online(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    async def online_counts(self, rooms: list[str]) -> dict[str, int]:
        return {room: len(self._rooms.get(room, {})) for room in rooms}

    async def take_token(self, user_id: int) -> bool:
        rate = settings.CHAT_RATE_LIMIT_PER_SECOND
        burst = settings.CHAT_RATE_LIMIT_BURST
        now = time.monotonic()
        tokens, at = self._buckets.get(user_id, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return False
        self._buckets[user_id] = (tokens - 1, now)
        return True

    async def typing_allowed(self, user_id: int, room: str) -> bool:
        now = time.monotonic()
        key = (user_id, room)
        if now - self._typing.get(key, -1e9) < settings.CHAT_TYPING_INTERVAL:
            return False
        self._typing[key] = now
        return True

    async def close(self) -> None:
        pass
