"""channels_redis's pub/sub layer with a hash that spreads rooms over shards.

With several REDIS_URLs, channels_redis picks a group's Redis from 12 bits
of a CRC32 of its name (bit 11 alone for two shards). CRC is linear, so
names that differ only in their last characters land together: rooms
`shard-0` … `shard-7` all hash to the same one of two shards
(docs/scaling.md). Here the shard is a BLAKE2 hash of the name modulo the
number of shards, the same rule chat/state uses for its keys.
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


class ShardedPubSubChannelLayer(RedisPubSubChannelLayer):
    """The stock layer (one loop layer per event loop), with ours inside.
    Overrides channels_redis internals (4.3): tests/test_shards.py fails if
    they change."""

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
