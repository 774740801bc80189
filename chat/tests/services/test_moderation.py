"""Moderation in the Django admin: each action, and what members see live.

The admin is driven through Django's AsyncClient as a superuser; the changes
reach the sockets (WebsocketCommunicator) through the in-memory layer after
the admin's transaction commits.
"""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient

from chat.models import Message, Room
from testing.refusals import assert_error

ACTION_URLS = {
    "message": "/admin/chat/message/",
    "room": "/admin/chat/room/",
    "user": "/admin/auth/user/",
}


@pytest.fixture
async def admin_client(transactional_db):
    user = await database_sync_to_async(get_user_model().objects.create_superuser)(
        "root", password="root-pw-12345"
    )
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def run_action(client, model: str, action: str, pks: list[int]) -> None:
    response = await client.post(
        ACTION_URLS[model], {"action": action, "_selected_action": pks, "index": 0}
    )
    assert response.status_code == 302, response.content[:500]


async def closed(comm) -> int:
    """The close code, skipping frames sent before it."""
    while True:
        output = await comm.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


@database_sync_to_async
def message_pk(room: str, seq: int) -> int:
    return Message.objects.get(room__name=room, seq=seq).pk


async def test_deleted_message_becomes_a_tombstone_live_and_in_history(
    make_user, connect, admin_client
):
    """Deleting a message in the admin sends every member a `deleted` event
    with its own seq and the message's seq as `target`; history shows the
    message deleted with no text, its seq kept; the next post takes the seq
    after the deletion's."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    b = await connect(bob)
    await a.receive_json_from()  # presence
    for text in ("keep", "remove me"):
        await a.send_json_to({"message": text})
        await a.receive_json_from()
        await b.receive_json_from()
    await run_action(
        admin_client, "message", "delete_for_everyone", [await message_pk("lobby", 2)]
    )
    for comm in (a, b):
        deleted = await comm.receive_json_from()
        assert deleted == {
            "type": "deleted",
            "room": "lobby",
            "seq": 3,
            "target": 2,
            "username": "root",
            "ts": deleted["ts"],
        }
    await b.send_json_to({"type": "history"})
    history = (await b.receive_json_from())["messages"]
    assert [(m["seq"], m["message"], m.get("deleted", False)) for m in history] == [
        (1, "keep", False),
        (2, "", True),
    ]
    late = await connect(bob)
    assert late.history["messages"][1]["deleted"] is True
    api = await AsyncClient().get(
        "/api/rooms/lobby/messages", headers={"Authorization": f"Bearer {bob.token}"}
    )
    assert api.json()["messages"][1] == dict(history[1])
    await a.send_json_to({"message": "next"})
    assert (await a.receive_json_from())["seq"] == 4


async def test_deleting_again_sends_nothing(make_user, connect, admin_client):
    """A message already deleted is not deleted (or announced) twice."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "x"})
    await a.receive_json_from()
    pk = await message_pk("lobby", 1)
    await run_action(admin_client, "message", "delete_for_everyone", [pk])
    assert (await a.receive_json_from())["type"] == "deleted"
    await run_action(admin_client, "message", "delete_for_everyone", [pk])
    assert await a.receive_nothing(timeout=0.3)


async def test_messages_cannot_be_removed_outright(make_user, connect, admin_client):
    """The admin offers no hard delete: it would leave a hole in the seqs."""
    a = await connect(await make_user("alice"))
    await a.send_json_to({"message": "x"})
    await a.receive_json_from()
    page = await admin_client.get("/admin/chat/message/")
    assert b"delete_for_everyone" in page.content
    assert b'value="delete_selected"' not in page.content


async def test_deactivated_user_is_closed_and_refused(make_user, connect, admin_client):
    """Deactivating a user closes its sockets with 4403; its token then fails
    on the API (401) and at the WebSocket handshake."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    b = await connect(bob)
    await run_action(admin_client, "user", "deactivate", [alice.pk])
    assert (await closed(a)) == 4403
    api = await AsyncClient().get(
        "/api/rooms", headers={"Authorization": f"Bearer {alice.token}"}
    )
    assert_error(api, 401, "unauthorized", "its user is inactive")
    connected, _ = await connect(alice, accept=False)
    assert not connected
    # alice left the room at once; bob's socket stays open and sees it.
    assert await b.receive_json_from() == {"type": "presence", "online": ["bob"]}


async def test_locked_room_refuses_posts_and_still_reads(
    make_user, connect, admin_client
):
    """In a room locked from the admin, a post is refused with `forbidden`
    (nothing stored), while history and connecting still work."""
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "before"})
    await a.receive_json_from()
    room_pk = await database_sync_to_async(lambda: Room.objects.get(name="lobby").pk)()
    await run_action(admin_client, "room", "lock", [room_pk])
    await a.send_json_to({"message": "after"})
    error = await a.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "forbidden")
    await a.send_json_to({"type": "history"})
    assert [m["message"] for m in (await a.receive_json_from())["messages"]] == [
        "before"
    ]
    again = await connect(alice)
    assert again.hello["last_seq"] == 1
    await run_action(admin_client, "room", "unlock", [room_pk])
    await a.send_json_to({"message": "after"})
    assert (await a.receive_json_from())["seq"] == 2


async def test_a_deletion_while_a_socket_connects_follows_its_history(
    make_user, connect, monkeypatch
):
    """A deletion event that lands after a connecting socket read its history
    (here: right after the snapshot, as if the moderator clicked then) is sent
    to it after hello and history, in seq order, so its view shows the
    tombstone."""
    from chat.protocol import events
    from chat.realtime.hub import get_hub

    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "x"})
    await a.receive_json_from()
    hub = get_hub()
    read_snapshot = hub.recent_snapshot

    def snapshot_then_deletion(room, since):
        snapshot = read_snapshot(room, since)
        hub.dispatch(events.message_event(deletion))  # what the layer delivers
        return snapshot

    monkeypatch.setattr(hub, "recent_snapshot", snapshot_then_deletion)
    deletion = events.event_frame(
        "deleted", seq=2, room="lobby", ts="2026-01-01T00:00:00.000Z", username="root"
    )
    deletion["target"] = 1
    late = await connect(alice)
    assert [m["message"] for m in late.history["messages"]] == ["x"]
    assert late.hello["last_seq"] == 1
    assert await late.receive_json_from() == deletion
