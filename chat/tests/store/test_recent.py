"""chat.store.recent: a connect served from the in-memory page gets exactly what the
database would give it (actions.connect_snapshot), for every kind of `since`."""

import pytest
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.services import messages
from chat.store import actions
from chat.store.actions import PostRequest
from chat.store.recent import RecentPage, Snapshot


def _post(user, n: int, room: str = "lobby") -> list[dict]:
    results: list = actions.store_posts(
        [PostRequest(room, user, f"m{i}", None) for i in range(n)]
    )
    return [message for message, _ in results]


def _changes(user, n: int, room: str = "lobby") -> list[dict]:
    """`n` posts, each followed by a change to an earlier message (an edit, a
    reaction, a deletion, or none): the frames, in seq order, as published."""
    frames = []
    for i in range(n):
        (message,) = _post(user, 1, room)
        frames.append(message)
        earlier = (
            Message.objects.filter(
                room__name=room, kind="message", deleted_at=None, seq__lt=message["seq"]
            )
            .order_by("-seq")
            .values_list("seq", flat=True)
        )
        target = next(iter(earlier[1:2]), message["seq"])
        change = None
        if i % 4 == 1:
            change = messages.edit_message(user, room, target, f"edit {i}")
        elif i % 4 == 2:
            change = messages.react(user, room, target, "👍", on=True)
        elif i % 4 == 3:
            change = messages.delete_message(user, room, target)
        if change is not None:
            frames.append(change)
    return frames


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
    """A page seeded from the database after `before` posts (with edits,
    reactions, deletions between them) and extended live with `after` more
    answers every `since` as the database: every event past it, messages in
    their current state."""
    settings.CHAT_HISTORY_ON_CONNECT = 10
    settings.CHAT_RESUME_MAX = resume_max
    alice = get_user_model().objects.create_user("alice")
    _changes(alice, before)
    page = RecentPage(actions.connect_snapshot("lobby", None))
    page.snapshot(None).history_text()  # type: ignore[union-attr]  # cached until the page changes
    for event in _changes(alice, after):
        assert page.extend(event)
    total = page.last_seq
    for since in _sinces(total):
        if since is not None and since < 0:
            continue
        from_page = page.snapshot(since)
        if from_page is None:  # the page cannot answer: the caller reads the database
            oldest = page.frames[0]["seq"]
            assert since is not None and (
                since < oldest - 1 or total - since > resume_max
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


def test_a_deletion_event_makes_its_target_a_tombstone_in_the_page(
    transactional_db,
):
    """A `deleted` event (its own seq) is the page's next event: the target
    becomes a tombstone; a deletion past the page's last seq is a jump."""
    alice = get_user_model().objects.create_user("alice")
    _post(alice, 2)
    page = RecentPage(actions.connect_snapshot("lobby", None))
    deleted = messages.delete_message(alice, "lobby", 1)
    assert deleted is not None
    assert deleted["seq"] == 3 and deleted["target"] == 1
    assert not page.extend(dict(deleted, seq=4))
    assert page.extend(deleted)
    assert page.frames[0]["deleted"] is True and page.frames[0]["message"] == ""
    assert page.snapshot(2) == Snapshot(3, [deleted], complete=True, has_more=True)


async def test_a_page_behind_what_the_process_has_seen_is_not_served(
    make_user, connect
):
    """Once the hub knows of a newer seq than its page holds (the reconcile
    pass found it in the database), a connecting socket reads the database."""
    from channels.db import database_sync_to_async

    from chat.realtime.hub import get_hub

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
