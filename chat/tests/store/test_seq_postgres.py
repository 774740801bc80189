"""Gap-free seqs and message ordinals (msg_no) under real concurrency, on
PostgreSQL: the hot path (actions.store_posts, batched) and the other events
(chat.services) from several threads, each on its own connection, at once.

On SQLite these cannot fail: its one writer at a time serialises any
SELECT-then-UPDATE. On PostgreSQL (READ COMMITTED) a seq read before the
room row is locked is stale: this test fails on that mutation (checked by
replacing _NEXT_SEQS_SQL with a SELECT followed by an UPDATE), and on the
same mutation of the msg_no (last_msg_no read by a SELECT before the lock).
Skipped without a PostgreSQL DATABASE_URL (failed under CI=true).
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from chat.models import Message, Room
from chat.services import messages, rooms
from chat.store import actions
from chat.store.actions import PostRequest
from chat.tests.services.test_reads import assert_numbered
from chat.tests.store.test_actions import run_in_threads
from testing.services import postgres_url

THREADS = 6
BATCHES = 20


@pytest.fixture
def posters(transactional_db):
    postgres_url()
    if connection.vendor != "postgresql":
        pytest.skip("the test database is not PostgreSQL")
    User = get_user_model()
    return [User.objects.create_user(f"p{i}") for i in range(THREADS)]


def _assert_gap_free(name: str) -> list[int]:
    """Seqs 1..N, and the message ordinals (msg_no, taken under the same
    lock: unread counts subtract them) 1..M among them."""
    seqs = sorted(Message.objects.filter(room__name=name).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)), name
    assert Room.objects.get(name=name).last_seq == len(seqs)
    assert_numbered(name)
    return seqs


def test_store_posts_from_many_threads_gives_gap_free_seqs(posters):
    """Six threads store batches of posts into two shared rooms (and one
    room each) at once: every room's seqs are 1..N, each taken once, every
    post stored, each thread's posts in its order."""
    for name in ("a", "b"):
        actions.get_room(name)

    def post(i: int) -> list[tuple[str, int]]:
        stored = []
        for n in range(BATCHES):
            batch = [
                PostRequest(room, posters[i], f"{i}-{n}-{k}", None)
                for k, room in enumerate(("a", "b", f"own{i}", "a"))
            ]
            for result in actions.store_posts(batch):
                if isinstance(result, Exception):
                    raise result
                stored.append((result[0]["room"], result[0]["seq"]))
        return stored

    results = run_in_threads(THREADS, post)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len(_assert_gap_free("a")) == THREADS * BATCHES * 2
    assert len(_assert_gap_free("b")) == THREADS * BATCHES
    for i, stored in enumerate(results):
        mine = [seq for room, seq in stored if room == "a"]
        assert mine == sorted(mine), i  # one writer's posts keep their order


def test_posts_and_other_events_share_one_gap_free_series(posters):
    """Posts, reactions and topic changes made at once from several threads
    in one room: one series 1..N across kinds."""
    owner = posters[0]
    rooms.create_room(owner, "mixed")
    for user in posters[1:]:
        rooms.join_public(user, "mixed")
    (first, _) = actions.store_post("mixed", owner, "react to me", None)

    def work(i: int) -> int:
        user = posters[i]
        for n in range(BATCHES):
            actions.store_posts([PostRequest("mixed", user, f"{i}-{n}", None)])
            messages.react(user, "mixed", first["seq"], "👍", on=n % 2 == 0)
            if i % 2:
                rooms.set_topic(user, "mixed", f"{i}-{n}")
        return i

    results = run_in_threads(THREADS, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = _assert_gap_free("mixed")
    kinds = set(
        Message.objects.filter(room__name="mixed").values_list("kind", flat=True)
    )
    assert kinds == {"member", "message", "reaction", "topic"}
    # create + joins + first post, then per thread and round a post and a
    # reaction (toggled: always a change), and a topic in odd threads.
    changes = THREADS * BATCHES * 2 + (THREADS // 2) * BATCHES
    assert len(seqs) == 1 + (THREADS - 1) + 1 + changes
