"""Delivery in seq order, exactly once, whatever the channel layer does."""

from channels.db import database_sync_to_async

from chat.realtime.hub import publish_message
from chat.store import actions

store_post = database_sync_to_async(actions.store_post)


async def messages(comm, count):
    frames: list[dict] = []
    while len(frames) < count:
        frame = await comm.receive_json_from(timeout=3)
        if frame["type"] == "message":
            frames.append(frame)
    return [(f["seq"], f["message"]) for f in frames]


async def test_out_of_order_events_are_delivered_in_seq_order(make_user, connect):
    """If seq 3 arrives before 1 and 2 (another process published first), the
    socket gets 1, 2, 3 — the gap is filled from the database."""
    alice, bob = await make_user("alice"), await make_user("bob")
    b = await connect(bob)
    stored = [
        (await store_post("lobby", alice, t, None))[0] for t in ("one", "two", "three")
    ]
    await publish_message(stored[2])
    assert await messages(b, 3) == [(1, "one"), (2, "two"), (3, "three")]
    await publish_message(stored[0])  # late duplicates are dropped
    await publish_message(stored[1])
    assert await b.receive_nothing(timeout=0.3)


async def test_duplicate_events_are_delivered_once(make_user, connect):
    """The same message event twice (a retry, two paths) reaches a socket once."""
    alice = await make_user("alice")
    a = await connect(alice)
    message, _ = await store_post("lobby", alice, "once", None)
    await publish_message(message)
    await publish_message(message)
    assert await messages(a, 1) == [(1, "once")]
    assert await a.receive_nothing(timeout=0.3)


async def test_events_the_layer_dropped_arrive_by_reconcile(
    make_user, connect, settings
):
    """A message stored but never published (the layer lost it) still reaches
    every socket within CHAT_RECONCILE_INTERVAL, from the database."""
    settings.CHAT_RECONCILE_INTERVAL = 0.2
    alice, bob = await make_user("alice"), await make_user("bob")
    b = await connect(bob)
    await store_post("lobby", alice, "lost in the layer", None)
    assert await messages(b, 1) == [(1, "lost in the layer")]
