"""API tokens: a cap per user, an optional expiry, and the owner's page."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import ApiToken, TokenLimitReached, user_for_token

from .test_signup import PASSWORD


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password=PASSWORD)


def test_tokens_per_user_are_capped(transactional_db, alice, settings, client):
    """Past CHAT_TOKENS_PER_USER, no token is issued, and POST /api/token
    says to delete one (403)."""
    settings.CHAT_TOKENS_PER_USER = 2
    ApiToken.objects.issue(alice)
    ApiToken.objects.issue(alice)
    with pytest.raises(TokenLimitReached):
        ApiToken.objects.issue(alice)
    reply = client.post(
        "/api/token",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert reply.status_code == 403 and "delete one first" in reply.json()["detail"]
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_expired_tokens_stop_working(alice, settings):
    """With CHAT_TOKEN_MAX_AGE, a token past its age identifies nobody."""
    settings.CHAT_TOKEN_MAX_AGE = 3600
    row, token = ApiToken.objects.issue(alice)
    assert row.expires_at is not None
    assert user_for_token(token)[0].pk == alice.pk
    ApiToken.objects.filter(pk=row.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert user_for_token(token) is None


def test_tokens_page_lists_creates_and_deletes(alice, client):
    """The owner sees their tokens, makes one (shown once) and deletes it."""
    client.force_login(alice)
    page = client.post("/accounts/tokens/")
    token = page.context["created"]
    assert token and token in page.text
    (row,) = page.context["tokens"]
    assert client.post("/accounts/tokens/", {"delete": row["id"]}).status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists()
    other = get_user_model().objects.create_user("bob", password=PASSWORD)
    theirs, _ = ApiToken.objects.issue(other)
    page = client.post("/accounts/tokens/", {"delete": theirs.pk})
    assert "No such token of yours" in page.text
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
