"""chat.layers.LocalChannelLayer: channels' in-memory layer, minus the scans."""

from chat.layers import LocalChannelLayer


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
