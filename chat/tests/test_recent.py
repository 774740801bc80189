"""chat.recent: a connect served from the in-memory page gets exactly what the
database would give it (actions.connect_snapshot), for every kind of `since`."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat import actions
from chat.actions import PostRequest
from chat.models import Message
from chat.recent import RecentPage


def _post(user, n: int, room: str = "lobby") -> list[dict]:
    results: list = actions.store_posts(
        [PostRequest(room, user, f"m{i}", None) for i in range(n)]
    )
    return [message for message, _ in results]


def _sinces(last_seq: int) -> list:
    return [
        None,
        0,
        1,
        last_seq - 3,
        last_seq - 1,
        last_seq,
        last_seq + 5,
        7,
        9,
        10,
        11,
    ]


@pytest.mark.parametrize("resume_max", [6, 100])
@pytest.mark.parametrize("before,after", [(0, 0), (0, 4), (3, 2), (8, 5), (12, 0)])
def test_page_snapshot_equals_database_snapshot(
    transactional_db, settings, before, after, resume_max
):
    """A page seeded from the database after `before` posts and extended live
    with `after` more (and one deletion) answers every `since` as the database."""
    settings.CHAT_HISTORY_ON_CONNECT = 10
    settings.CHAT_RESUME_MAX = resume_max
    alice = get_user_model().objects.create_user("alice")
    _post(alice, before)
    page = RecentPage(actions.connect_snapshot("lobby", None))
    page.snapshot(None).history_text()  # type: ignore[union-attr]  # cached until the page changes
    for message in _post(alice, after):
        assert page.extend(message)
    total = before + after
    if total:
        page.snapshot(None)
        deleted = max(1, total - 2)
        Message.objects.filter(room__name="lobby", seq=deleted).update(
            deleted_at=timezone.now()
        )
        assert page.delete(deleted)
    for since in _sinces(total):
        if since is not None and since < 0:
            continue
        from_page = page.snapshot(since)
        if from_page is None:  # the page cannot answer: the caller reads the database
            assert (
                since is not None and since < total - settings.CHAT_HISTORY_ON_CONNECT
            )
            continue
        from_database = actions.connect_snapshot("lobby", since)
        assert from_page == from_database, since
        assert from_page.history_text() == from_database.history_text(), since


def test_a_jump_is_refused_and_a_repeat_ignored(transactional_db):
    """extend() takes only the next seq: a repeat is a no-op, a gap is refused
    (the hub then drops the page and reads the database)."""
    alice = get_user_model().objects.create_user("alice")
    page = RecentPage(actions.connect_snapshot("lobby", None))
    first, second, third = _post(alice, 3)
    assert page.extend(first) and page.extend(first)
    assert not page.extend(third)
    assert page.last_seq == 1 and [f["seq"] for f in page.frames] == [1]


def test_deleting_a_message_the_page_has_not_seen_is_refused(transactional_db):
    """A deletion of a seq past the page's last one cannot be applied: refused."""
    alice = get_user_model().objects.create_user("alice")
    _post(alice, 2)
    page = RecentPage(actions.connect_snapshot("lobby", None))
    assert not page.delete(3)
    assert page.delete(1)
    assert page.frames[0]["deleted"] is True and page.frames[0]["message"] == ""


async def test_a_page_behind_what_the_process_has_seen_is_not_served(
    make_user, connect
):
    """Once the hub knows of a newer seq than its page holds (the reconcile
    pass found it in the database), a connecting socket reads the database."""
    from channels.db import database_sync_to_async

    from chat.broadcast import get_hub

    alice = await make_user("alice")
    first = await connect(alice)  # the hub now keeps lobby's page (empty)
    assert get_hub().pages["lobby"].last_seq == 0
    await database_sync_to_async(actions.store_post)(
        "lobby", alice, "never published", None
    )
    second = await connect(alice)  # nothing says the page is behind yet
    assert second.history["messages"] == []
    get_hub().note_seq("lobby", 1)  # what the reconcile pass does
    third = await connect(alice)
    assert [m["message"] for m in third.history["messages"]] == ["never published"]
    assert third.hello["last_seq"] == 1
    assert first.hello["last_seq"] == 0
