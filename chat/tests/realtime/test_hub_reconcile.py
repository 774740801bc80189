"""The hub's reconcile pass still catches up a message the layer never carried."""

from typing import Any

from channels.db import database_sync_to_async

from chat.realtime.hub import get_hub
from chat.store import actions


async def test_reconcile_delivers_a_stored_but_unpublished_message(
    make_user, connect, settings
):
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


def test_revoked_names_inactive_users_deleted_tokens_and_ended_sessions(
    transactional_db,
):
    """The reconcile sweep's question, asked in chunks of parameters: of these
    users, tokens and sessions, which are gone (a chunk of 2 here)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import ApiToken
    from chat.store import credentials

    User = get_user_model()
    users = [User.objects.create_user(f"u{i}") for i in range(5)]
    tokens = [ApiToken.objects.issue(u)[0] for u in users]
    sessions: list[Any] = []
    for _ in range(3):
        store = SessionStore()
        store.create()
        sessions.append(store.session_key)
    User.objects.filter(pk__in=[users[1].pk, users[4].pk]).update(is_active=False)
    ApiToken.objects.filter(pk=tokens[2].pk).delete()
    SessionStore(session_key=sessions[0]).delete()
    found = credentials._found(
        User.objects.filter(is_active=True), "pk", {u.pk for u in users}, chunk=2
    )
    assert found == {users[0].pk, users[2].pk, users[3].pk}
    gone = credentials.revoked(
        {u.pk for u in users}, {t.pk for t in tokens}, set(sessions) | {"nope"}
    )
    assert gone == ({users[1].pk, users[4].pk}, {tokens[2].pk}, {sessions[0], "nope"})
