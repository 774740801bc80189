"""The channel layer of a one-process deployment (no REDIS_URL).

channels' InMemoryChannelLayer walks every channel and every group on each
send and receive to expire old entries, so its cost grows with the number of
connections (5,000 sockets join 5,000 user groups), and it makes one task per
member channel on each group_send. This subclass expires at most once a
second and sends in a plain loop; everything else, including the Channels API
that any layer offers, is the parent's.
"""

import logging
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

log = logging.getLogger("chat.layers")


class LocalChannelLayer(InMemoryChannelLayer):
    def __init__(self, clean_interval: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clean_interval = clean_interval
        self._cleaned_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._cleaned_at >= self.clean_interval:
            self._cleaned_at = now
            super()._clean_expired()

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in tuple(self.groups.get(group, ())):
            try:
                await self.send(channel, message)
            except ChannelFull:
                # Like the parent, drop; the hub fills gaps from the database.
                log.warning("channel %s is full; dropped a %s event", channel, message["type"])
