"""The data migration to the room event log: existing rooms become public
rooms whose members are the users who posted in them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


@pytest.mark.django_db(transaction=True)
def test_posters_become_members_of_public_rooms_with_everything_read():
    executor = MigrationExecutor(connection)
    executor.migrate([("chat", "0001_initial")])
    old = executor.loader.project_state([("chat", "0001_initial")]).apps
    User = old.get_model("auth", "User")
    Room = old.get_model("chat", "Room")
    Message = old.get_model("chat", "Message")
    alice, bob, carol = (User.objects.create(username=n) for n in "abc")
    lobby = Room.objects.create(name="lobby", last_seq=3)
    Room.objects.create(name="empty")
    now = timezone.now()
    for seq, user in enumerate((alice, bob, alice), start=1):
        Message.objects.create(room=lobby, seq=seq, user=user, text="x", created_at=now)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    from chat.models import Membership
    from chat.models import Message as NewMessage
    from chat.models import Room as NewRoom

    assert set(NewRoom.objects.values_list("name", "kind")) == {
        ("lobby", "public"),
        ("empty", "public"),
    }
    members = Membership.objects.filter(room__name="lobby")
    assert sorted(members.values_list("user__username", "last_read_seq")) == [
        ("a", 3),
        ("b", 3),
    ]
    assert not Membership.objects.filter(user__username="c").exists()
    assert set(NewMessage.objects.values_list("kind", flat=True)) == {"message"}


@pytest.mark.django_db(transaction=True)
def test_message_ordinals_are_numbered_from_the_existing_log():
    """Migration 0007 gives the rows stored before it their msg_no (a
    message's ordinal in its room; another event carries the count so far)
    and each room its last_msg_no, so unread counts are right at once."""
    executor = MigrationExecutor(connection)
    executor.migrate([("chat", "0006_uploads")])
    old = executor.loader.project_state([("chat", "0006_uploads")]).apps
    User = old.get_model("auth", "User")
    Room = old.get_model("chat", "Room")
    Message = old.get_model("chat", "Message")
    Membership = old.get_model("chat", "Membership")
    alice, bob = User.objects.create(username="a"), User.objects.create(username="b")
    team = Room.objects.create(name="team", last_seq=6)
    Room.objects.create(name="empty")
    Membership.objects.create(room=team, user=bob, last_read_seq=2)
    now = timezone.now()
    for seq, kind, user, deleted in (
        (1, "member", alice, None),
        (2, "message", alice, None),
        (3, "reaction", bob, None),
        (4, "message", alice, now),  # deleted
        (5, "message", bob, None),  # bob's own
        (6, "message", alice, None),
    ):
        Message.objects.create(
            room=team,
            seq=seq,
            user=user,
            text="x",
            created_at=now,
            kind=kind,
            deleted_at=deleted,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    from django.contrib.auth import get_user_model

    from chat.models import Message as NewMessage
    from chat.models import Room as NewRoom
    from chat.services import reads

    numbers = NewMessage.objects.filter(room__name="team").order_by("seq")
    assert list(numbers.values_list("msg_no", flat=True)) == [0, 1, 1, 2, 3, 4]
    assert dict(NewRoom.objects.values_list("name", "last_msg_no")) == {
        "team": 4,
        "empty": 0,
    }
    (summary,) = reads.summaries(get_user_model().objects.get(username="b"))
    assert summary["unread"] == 1  # seq 6: 4 is deleted, 5 is bob's
