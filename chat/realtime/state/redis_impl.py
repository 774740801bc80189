"""Shared state on Redis: presence, rate limits and typing across processes.

Keys (all under CHAT_REDIS_PREFIX, "chat" by default):

- `<p>:procs`: sorted set, process id -> time of its last heartbeat (Redis's
  own clock, so the machines' clocks need not agree).
- `<p>:presence:<room>`: hash, "<process id>:<connection id>" -> username.
  A field counts only while its process's heartbeat is fresh: a SIGKILLed
  process cannot say goodbye, so readers skip (and delete) the fields of
  processes silent for CHAT_PRESENCE_TTL seconds.
- `<p>:rate:<user id>`: hash, the user's token bucket (tokens, at).
- `<p>:typing:<user id>:<room>`: a key living CHAT_TYPING_INTERVAL.

Each operation is one round trip (a Lua script run with EVALSHA, or one SET),
atomic on the server, so processes racing on the same user or room agree.

Several comma-separated REDIS_URLs shard the keys: a room's presence hash,
a user's bucket and a typing key live on the shard a hash of the key picks
(chat/realtime/redis_layer.py, the channel layer's rule too);
every shard keeps its own `<p>:procs`, written by each heartbeat, so each
presence script finds its processes' heartbeats beside the room's hash.

Redis may restart empty or be unreachable for a while. Rate limits and the
typing throttle then fall back to this process's own memory (availability
over strictness), presence to this process's own sockets; each process
writes its sockets back when its heartbeat finds its entry gone.
"""

import asyncio
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

from chat.realtime.redis_layer import shard_index
from chat.realtime.state.memory_impl import MemoryState

log = logging.getLogger("chat.state")

# Usernames with a connection of a live process in the hash KEYS[1]; deletes
# the fields of dead processes on the way. KEYS[2] is the process set.
_LIVE_LUA = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function live_users(hash, procs, ttl, skip_field)
  local oldest = now() - ttl
  local alive, users = {}, {}
  local all = redis.call('HGETALL', hash)
  for i = 1, #all, 2 do
    local field, user = all[i], all[i + 1]
    local proc = string.match(field, '^([^:]+):')
    if alive[proc] == nil then
      local beat = redis.call('ZSCORE', procs, proc)
      alive[proc] = beat ~= false and beat ~= nil and tonumber(beat) > oldest
    end
    if not alive[proc] then
      redis.call('HDEL', hash, field)
    elseif field ~= skip_field then
      users[user] = true
    end
  end
  return users
end
"""

# ARGV: field, username, ttl, hash expiry (ms), process id. Returns
# {1 when the user came online, 1 when this process's heartbeat is missing,
# the usernames online now (unsorted, each once)}: one round trip a connect.
_JOIN_LUA = (
    _LIVE_LUA
    + """
