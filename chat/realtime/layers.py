"""The channel layer of a one-process deployment (no REDIS_URL).

channels' InMemoryChannelLayer walks every channel and every group on each
send and receive to expire old entries, so its cost grows with the number of
channels and groups, it makes one task per
member channel on each group_send, deep-copies every message for every
channel, and builds a new asyncio.Queue on every send and receive only to
throw it away when the channel has one. This subclass expires at most once a
second, sends in a plain loop, and neither copies events nor builds queues it
does not need; everything else, including the Channels API that any layer
offers, is the parent's.

Not copying means an event must not be changed once sent. Ours never are:
they are built for the one send (chat.protocol.events) and the hub only reads them.
"""

import asyncio
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

    def _queue(self, channel: str) -> asyncio.Queue:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(
                maxsize=self.get_capacity(channel)
            )
        return queue

    async def send(self, channel: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        try:
            self._queue(channel).put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def receive(self, channel: str) -> dict:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self._queue(channel)
        try:
            _, message = await queue.get()
        finally:
            if queue.empty():  # as the parent: no queue kept for a quiet channel
                self.channels.pop(channel, None)
        return message

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in tuple(self.groups.get(group, ())):
            try:
                await self.send(channel, message)
            except ChannelFull:
                # Like the parent, drop; the hub fills gaps from the database.
                log.warning(
                    "channel %s is full; dropped a %s event", channel, message["type"]
                )
