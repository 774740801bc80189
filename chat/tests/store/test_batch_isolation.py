"""One post the database refuses never fails the other posts of its batch
(issue 10: on PostgreSQL a U+0000 failed the whole batch)."""

import pytest
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.protocol.v1 import ChatError, ErrorCode
from chat.store import actions
from testing.services import postgres_url


@pytest.fixture
def users(transactional_db):
    User = get_user_model()
    return [User.objects.create_user(f"u{i}") for i in range(3)]


def test_a_post_postgresql_refuses_fails_alone(users):
    """In a batch of 30 posts, one with U+0000 (past the parser, as another
    entry point could send it) is refused with bad_frame; the 29 others are
    stored with seqs 1..29, no gap."""
    postgres_url()  # PostgreSQL refuses NUL in text; SQLite stores it
    requests = [
        actions.PostRequest("lobby", users[i % 3], f"post {i}", f"c{i}")
        for i in range(30)
    ]
    requests[7] = actions.PostRequest("lobby", users[1], "bad\x00post", "c7")
    results = actions.store_posts(requests)
    refused = results[7]
    assert isinstance(refused, ChatError) and refused.code == ErrorCode.BAD_FRAME
    assert "database refused" in refused.detail, refused.detail
    stored = [r for i, r in enumerate(results) if i != 7]
    assert all(isinstance(r, tuple) and r[1] for r in stored), stored
    seqs = sorted(r[0]["seq"] for r in stored if isinstance(r, tuple))
    assert seqs == list(range(1, 30))
    assert list(Message.objects.order_by("seq").values_list("seq", flat=True)) == seqs
