"""The hub's reconcile pass still catches up a message the layer never carried."""

from channels.db import database_sync_to_async

from chat import actions
from chat.broadcast import get_hub


async def test_reconcile_delivers_a_stored_but_unpublished_message(make_user, connect, settings):
    """A post committed but never published reaches the room's sockets at the
    next reconcile pass, once, in order."""
    settings.CHAT_RECONCILE_INTERVAL = 0.25
    alice = await make_user("alice")
    comm = await connect(alice, "lobby")
    await database_sync_to_async(actions.store_post)("lobby", alice, "lost", None)
    await get_hub()._reconcile()
    frame = await comm.receive_json_from(timeout=5)
    assert (frame["type"], frame["seq"], frame["message"]) == ("message", 1, "lost")
    assert await comm.receive_nothing(timeout=0.3)
