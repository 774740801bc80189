"""channels_redis's pub/sub layer with a hash that spreads rooms over shards.

With several REDIS_URLs, channels_redis picks a group's Redis from 12 bits
of a CRC32 of its name (bit 11 alone for two shards). CRC is linear, so
names that differ only in their last characters land together: rooms
`shard-0` … `shard-7` all hash to the same one of two shards
(docs/scaling.md). Here the shard is a BLAKE2 hash of the name modulo the
number of shards, the same rule chat/realtime/state uses for its keys.
"""

import asyncio
import hashlib

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _wrap_close


def shard_index(name: str, shards: int) -> int:
    """Which of `shards` Redis servers holds `name` (a key or a channel)."""
    if shards == 1:
        return 0
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


class ShardedPubSubLoopLayer(RedisPubSubLoopLayer):
    def _get_shard(self, channel_or_group_name):
        return self._shards[shard_index(channel_or_group_name, len(self._shards))]

    async def group_send_many(self, items: list[tuple[str, dict]]) -> None:
        """group_send of each (group, message), in order: one pipelined round
        trip per shard instead of one round trip each (channels_redis holds
        a shard's lock across each PUBLISH, so they would go one by one)."""
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in items:
            channel = self._get_group_channel_name(group)
            shard = self._get_shard(channel)
            by_shard.setdefault(id(shard), []).append(
                (channel, self.channel_layer.serialize(message))
            )
        shards = {id(shard): shard for shard in self._shards}
        for key, publishes in by_shard.items():
            shard = shards[key]
            async with shard._lock:
                shard._ensure_redis()
                async with shard._redis.pipeline(transaction=False) as pipe:
                    for channel, data in publishes:
                        pipe.publish(channel, data)
                    await pipe.execute()


class ShardedPubSubChannelLayer(RedisPubSubChannelLayer):
    """The stock layer (one loop layer per event loop), with ours inside.
    Overrides channels_redis internals (4.3): tests/test_shards.py fails if
    they change."""

    async def group_send_many(self, items: list[tuple[str, dict]]) -> None:
        await self._get_layer().group_send_many(items)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = ShardedPubSubLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
