"""Both handshake paths after the bearer short-cut (chat.auth._SessionUnlessBearer)."""

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client


async def test_session_cookie_with_allowed_origin_is_accepted(make_user, connect):
    """A logged-in browser (session cookie, same-site Origin) still connects."""
    alice = await make_user("alice")

    def login_cookie() -> str:
        client = Client()
        client.force_login(get_user_model().objects.get(pk=alice.pk))
        return client.cookies["sessionid"].value

    cookie = await database_sync_to_async(login_cookie)()
    comm = await connect(
        alice,
        "lobby",
        headers=[
            (b"cookie", f"sessionid={cookie}".encode()),
            (b"origin", b"http://localhost:8000"),
        ],
    )
    assert comm.hello["username"] == "alice"


async def test_bearer_token_with_foreign_origin_is_refused(make_user, connect):
    """A token handshake from a foreign Origin is refused before accept."""
    alice = await make_user("alice")
    connected, _ = await connect(
        alice,
        "lobby",
        accept=False,
        headers=[
            (b"authorization", f"Bearer {alice.token}".encode()),
            (b"origin", b"http://evil.test"),
        ],
    )
    assert not connected


async def test_bad_bearer_token_is_refused(make_user, connect):
    """An unknown token is refused before accept, session or not."""
    alice = await make_user("alice")
    connected, _ = await connect(
        alice,
        "lobby",
        accept=False,
        headers=[(b"authorization", b"Bearer not-a-token")],
    )
    assert not connected


async def test_handshakes_at_once_each_get_their_own_tokens_user(make_user):
    """Token lookups made together (one query, chat.batching) answer each
    handshake with its own user: valid, unknown, a repeat, an inactive user."""
    import asyncio

    from chat import batching

    alice, bob, carol = [await make_user(name) for name in ("alice", "bob", "carol")]
    await database_sync_to_async(
        lambda: get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    )()
    tokens = [alice.token, "not-a-token", bob.token, alice.token, carol.token]
    found = await asyncio.gather(*(batching.user_for_token(t) for t in tokens))
    names = [None if f is None else f[0].get_username() for f in found]
    assert names == ["alice", None, "bob", "alice", None]
    assert found[0][1] == found[3][1] != found[2][1]  # token ids
    assert found[0][0].pk == alice.pk and found[2][0].pk == bob.pk
