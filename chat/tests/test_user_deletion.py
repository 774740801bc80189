"""Deleting users keeps every message row: seqs stay gap-free, the author
becomes "[deleted]" (issue 10: deleting a user cascaded to its messages)."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError

from accounts.deleted import DELETED_USERNAME
from chat.models import Message, Room
from chat.store import actions


def test_deleted_users_messages_stay_and_seqs_have_no_gap(transactional_db):
    User = get_user_model()
    alice, bob, carol = (User.objects.create_user(n) for n in ("alice", "bob", "carol"))
    for i, user in enumerate([alice, bob, alice, carol, bob]):
        # alice and carol share a client id: harmless until they share an author
        actions.store_post("hello", user, f"post {i}", "c1" if i in (0, 3) else None)
    User.objects.filter(username__in=["alice", "carol"]).delete()  # as the admin does
    assert Room.objects.get(name="hello").last_seq == 5
    messages, has_more = actions.history_page("hello", None, 50)
    assert [m["seq"] for m in messages] == [1, 2, 3, 4, 5]
    assert [m["username"] for m in messages] == [
        DELETED_USERNAME,
        "bob",
        DELETED_USERNAME,
        DELETED_USERNAME,
        "bob",
    ]
    assert Message.objects.count() == 5
    deleted = User.objects.get(username=DELETED_USERNAME)
    assert not deleted.is_active and not deleted.has_usable_password()
    with pytest.raises(ProtectedError):
        deleted.delete()
