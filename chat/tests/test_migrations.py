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
