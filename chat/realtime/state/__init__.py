"""State shared by every socket of a user or a room: presence, rate limits,
typing throttle.

One implementation per deployment shape, chosen from one map: in-memory for a
single process (the default), Redis when REDIS_URL is set, so that every
process sees the same presence and the same per-user buckets.
"""

import asyncio
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

STATE_BACKENDS = {
    "memory": "chat.realtime.state.memory_impl.MemoryState",
    "redis": "chat.realtime.state.redis_impl.RedisState",
}


class SharedState(Protocol):
    async def join(
        self, room: str, username: str, conn_id: str
    ) -> tuple[bool, list[str]]:
        """Count a socket in the room: (whether `username` came online, the
        usernames online now, as `online` gives them)."""

    async def leave(self, room: str, username: str, conn_id: str) -> bool:
        """Drop a socket; True when `username` went offline in the room."""

    async def online(self, room: str) -> list[str]:
        """Usernames online in the room, sorted, each once."""

    async def online_counts(self, rooms: list[str]) -> dict[str, int]:
        """How many users are online in each of `rooms`."""

    async def take_token(self, user_id: int) -> bool:
        """Take one token from the user's bucket; False when it is empty."""

    async def typing_allowed(self, user_id: int, room: str) -> bool:
        """True at most once per CHAT_TYPING_INTERVAL per user and room."""

    async def close(self) -> None: ...


_states: dict[asyncio.AbstractEventLoop, SharedState] = {}


def get_state() -> SharedState:
    """The state for the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    state = _states.get(loop)
    if state is None:
        name = "redis" if settings.REDIS_URL else "memory"
        state = _states[loop] = import_string(STATE_BACKENDS[name])()
    return state
