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
    comm = await connect(alice, "lobby", headers=[
        (b"cookie", f"sessionid={cookie}".encode()), (b"origin", b"http://127.0.0.1:8000"),
    ])
    assert comm.hello["username"] == "alice"


async def test_bearer_token_with_foreign_origin_is_refused(make_user, connect):
    """A token handshake from a foreign Origin is refused before accept."""
    alice = await make_user("alice")
    connected, _ = await connect(alice, "lobby", accept=False, headers=[
        (b"authorization", f"Bearer {alice.token}".encode()), (b"origin", b"http://evil.test"),
    ])
    assert not connected


async def test_bad_bearer_token_is_refused(make_user, connect):
    """An unknown token is refused before accept, session or not."""
    alice = await make_user("alice")
    connected, _ = await connect(alice, "lobby", accept=False, headers=[
        (b"authorization", b"Bearer not-a-token")])
    assert not connected
