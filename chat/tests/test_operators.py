"""What operators see: moderation in the admin's log and a `moderation`
line, the version in hello and /metrics, HTTP request metrics."""

import logging

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from chat import metrics
from chat.models import Message, Room
from chat.version import VERSION


def sample(name: str, **labels: str) -> float:
    text = metrics.render()[0].decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.fixture
async def admin_client(transactional_db):
    user = await database_sync_to_async(get_user_model().objects.create_superuser)(
        "root", password="root-pw-12345"
    )
    client = AsyncClient()
    await client.aforce_login(user)
    return client


def audit_log() -> list[tuple]:
    return list(
        LogEntry.objects.order_by("pk").values_list(
            "content_type__model", "object_id", "change_message", "user__username"
        )
    )


async def action(client, url: str, name: str, pks: list[int]) -> None:
    response = await client.post(
        url, {"action": name, "_selected_action": pks, "index": 0}
    )
    assert response.status_code == 302


async def test_moderation_actions_are_audited(admin_client, make_user, caplog):
    """Locking a room, deleting a message and deactivating a user each leave
    an admin LogEntry by the moderator (the admin's history) and one
    `event=moderation` log line naming action, moderator, model and ids."""
    alice = await make_user("alice")
    from chat.store import actions

    message, _ = await database_sync_to_async(actions.store_post)(
        "lobby", alice, "hi", None
    )
    room = await Room.objects.aget(name="lobby")
    msg = await Message.objects.aget(room=room, seq=message["seq"])
    caplog.set_level(logging.INFO, logger="chat.moderation")
    await action(admin_client, "/admin/chat/room/", "lock", [room.pk])
    await action(admin_client, "/admin/chat/message/", "delete_for_everyone", [msg.pk])
    await action(admin_client, "/admin/auth/user/", "deactivate", [alice.pk])
    entries = await database_sync_to_async(audit_log)()
    assert entries == [
        ("room", str(room.pk), "locked", "root"),
        ("message", str(msg.pk), "deleted", "root"),
        ("user", str(alice.pk), "deactivated", "root"),
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "chat.moderation"]
    assert lines == [
        f"event=moderation action=locked by=root model=chat.room ids={room.pk}",
        f"event=moderation action=deleted by=root model=chat.message ids={msg.pk}",
        f"event=moderation action=deactivated by=root model=auth.user ids={alice.pk}",
    ]
    # Already locked: nothing changes, nothing is logged again.
    await action(admin_client, "/admin/chat/room/", "lock", [room.pk])
    assert await LogEntry.objects.acount() == 3


async def test_hello_and_metrics_say_the_version(make_user, connect):
    """hello carries the protocol version (v: 1) and the server's version;
    /metrics has chat_build_info with the same version."""
    alice = await make_user("alice")
    comm = await connect(alice)
    assert comm.hello["v"] == 1
    assert comm.hello["server"] == VERSION != "0+unknown"
    assert sample("chat_build_info", version=VERSION) == 1


async def test_http_requests_are_counted_by_route(transactional_db):
    """Each answered request counts under its URL pattern's name and status
    class, with its duration; unknown paths all count as `unmatched`."""
    client = AsyncClient()
    before = sample("chat_http_requests_total", route="healthz", status="2xx")
    unmatched = sample("chat_http_requests_total", route="unmatched", status="4xx")
    timed = sample("chat_http_request_duration_seconds_count", route="healthz")
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/no/such/path-1")).status_code == 404
    assert (await client.get("/no/such/path-2")).status_code == 404
    labels = {"method": "GET", "route": "healthz", "status": "2xx"}
    assert sample("chat_http_requests_total", **labels) == before + 1
    assert (
        sample("chat_http_requests_total", route="unmatched", status="4xx")
        == unmatched + 2
    )
    assert (
        sample("chat_http_request_duration_seconds_count", route="healthz") == timed + 1
    )
