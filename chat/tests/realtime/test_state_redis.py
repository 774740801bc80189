"""RedisState against a real Redis: two instances stand for two processes."""

import asyncio
import secrets

import pytest

from chat.realtime.state.redis_impl import RedisState
from testing.services import redis_url


@pytest.fixture
def redis_settings(settings):
    settings.REDIS_URL = redis_url()
    settings.CHAT_REDIS_PREFIX = f"test-{secrets.token_hex(4)}"
    settings.CHAT_PRESENCE_HEARTBEAT = 0.2
    settings.CHAT_PRESENCE_TTL = 0.6
    return settings


@pytest.fixture
async def processes(redis_settings):
    states = [RedisState(), RedisState()]
    yield states
    keys = await states[0].redis.keys(f"{redis_settings.CHAT_REDIS_PREFIX}:*")
    if keys:
        await states[0].redis.delete(*keys)
    for state in states:
        await state.close()


async def test_presence_counts_a_user_once_across_processes(processes):
    """A user with sockets in two processes is online once, came online with
    the first socket and goes offline with the last."""
    a, b = processes
    assert await a.join("r", "alice", "c1") == (True, ["alice"])
    assert await b.join("r", "alice", "c2") == (False, ["alice"])
    assert await b.join("r", "bob", "c3") == (True, ["alice", "bob"])
    assert await a.online("r") == ["alice", "bob"]
    assert await a.online_counts(["r", "empty"]) == {"r": 2, "empty": 0}
    assert await a.leave("r", "alice", "c1") is False
    assert await b.leave("r", "alice", "c2") is True
    assert await b.online("r") == ["bob"]


async def test_a_silent_process_drops_out_of_presence(processes):
    """Sockets of a process whose heartbeat stopped leave presence after the
    TTL; the live process's stay."""
    a, b = processes
    await a.join("r", "alice", "c1")
    await b.join("r", "ghost", "c2")
    b._heartbeat_task.cancel()  # as if SIGKILLed: no goodbye
    for _ in range(50):
        if await a.online("r") == ["alice"]:
            break
        await asyncio.sleep(0.05)  # polling until the TTL (0.6 s) passes
    assert await a.online("r") == ["alice"]


async def test_presence_is_written_back_after_redis_loses_it(processes, redis_settings):
    """When Redis comes back empty, each process's heartbeat rewrites its
    sockets into presence."""
    a, _ = processes
    await a.join("r", "alice", "c1")
    await a.redis.delete(*await a.redis.keys(f"{redis_settings.CHAT_REDIS_PREFIX}:*"))
    assert await a.online("r") == []
    for _ in range(40):
        if await a.online("r") == ["alice"]:
            break
        await asyncio.sleep(0.05)  # polling: the heartbeat runs every 0.2 s
    assert await a.online("r") == ["alice"]


async def test_one_token_bucket_per_user_across_processes(processes, redis_settings):
    """Burst 3 at 0.001/s: the user's fourth post is refused whichever
    process takes it; another user has its own bucket."""
    redis_settings.CHAT_RATE_LIMIT_BURST = 3
    redis_settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    a, b = processes
    taken = [await a.take_token(1), await b.take_token(1), await a.take_token(1)]
    assert taken == [True, True, True]
    assert await b.take_token(1) is False
    assert await a.take_token(2) is True


async def test_a_fast_user_takes_tokens_in_bulk_and_spends_them_locally(
    processes, redis_settings
):
    """A user posting fast takes 1, then 2 tokens from Redis; the third post
    spends the second of those two without a round trip: the bucket on Redis
    shows 3 taken after 3 posts, and still 3 after the 3rd."""
    redis_settings.CHAT_RATE_LIMIT_BURST = 400
    redis_settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    a, _ = processes
    key = f"{redis_settings.CHAT_REDIS_PREFIX}:rate:7"

    async def bucket() -> float:
        return round(float(await a.redis.hget(key, "tokens")))

    assert await a.take_token(7) is True
    assert await bucket() == 399
    assert await a.take_token(7) is True
    assert await bucket() == 397  # two taken at once
    assert await a.take_token(7) is True
    assert await bucket() == 397  # spent locally


async def test_allowances_never_overdraw_the_shared_bucket(processes, redis_settings):
    """Burst 40 at 0.001/s, the user posting fast through two processes that
    each take tokens in bulk: exactly 40 posts pass in all, then both refuse."""
    redis_settings.CHAT_RATE_LIMIT_BURST = 40
    redis_settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    a, b = processes
    taken = [await state.take_token(1) for _ in range(40) for state in (a, b)]
    assert taken.count(True) == 40
    assert await a.take_token(1) is False
    assert await b.take_token(1) is False


async def test_typing_is_throttled_per_user_and_room_across_processes(processes):
    """One typing broadcast per user and room per interval, across processes."""
    a, b = processes
    assert await a.typing_allowed(1, "r") is True
    assert await b.typing_allowed(1, "r") is False
    assert await b.typing_allowed(1, "other") is True
    assert await b.typing_allowed(2, "r") is True
