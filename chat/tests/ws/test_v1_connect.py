"""Connecting: room names, authentication and Origin, hello and history."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.version import VERSION

ORIGIN = (b"origin", b"http://localhost:8000")


def bearer(user):
    return (b"authorization", f"Bearer {user.token}".encode())


@database_sync_to_async
def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def test_room_names_are_case_insensitive(make_user, connect):
    """`Lobby` is the room `lobby`."""
    alice = await make_user("alice")
    comm = await connect(alice, "Lobby")
    assert comm.hello["room"] == "lobby"


@pytest.mark.parametrize(
    "room", ["caf%C3%A9", "café", "x" * 65, "..", "a.b", "a%20b"], ids=str
)
async def test_invalid_room_names_are_refused_before_accept(make_user, connect, room):
    """A room name outside [A-Za-z0-9_-]{1,64} is refused at the handshake."""
    alice = await make_user("alice")
    connected, _ = await connect(alice, room, accept=False)
    assert not connected


async def test_unrouted_ws_path_is_refused_not_an_error(make_user, connect):
    """An empty room (or any other path) is refused with 403, not a server error."""
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    alice = await make_user("alice")
    for path in ("/ws/chat//", "/ws/chat/a/b/", "/ws/other/"):
        comm = WebsocketCommunicator(application, path, headers=[bearer(alice)])
        connected, code = await comm.connect()
        assert not connected, path


async def test_token_with_allowed_origin_is_accepted(make_user, connect):
    """A token handshake may carry an allowed Origin."""
    alice = await make_user("alice")
    comm = await connect(alice, headers=[bearer(alice), ORIGIN])
    assert comm.hello["username"] == "alice"


async def test_session_cookie_with_allowed_origin_is_accepted(make_user, connect):
    """A logged-in browser (session cookie + same-site Origin) connects as its user."""
    alice = await make_user("alice")
    comm = await connect(alice, headers=[await session_cookie(alice), ORIGIN])
    assert comm.hello["username"] == "alice"


@pytest.mark.parametrize("origin", [None, b"https://evil.example", b"null"])
async def test_session_cookie_without_matching_origin_is_refused(
    make_user, connect, origin
):
    """Cross-site WebSocket hijacking: a cookie without an allowed Origin is refused."""
    alice = await make_user("alice")
    headers = [await session_cookie(alice)] + ([(b"origin", origin)] if origin else [])
    connected, _ = await connect(alice, headers=headers, accept=False)
    assert not connected


async def test_inactive_users_token_is_refused(make_user, connect):
    """A deactivated user's token no longer authenticates."""
    alice = await make_user("alice")
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    connected, _ = await connect(alice, accept=False)
    assert not connected


@pytest.mark.parametrize("query", ["since=abc", "since=-1", "since="])
async def test_malformed_since_is_refused(make_user, connect, query):
    """`since` must be a non-negative integer; anything else is refused at the handshake."""
    alice = await make_user("alice")
    connected, _ = await connect(alice, query=query, accept=False)
    assert not connected


async def test_hello_is_first_and_names_room_user_online_and_last_seq(
    make_user, connect
):
    """hello: room, username from the database, who is online, the room's last seq."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    await a.send_json_to({"message": "one"})
    await a.receive_json_from()  # its own message
    b = await connect(bob)
    assert b.hello == {
        "type": "hello",
        "v": 1,
        "server": VERSION,
        "room": "lobby",
        "username": "bob",
        "online": ["alice", "bob"],
        "last_seq": 1,
    }


async def test_history_on_connect_is_latest_page_oldest_first(
    make_user, connect, settings
):
    """Without since: the latest CHAT_HISTORY_ON_CONNECT messages, complete=false
    and has_more=true when older ones exist."""
    settings.CHAT_HISTORY_ON_CONNECT = 3
    alice = await make_user("alice")
    a = await connect(alice)
    assert a.history == {
        "type": "history",
        "messages": [],
        "complete": True,
        "has_more": False,
    }
    for i in range(5):
        await a.send_json_to({"message": f"m{i}"})
        await a.receive_json_from()
    b = await connect(alice)
    assert [m["seq"] for m in b.history["messages"]] == [3, 4, 5]
    assert [m["message"] for m in b.history["messages"]] == ["m2", "m3", "m4"]
    assert (b.history["complete"], b.history["has_more"]) == (False, True)
    assert set(b.history["messages"][0]) == {
        "type",
        "seq",
        "room",
        "username",
        "message",
        "ts",
    }