local users = live_users(KEYS[1], KEYS[2], tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local came, lost = 1, 0
if users[ARGV[2]] then came = 0 end
if not redis.call('ZSCORE', KEYS[2], ARGV[5]) then lost = 1 end
users[ARGV[2]] = true
local names = {}
for user in pairs(users) do names[#names + 1] = user end
return {came, lost, names}
"""
)

# ARGV: field, username, ttl. Returns 1 when the user went offline.
_LEAVE_LUA = (
    _LIVE_LUA
    + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local users = live_users(KEYS[1], KEYS[2], tonumber(ARGV[3]), ARGV[1])
if users[ARGV[2]] then return 0 end
return 1
"""
)

# ARGV: ttl. Returns the usernames (unsorted, each once).
_ONLINE_LUA = (
    _LIVE_LUA
    + """
local users = live_users(KEYS[1], KEYS[2], tonumber(ARGV[1]), '')
local names = {}
for user in pairs(users) do names[#names + 1] = user end
return names
"""
)

# KEYS[1]: process set, KEYS[2..]: presence hashes this process has sockets
# in. ARGV: process id, ttl, hash expiry (ms). Returns 1 when the process had
# been taken for dead (or Redis lost its entry): its sockets must be rewritten.
_HEARTBEAT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[2])
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * ttl)
redis.call('PEXPIRE', KEYS[1], math.ceil(10 * ttl * 1000))
for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
if not previous or tonumber(previous) <= now - ttl then return 1 end
return 0
"""

# Make the process's fields in hash KEYS[1] exactly the given ones.
# ARGV: "<process id>:", hash expiry (ms), then field, username pairs.
_REPLACE_LUA = """
local prefix = ARGV[1]
local keep = {}
for i = 3, #ARGV, 2 do keep[ARGV[i]] = ARGV[i + 1] end
local fields = redis.call('HKEYS', KEYS[1])
for _, field in ipairs(fields) do
  if string.sub(field, 1, #prefix) == prefix and keep[field] == nil then
    redis.call('HDEL', KEYS[1], field)
  end
end
if #ARGV > 2 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# A token bucket on Redis's clock. KEYS[1]: the bucket; ARGV: rate, burst,
# tokens wanted. Takes as many of them as the bucket holds; returns how many.
_TAKE_TOKEN_LUA = """
local rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(bucket[1]), tonumber(bucket[2])
if tokens == nil or at == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local taken = math.min(wanted, math.floor(tokens))
if taken < 0 then taken = 0 end
tokens = tokens - taken
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken
"""


# A user's tokens this process took from Redis ahead of use (see take_token).
ALLOWANCE_LEASE = 1.0  # seconds a process keeps tokens it has not used
ALLOWANCE_MAX = 64


class _Allowance:
    __slots__ = ("tokens", "until", "size", "granted")

    def __init__(self, tokens: int, until: float, size: int, granted: int) -> None:
        self.tokens, self.until, self.size = tokens, until, size
        self.granted = granted  # tokens given to this allowance in all


def _client(url: str) -> aioredis.Redis:
    # Short timeouts: a post waits on the rate limit, and an unreachable
    # Redis must turn into the fallback, not a hang.
    timeouts: dict[str, Any] = dict(socket_connect_timeout=2, socket_timeout=2)
    if settings.CHAT_REDIS_SENTINELS:  # the URL names the master
        master = urlsplit(url)
        sentinel = Sentinel(settings.CHAT_REDIS_SENTINELS, **timeouts)
        return sentinel.master_for(
            master.hostname or "",
            db=int(master.path.strip("/") or 0),
            health_check_interval=30,
            **timeouts,
        )
    return aioredis.Redis.from_url(url, health_check_interval=30, **timeouts)


class RedisState:
    def __init__(self) -> None:
        self.shards = [_client(url.strip()) for url in settings.REDIS_URL.split(",")]
        self.redis = self.shards[0]
        self.prefix = settings.CHAT_REDIS_PREFIX
        self.process_id = uuid.uuid4().hex[:16]
        self._procs_key = f"{self.prefix}:procs"
        self._join = self.redis.register_script(_JOIN_LUA)
        self._leave = self.redis.register_script(_LEAVE_LUA)
        self._online = self.redis.register_script(_ONLINE_LUA)
        self._heartbeat = self.redis.register_script(_HEARTBEAT_LUA)
        self._replace = self.redis.register_script(_REPLACE_LUA)
        self._take_token = self.redis.register_script(_TAKE_TOKEN_LUA)
        # This process's sockets: room -> {field: username}. The truth that
        # is written back to Redis when Redis lost (or never got) it.
        self._local: dict[str, dict[str, str]] = {}
        self._dirty_rooms: set[str] = set()  # rooms whose last write failed
        self._fallback = MemoryState()
        self._allowances: dict[int, _Allowance] = {}
        self._heartbeat_task: asyncio.Task | None = None
        self._first_beat: asyncio.Future | None = None
        self._wake = asyncio.Event()  # beat now, not at the next interval
        self._degraded = False

    # --- keys and helpers ---

    def _presence_key(self, room: str) -> str:
        return f"{self.prefix}:presence:{room}"

    def _shard(self, key: str) -> aioredis.Redis:
        """The Redis that holds `key` (one of several REDIS_URLs)."""
        if len(self.shards) == 1:
            return self.redis
        return self.shards[shard_index(key, len(self.shards))]

    def _field(self, conn_id: str) -> str:
        return f"{self.process_id}:{conn_id}"

    @property
    def _ttl(self) -> float:
        return settings.CHAT_PRESENCE_TTL

    @property
    def _hash_expiry_ms(self) -> int:
        # A room whose every process died disappears after a while.
        return int(max(3 * self._ttl, 3 * settings.CHAT_PRESENCE_HEARTBEAT) * 1000)

    def _unavailable(self, what: str, exc: Exception) -> None:
        if not self._degraded:
            log.warning(
                "redis unavailable for %s (%s); using this process's state", what, exc
            )
        self._degraded = True

    def _available(self) -> None:
        if self._degraded:
            log.warning("redis available again")
        self._degraded = False

    # --- presence ---

    async def join(
        self, room: str, username: str, conn_id: str
    ) -> tuple[bool, list[str]]:
        await self._start_heartbeat()
        field = self._field(conn_id)
        self._local.setdefault(room, {})[field] = username
        try:
            came, lost, names = await self._join(
                keys=[self._presence_key(room), self._procs_key],
                args=[
                    field,
                    username,
                    self._ttl,
                    self._hash_expiry_ms,
                    self.process_id,
                ],
                client=self._shard(self._presence_key(room)),
            )
        except RedisError as exc:
            self._unavailable("presence", exc)
            self._dirty_rooms.add(room)
            return False, self._local_online(room)
        self._available()
        if lost:  # Redis restarted empty: the others take our sockets for dead
            self._wake.set()
        return bool(came), sorted(name.decode() for name in names)

    def _local_online(self, room: str) -> list[str]:
        """Without Redis: the users of this process's sockets in the room."""
        return sorted(set(self._local.get(room, {}).values()))

    async def leave(self, room: str, username: str, conn_id: str) -> bool:
        field = self._field(conn_id)
        local = self._local.get(room, {})
        local.pop(field, None)
        if not local:
            self._local.pop(room, None)
        try:
            went = await self._leave(
                keys=[self._presence_key(room), self._procs_key],
                args=[field, username, self._ttl],
                client=self._shard(self._presence_key(room)),
            )
        except RedisError as exc:
            self._unavailable("presence", exc)
            self._dirty_rooms.add(room)
            return False
        return bool(went)

    async def online(self, room: str) -> list[str]:
        try:
            names = await self._online(
                keys=[self._presence_key(room), self._procs_key],
                args=[self._ttl],
                client=self._shard(self._presence_key(room)),
            )
        except RedisError as exc:
            self._unavailable("presence", exc)
            return self._local_online(room)
        return sorted(name.decode() for name in names)

    async def online_counts(self, rooms: list[str]) -> dict[str, int]:
        try:
            by_shard: dict[int, list[str]] = {}
            for room in rooms:
                shard = self._shard(self._presence_key(room))
                by_shard.setdefault(self.shards.index(shard), []).append(room)
            results: dict[str, Any] = {}  # room -> its online members
            for index, shard_rooms in by_shard.items():  # one pipeline a shard
                async with self.shards[index].pipeline(transaction=False) as pipe:
                    for room in shard_rooms:
                        await self._online(
                            keys=[self._presence_key(room), self._procs_key],
                            args=[self._ttl],
                            client=pipe,
                        )
                    results.update(zip(shard_rooms, await pipe.execute()))
        except RedisError as exc:
            self._unavailable("presence", exc)
            return {
                room: len(set(self._local.get(room, {}).values())) for room in rooms
            }
        return {room: len(results[room]) for room in rooms}

    # --- heartbeat: how other processes know this one is alive ---

    async def _start_heartbeat(self) -> None:
        # The first beat lands before the first socket is written, or readers
        # would take this process's sockets for a dead process's.
        if self._first_beat is None:
            self._first_beat = asyncio.ensure_future(self._beat_safely())
            self._heartbeat_task = asyncio.create_task(self._heartbeat_loop())
        await self._first_beat

    async def _heartbeat_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self._wake.wait(), timeout=settings.CHAT_PRESENCE_HEARTBEAT
                )
            except TimeoutError:
                pass
            self._wake.clear()
            await self._beat_safely()

    async def _beat_safely(self) -> None:
        try:
            await self.beat()
        except RedisError as exc:
            self._unavailable("heartbeat", exc)
        except Exception:
            log.exception("presence heartbeat failed")

    async def beat(self) -> None:
        """Tell the other processes this one lives; rewrite its sockets into
        Redis when Redis had taken it for dead or lost a write."""
        rooms = list(self._local)
        lost, failed = 0, None
        for shard in self.shards:  # each shard's own process set, each tried
            keys = [self._presence_key(room) for room in rooms]
            if len(self.shards) > 1:
                keys = [key for key in keys if self._shard(key) is shard]
            try:
                lost |= await self._heartbeat(
                    keys=[self._procs_key, *keys],
                    args=[self.process_id, self._ttl, self._hash_expiry_ms],
                    client=shard,
                )
            except RedisError as exc:
                failed = exc
        if failed is not None:
            raise failed
        self._available()
        if lost:
            self._dirty_rooms.update(rooms)
        while self._dirty_rooms:
            await self._rewrite(self._dirty_rooms.pop())

    async def _rewrite(self, room: str) -> None:
        written = dict(self._local.get(room, {}))
        pairs = [item for pair in written.items() for item in pair]
        shard = self._shard(self._presence_key(room))
        try:
            await self._replace(
                keys=[self._presence_key(room)],
                args=[f"{self.process_id}:", self._hash_expiry_ms, *pairs],
                client=shard,
            )
        except RedisError:
            self._dirty_rooms.add(room)
            raise
        # A socket that left while the script ran may have had its HDEL
        # overtaken by our HSET: remove what is no longer local.
        gone = written.keys() - self._local.get(room, {}).keys()
        if gone:
            await shard.hdel(self._presence_key(room), *gone)

    # --- limits ---

    async def take_token(self, user_id: int) -> bool:
        """One token of the user's bucket on Redis, shared by every process.

        A user posting fast gets its tokens from Redis in bulk: a process
        that used up its allowance within ALLOWANCE_LEASE seconds asks for
        twice as many next time (up to ALLOWANCE_MAX, and a quarter of the
        burst), else for as many as it used, and spends them locally with no
        round trip. The bucket is
        never overdrawn (Redis grants only what it holds); tokens a process
        took and did not use within the lease are forfeited, so the limit
        can only be stricter, by at most that allowance per process. A user
        posting slowly takes one token a post, as without allowances.
        """
        loop_time = asyncio.get_running_loop().time()
        allowance = self._allowances.get(user_id)
        if allowance is not None and allowance.tokens and loop_time < allowance.until:
            allowance.tokens -= 1
            return True
        burst = settings.CHAT_RATE_LIMIT_BURST
        cap = max(1, min(ALLOWANCE_MAX, int(burst // 4)))
        if allowance is None:
            size = 1
        elif loop_time < allowance.until:  # all used within the lease: more
            size = min(cap, allowance.size * 2)
        else:  # as many as were used in the last lease (a slow user: 1)
            size = max(1, min(cap, allowance.granted - allowance.tokens))
        key = f"{self.prefix}:rate:{user_id}"
        try:
            granted = int(
                await self._take_token(
                    keys=[key],
                    args=[settings.CHAT_RATE_LIMIT_PER_SECOND, burst, size],
                    client=self._shard(key),
                )
            )
        except RedisError as exc:
            self._unavailable("rate limit", exc)
            return await self._fallback.take_token(user_id)
        if not granted:
            self._allowances.pop(user_id, None)
            return False
        # Another post of the user may have refilled meanwhile: keep both.
        current = self._allowances.get(user_id)
        now = asyncio.get_running_loop().time()
        left = current.tokens if current is not None and now < current.until else 0
        if len(self._allowances) > 10000:  # forget users gone quiet
            self._allowances = {
                u: a for u, a in self._allowances.items() if now < a.until
            }
        self._allowances[user_id] = _Allowance(
            granted - 1 + left, now + ALLOWANCE_LEASE, size, granted + left
        )
        return True

    async def typing_allowed(self, user_id: int, room: str) -> bool:
        key = f"{self.prefix}:typing:{user_id}:{room}"
        try:
            return bool(
                await self._shard(key).set(
                    key,
                    1,
                    nx=True,
                    px=max(1, int(settings.CHAT_TYPING_INTERVAL * 1000)),
                )
            )
        except RedisError as exc:
            self._unavailable("typing", exc)
            return await self._fallback.typing_allowed(user_id, room)

    async def close(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None
        for shard in self.shards:
            await shard.aclose()
