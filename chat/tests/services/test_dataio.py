"""Exports, imports, erasure and retention (chat/services/dataio.py and the
chat_export / chat_import / chat_erase_user / chat_purge commands)."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import ApiToken
from chat.models import Message, Room
from chat.store import actions

pytestmark = pytest.mark.django_db(transaction=True)


def lines(*args: str) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    call_command("chat_export", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def history():
    User = get_user_model()
    alice = User.objects.create_user("alice", password="pw-alice-12345")
    bob = User.objects.create_user("bob", password="pw-bob-12345")
    ApiToken.objects.issue(alice)
    for i in range(3):
        actions.store_post("lobby", alice, f"lobby {i}", f"a-{i}")
        actions.store_post("lobby", bob, f"lobby bob {i}", None)
    actions.store_post("dev", bob, "in dev", None)
    return alice, bob


def test_export_everything_then_import_gives_the_same_rows(history):
    """An export of everything, loaded into the emptied database, exports
    identically: every row, every column (passwords included), same keys."""
    before = lines()
    models = {row["model"] for row in before}
    assert {"auth.user", "chat.room", "chat.message", "accounts.apitoken"} <= models
    assert all("password" in r["fields"] for r in before if r["model"] == "auth.user")
    dump = "".join(json.dumps(row) + "\n" for row in before)
    Message.objects.all().delete()
    Room.objects.all().delete()
    ApiToken.objects.all().delete()
    get_user_model().objects.all().delete()
    call_command("chat_import", "-", stdin=io.StringIO(dump), stderr=io.StringIO())
    after = lines()
    assert after == before
    # New rows still get fresh keys (sequences moved past the imported ones).
    message, created = actions.store_post("lobby", history[0], "after import", None)
    assert created and message["seq"] == 7


def test_export_of_a_room_has_its_messages_and_authors_only(history):
    rows = lines("--room", "LOBBY")
    messages = [r for r in rows if r["model"] == "chat.message"]
    assert len(messages) == 6
    assert {r["fields"]["text"] for r in messages} >= {"lobby 0", "lobby bob 2"}
    assert [r["fields"]["name"] for r in rows if r["model"] == "chat.room"] == ["lobby"]
    users = [r for r in rows if r["model"] == "auth.user"]
    assert sorted(u["fields"]["username"] for u in users) == ["alice", "bob"]
    assert all("password" not in u["fields"] for u in users)
    # Referenced rows come before the rows that refer to them.
    order = [r["model"] for r in rows]
    assert (
        order.index("auth.user")
        < order.index("chat.room")
        < order.index("chat.message")
    )


def test_export_of_a_user_is_its_data(history):
    """A user's data: its account (no password), its messages in every room,
    the rooms they are in, its tokens; nobody else's messages."""
    rows = lines("--user", "bob")
    messages = [r["fields"]["text"] for r in rows if r["model"] == "chat.message"]
    assert sorted(messages) == ["in dev", "lobby bob 0", "lobby bob 1", "lobby bob 2"]
    (user,) = [r for r in rows if r["model"] == "auth.user"]
    assert user["fields"]["username"] == "bob" and "password" not in user["fields"]
    assert sorted(r["fields"]["name"] for r in rows if r["model"] == "chat.room") == [
        "dev",
        "lobby",
    ]


def test_export_refuses_an_unknown_room_or_user(history):
    with pytest.raises(CommandError, match="No room named 'nope'"):
        lines("--room", "nope")
    with pytest.raises(CommandError, match="No user named 'carol'"):
        lines("--user", "carol")


def test_an_export_without_message_ordinals_imports_with_them_recomputed(history):
    """An export made before Message.msg_no (migration 0007) lacks it and
    Room.last_msg_no: the import numbers the rooms' logs again, so unread
    counts and the next post's ordinal are right."""
    before = lines()
    numbers = sorted(Message.objects.values_list("room__name", "seq", "msg_no"))
    for row in before:
        row["fields"].pop("msg_no", None)
        row["fields"].pop("last_msg_no", None)
    dump = "".join(json.dumps(row) + "\n" for row in before)
    Message.objects.all().delete()
    Room.objects.all().delete()
    ApiToken.objects.all().delete()
    get_user_model().objects.all().delete()
    call_command("chat_import", "-", stdin=io.StringIO(dump), stderr=io.StringIO())
    assert sorted(Message.objects.values_list("room__name", "seq", "msg_no")) == numbers
    assert dict(Room.objects.values_list("name", "last_msg_no")) == {
        "lobby": 6,
        "dev": 1,
    }
    actions.store_post("lobby", history[0], "after import", None)
    assert Message.objects.get(room__name="lobby", seq=7).msg_no == 7


