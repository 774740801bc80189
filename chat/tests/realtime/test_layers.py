"""chat.realtime.layers.LocalChannelLayer: channels' in-memory layer, minus the scans."""

from chat.realtime.layers import LocalChannelLayer


async def test_group_send_reaches_every_member_and_keeps_bursts():
    """group_send reaches each channel of the group, and a burst past the parent's
    default capacity of 100 is kept whole, in order."""
    layer = LocalChannelLayer(capacity=1000)
    one, two = await layer.new_channel("x."), await layer.new_channel("x.")
    await layer.group_add("room", one)
    await layer.group_add("room", two)
    for i in range(150):
        await layer.group_send("room", {"type": "chat.message", "n": i})
    for channel in (one, two):
        got = [(await layer.receive(channel))["n"] for _ in range(150)]
        assert got == list(range(150))


async def test_discarded_channel_gets_nothing():
    """A channel that left the group receives no further events."""
    layer = LocalChannelLayer()
    one = await layer.new_channel("x.")
    await layer.group_add("room", one)
    await layer.group_discard("room", one)
    await layer.group_send("room", {"type": "chat.message"})
    assert one not in layer.channels


async def test_group_send_many_publishes_each_event_in_order_on_redis():
    """The Redis layer's group_send_many (one pipeline per shard) hands every
    event to its group's channels, each group's in the order given."""
    import secrets

    from chat.realtime.redis_layer import ShardedPubSubChannelLayer
    from testing.services import redis_url

    layer = ShardedPubSubChannelLayer(
        hosts=[redis_url()], prefix=f"test-{secrets.token_hex(4)}"
    )
    try:
        groups = ["room-a", "room-b", "room-c"]
        channels = {}
        for group in groups:
            channels[group] = await layer.new_channel("x.")
            await layer.group_add(group, channels[group])
        items = [(groups[i % 3], {"type": "chat.message", "n": i}) for i in range(60)]
        await layer.group_send_many(items)
        for group in groups:
            got = [(await layer.receive(channels[group]))["n"] for _ in range(20)]
            assert got == [n for g, e in items if g == group for n in [e["n"]]]
    finally:
        await layer.flush()
