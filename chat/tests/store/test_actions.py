"""Storage: per-room seq with no gap or duplicate, client_id stored once."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat.models import Message, Room
from chat.store import actions


def run_in_threads(count: int, target) -> list:
    """Run target(i) in `count` threads started together; return results/errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # reported by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def users(transactional_db):
    User = get_user_model()
    return [User.objects.create_user(f"u{i}") for i in range(4)]


def test_concurrent_posts_get_gap_free_unique_seqs(users):
    """Four writers posting to one room at once get seq 1..N, each once."""
    actions.get_room("race")

    def post_many(i: int) -> list[int]:
        return [
            actions.store_post("race", users[i], f"{i}-{n}", None)[0]["seq"]
            for n in range(15)
        ]

    results = run_in_threads(4, post_many)
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = sorted(seq for r in results for seq in r)
    assert seqs == list(range(1, 61))
    assert Room.objects.get(name="race").last_seq == 60
    assert (
        sorted(Message.objects.filter(room__name="race").values_list("seq", flat=True))
        == seqs
    )


def test_rooms_number_independently(users):
    """Each room has its own sequence."""
    assert actions.store_post("a", users[0], "x", None)[0]["seq"] == 1
    assert actions.store_post("b", users[0], "x", None)[0]["seq"] == 1
    assert actions.store_post("a", users[0], "y", None)[0]["seq"] == 2


def test_concurrent_retries_of_one_client_id_store_once(users):
    """The same (user, client_id) sent by four writers at once is stored once and
    every writer gets the same seq; the losers leave no gap."""
    results = run_in_threads(
        4, lambda i: actions.store_post("dup", users[0], "hello", "c-1")
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r[0]["seq"] for r in results} == {1}
    assert sum(1 for r in results if r[1]) == 1
    assert Message.objects.filter(room__name="dup").count() == 1
    assert actions.store_post("dup", users[1], "next", None)[0]["seq"] == 2


def test_client_id_uniqueness_is_a_database_constraint(users):
    """Even bypassing store_post, the database refuses a second (user, client_id)."""
    room = actions.get_room("c")
    now = timezone.now()
    Message.objects.create(
        room=room, seq=1, user=users[0], text="a", client_id="k", created_at=now
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            room=room, seq=2, user=users[0], text="b", client_id="k", created_at=now
        )
    # Another user may use the same client_id; posts without one never collide.
    Message.objects.create(
        room=room, seq=3, user=users[1], text="c", client_id="k", created_at=now
    )
    Message.objects.create(room=room, seq=4, user=users[0], text="d", created_at=now)
    Message.objects.create(room=room, seq=5, user=users[0], text="e", created_at=now)


def test_store_post_refuses_to_run_inside_a_transaction(users):
    """store_post commits its own transaction (so callers can ack and publish)."""
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.store_post("t", users[0], "x", None)


def test_resume_snapshot_is_complete_up_to_resume_max(users, settings):
    """since=S returns every seq > S (complete) up to CHAT_RESUME_MAX; past it,
    the latest page with complete=false."""
    settings.CHAT_RESUME_MAX = 5
    settings.CHAT_HISTORY_ON_CONNECT = 2
    for n in range(8):
        actions.store_post("r", users[0], str(n), None)
    snap = actions.connect_snapshot("r", 3)
    assert ([m["seq"] for m in snap.messages], snap.complete, snap.last_seq) == (
        [4, 5, 6, 7, 8],
        True,
        8,
    )
    snap = actions.connect_snapshot("r", 2)  # 6 behind > 5
    assert ([m["seq"] for m in snap.messages], snap.complete) == ([7, 8], False)
    snap = actions.connect_snapshot("r", 8)
    assert (snap.messages, snap.complete, snap.last_seq) == ([], True, 8)
    snap = actions.connect_snapshot("r", 99)  # from the future: the room was reset
    assert ([m["seq"] for m in snap.messages], snap.complete) == ([7, 8], False)
