"""In-process fixtures: the real ASGI application driven by channels'
WebsocketCommunicator, on the test database, with the in-memory layer."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from accounts.models import ApiToken
from chat.realtime import state
from chat.tests.schema_check import check_frame


@pytest.fixture(autouse=True)
def fresh_layer_and_state():
    """Each test starts with an empty channel layer and shared state."""
    channel_layers.backends.clear()
    state._states.clear()
    yield
    channel_layers.backends.clear()
    state._states.clear()


def _create_user(username: str):
    user = get_user_model().objects.create_user(username, password="pw-12345-long")
    _, token = ApiToken.objects.issue(user)
    user.token = token  # type: ignore[attr-defined]
    return user


@pytest.fixture(autouse=True)
def frames_follow_the_schema(monkeypatch):
    """Every text frame a socket sends in these tests is checked against the
    JSON Schema served at /api/v1/protocol.json (chat/protocol/frames.py): a frame
    that drifts from its type fails the test that received it."""
    receive_output = WebsocketCommunicator.receive_output

    async def checked(self, timeout=1):
        output = await receive_output(self, timeout)
        if output.get("type") == "websocket.send" and "text" in output:
            check_frame(output["text"])
        return output

    monkeypatch.setattr(WebsocketCommunicator, "receive_output", checked)


@pytest.fixture
def make_user(transactional_db):
    """`await make_user("alice")`: a user with a token in `.token`."""
    return database_sync_to_async(_create_user)


@pytest.fixture
async def connect():
    """Open a socket as `user` (by token) to `path`; returns the communicator
    after reading hello and history (stored on it as .hello, .history).
    With accept=False: (connected, close code) — a refusal before accept is
    `websocket.close` here, which real servers answer as HTTP 403
    (tests/test_protocol_e2e.py checks the status on a real server)."""
    from config.asgi import application

    opened = []

    async def open_(
        user, room: str = "lobby", query: str = "", headers=None, accept=True
    ):
        path = f"/ws/chat/{room}/" + (f"?{query}" if query else "")
        hdrs = (
            headers
            if headers is not None
            else [(b"authorization", f"Bearer {user.token}".encode())]
        )
        if not any(name == b"host" for name, _ in hdrs):  # as a browser sends
            hdrs = [*hdrs, (b"host", b"localhost:8000")]
        comm = WebsocketCommunicator(application, path, headers=hdrs)
        connected, code = await comm.connect()
        opened.append(comm)
        if not accept:
            return connected, code
        assert connected
        comm.hello = await comm.receive_json_from()
        comm.history = await comm.receive_json_from()
        return comm

    yield open_
    for comm in opened:
        try:
            await comm.disconnect()
        except Exception:
            pass  # already closed by the test or the server