def test_import_over_existing_rows_is_refused_whole(history):
    """An import that conflicts with rows already there loads nothing and
    says to import into an empty database."""
    dump = "".join(json.dumps(r) + "\n" for r in lines("--room", "lobby"))
    lobby = Room.objects.get(name="lobby")
    Message.objects.filter(room=lobby, seq=1).update(text="changed since")
    sixth = Message.objects.get(room=lobby, seq=6)
    sixth.delete()
    sixth.pk = 100  # another row holds seq 6 now: the import's row 6 conflicts
    sixth.save()
    with pytest.raises(CommandError, match="Nothing imported: a row conflicts"):
        call_command("chat_import", "-", stdin=io.StringIO(dump), stderr=io.StringIO())
    # Rows before the conflict were rolled back with it.
    assert Message.objects.get(room=lobby, seq=1).text == "changed since"


def test_erase_user_anonymises_and_keeps_seqs(history):
    """chat_erase_user: the user's messages lose their text and are marked
    deleted with their seqs kept; others' messages stay; the account is
    renamed, without password or e-mail, inactive; tokens and sessions gone."""
    alice, bob = history
    alice.email = "alice@example.org"
    alice.save()
    session = SessionStore()
    session["_auth_user_id"] = str(alice.pk)
    session.create()
    assert session.session_key is not None
    out = io.StringIO()
    call_command("chat_erase_user", "alice", stdout=out)
    assert "--yes" in out.getvalue()
    assert Message.objects.filter(deleted_at__isnull=False).count() == 0  # dry run
    call_command("chat_erase_user", "alice", "--yes", stdout=io.StringIO())
    alice.refresh_from_db()
    assert alice.username == f"erased-{alice.pk}"
    assert alice.email == "" and not alice.has_usable_password()
    assert not alice.is_active
    assert not ApiToken.objects.filter(user=alice).exists()
    assert not SessionStore().exists(session.session_key)
    lobby = Message.objects.filter(room__name="lobby", kind="message").order_by("seq")
    assert [m.seq for m in lobby] == [1, 2, 3, 4, 5, 6]
    # Each erasure is a `deleted` event of the room's log, after the messages.
    events = Message.objects.filter(room__name="lobby", kind="deleted")
    assert sorted(e.target or 0 for e in events) == [1, 3, 5]
    assert sorted(e.seq for e in events) == [7, 8, 9]
    for m in lobby:
        if m.user_id == alice.pk:
            assert m.text == "" and m.deleted_at is not None
        else:
            assert m.text.startswith("lobby bob") and m.deleted_at is None
    # Her history as others see it: tombstones at her seqs.
    page, _ = actions.history_page("lobby", None, 10)
    assert [m.get("deleted", False) for m in page] == [True, False] * 3


def test_purge_turns_old_messages_into_tombstones(history, settings):
    """chat_purge: messages older than the retention become tombstones (text
    gone, seq kept); newer ones stay; without a retention it refuses, saying so."""
    settings.CHAT_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="CHAT_RETENTION_DAYS is 0"):
        call_command("chat_purge", stdout=io.StringIO())
    old = timezone.now() - timedelta(days=40)
    Message.objects.filter(room__name="lobby", seq__lte=4).update(created_at=old)
    settings.CHAT_RETENTION_DAYS = 30
    out = io.StringIO()
    call_command("chat_purge", stdout=out)
    assert "purged 4 messages" in out.getvalue()
    rows = list(
        Message.objects.filter(room__name="lobby", kind="message").order_by("seq")
    )
    assert [m.seq for m in rows] == [1, 2, 3, 4, 5, 6]
    deleted = Message.objects.filter(room__name="lobby", kind="deleted")
    assert sorted(e.target or 0 for e in deleted) == [1, 2, 3, 4]
    assert [m.text == "" and m.deleted_at is not None for m in rows] == [True] * 4 + [
        False
    ] * 2
    call_command("chat_purge", "--days", "30", stdout=out)  # again: nothing new
    assert "purged 0 messages" in out.getvalue()
