"""chat.services.rooms: create, join, add, remove, leave, topic, DMs; each
change a `member`/`topic` event of the room's log; every refusal a code."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from chat.models import Membership, Message, Room
from chat.services import messages, rooms
from chat.services.errors import ServiceError
from chat.store import actions


def _user(name: str, **extra):
    return get_user_model().objects.create_user(name, password="pw-12345-long", **extra)


@pytest.fixture
def users(db):
    return {name: _user(name) for name in ("alice", "bob", "carol", "dave")}


def _refused(code: str, call, *args):
    with pytest.raises(ServiceError) as info:
        call(*args)
    assert info.value.code == code, info.value.detail
    assert info.value.detail.strip(), "a refusal says what was wrong"
    return info.value


def _events(name: str) -> list[dict]:
    return actions.messages_after(name, 0, None, 1000)


def test_create_makes_the_creator_owner_with_a_join_event(users):
    alice = users["alice"]
    room = rooms.create_room(alice, "Team", "private", "  ship  it ")
    assert (room.name, room.kind, room.topic, room.last_seq) == (
        "team",
        "private",
        "ship it",
        1,
    )
    assert Membership.objects.get(room=room, user=alice).role == "owner"
    (event,) = _events("team")
    assert {k: event[k] for k in ("type", "seq", "username", "op", "by")} == {
        "type": "member",
        "seq": 1,
        "username": "alice",
        "op": "join",
        "by": "alice",
    }


def test_a_taken_name_is_a_conflict_whoever_holds_it(users):
    """409 conflict for a taken name, public or private, any case."""
    rooms.create_room(users["alice"], "secret", "private")
    error = _refused("conflict", rooms.create_room, users["carol"], "SECRET")
    assert error.status == 409
    assert "already exists" in error.detail


@pytest.mark.parametrize(
    "name,kind,topic",
    [("a.b", "public", ""), ("dm-x", "public", ""), ("ok", "dm", ""), ("ok", "x", "")]
    + [("ok", "public", "t" * 251), ("ok", "public", 5)],
)
def test_bad_rooms_are_refused_as_bad_frames(users, name, kind, topic):
    error = _refused("bad_frame", rooms.create_room, users["alice"], name, kind, topic)
    assert error.status == 400
    assert not Room.objects.filter(name="ok").exists()


def test_private_rooms_invite_by_any_member_and_hide_from_others(users):
    alice, bob, carol, dave = users.values()
    rooms.create_room(alice, "secret", "private")
    rooms.add_member(alice, "secret", "bob")
    rooms.add_member(bob, "secret", "carol")  # any member invites
    rooms.add_member(bob, "secret", "carol")  # again: nothing changes
    # dave is not a member: the room does not exist for him.
    error = _refused("not_found", rooms.add_member, dave, "secret", "dave")
    assert error.detail == "No room named 'secret'."
    assert _refused("not_found", rooms.join_public, dave, "secret").detail == (
        _refused("not_found", rooms.join_public, dave, "nowhere").detail.replace(
            "nowhere", "secret"
        )
    )
    _refused("not_found", rooms.add_member, alice, "secret", "nobody")
    ops = [(e["username"], e["op"], e["by"]) for e in _events("secret")]
    assert ops == [
        ("alice", "join", "alice"),
        ("bob", "join", "alice"),
        ("carol", "join", "bob"),
    ]


def test_public_rooms_are_joined_by_oneself(users):
    alice, bob, *_ = users.values()
    rooms.create_room(alice, "open")
    _refused("forbidden", rooms.add_member, alice, "open", "bob")
    rooms.add_member(bob, "open", "bob")
    rooms.join_public(bob, "open")  # a member already: no event
    assert [(e["username"], e["op"]) for e in _events("open")] == [
        ("alice", "join"),
        ("bob", "join"),
    ]


def test_removing_takes_an_owner_or_staff_leaving_anyone(users):
    alice, bob, carol, dave = users.values()
    rooms.create_room(alice, "secret", "private")
    for name in ("bob", "carol", "dave"):
        rooms.add_member(alice, "secret", name)
    _refused("forbidden", rooms.remove_member, bob, "secret", "carol")
    rooms.remove_member(alice, "secret", "carol")
    _refused("not_found", rooms.remove_member, alice, "secret", "carol")
    rooms.remove_member(bob, "secret", "bob")  # yourself: leave
    dave.is_staff = True
    dave.save()
    rooms.remove_member(dave, "secret", "alice")  # staff, a member here
    ops = [(e["username"], e["op"], e["by"]) for e in _events("secret")[4:]]
    assert ops == [
        ("carol", "remove", "alice"),
        ("bob", "leave", "bob"),
        ("alice", "remove", "dave"),
    ]
    assert list(
        Membership.objects.filter(room__name="secret").values_list(
            "user__username", flat=True
        )
    ) == ["dave"]


def test_topic_is_set_by_members_with_one_event_per_change(users):
    alice, bob, carol, _ = users.values()
    rooms.create_room(alice, "open")
    rooms.create_room(alice, "secret", "private")
    _refused("forbidden", rooms.set_topic, bob, "open", "x")  # not a member
    _refused("not_found", rooms.set_topic, bob, "secret", "x")
    rooms.set_topic(alice, "open", "release on Friday")
    rooms.set_topic(alice, "open", "release on Friday")  # unchanged: no event
    topic = _events("open")[-1]
    assert (topic["type"], topic["topic"], topic["by"], topic["seq"]) == (
        "topic",
        "release on Friday",
        "alice",
        2,
    )
    assert Room.objects.get(name="open").topic == "release on Friday"


def test_the_same_set_of_users_always_gets_the_same_dm(users):
    """open_dm: the caller plus the named users, in any order and case, is one
    room named by the server; its members' joins are events."""
    alice, bob, carol, _ = users.values()
    dm = rooms.open_dm(alice, ["Bob", "carol"])
    assert dm.kind == "dm" and dm.name.startswith("dm-")
    assert rooms.open_dm(carol, ["alice", "bob", "bob"]) == dm
    assert rooms.open_dm(bob, ["carol", "alice"]) == dm
    assert rooms.open_dm(alice, ["bob"]) != dm
    assert rooms.open_dm(alice, []) == rooms.open_dm(alice, ["alice"])  # notes
    assert sorted(e["username"] for e in _events(dm.name)) == ["alice", "bob", "carol"]
    _refused("forbidden", rooms.add_member, alice, dm.name, "dave")
    _refused("forbidden", rooms.leave, alice, dm.name)
    _refused("not_found", rooms.open_dm, alice, ["nobody"])
    _refused("bad_frame", rooms.open_dm, alice, "bob")


def test_a_dm_has_at_most_nine_users(users):
    many = [_user(f"u{i}").get_username() for i in range(8)]
    assert rooms.open_dm(users["alice"], many).memberships.count() == 9
    error = _refused("bad_frame", rooms.open_dm, users["alice"], many + ["bob"])
    assert "1 to 9" in error.detail


def test_one_dm_per_set_is_a_database_constraint(users):
    """Two rows with the same dm_key cannot exist, whatever the code does."""
    dm = rooms.open_dm(users["alice"], ["bob"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(name="dm-other", kind="dm", dm_key=dm.dm_key)


def test_event_seqs_are_gap_free_across_kinds_and_refusals(users):
    """Posts, member changes, topics, edits, reactions and deletions share one
    seq series per room, 1..last_seq, and a refused change takes no seq."""
    alice, bob, carol, _ = users.values()
    rooms.create_room(alice, "mix", "private")
    actions.store_post("mix", alice, "one", None)
    rooms.add_member(alice, "mix", "bob")
    _refused("forbidden", rooms.remove_member, bob, "mix", "alice")
    actions.store_post("mix", bob, "two @alice", None)
    rooms.set_topic(bob, "mix", "t")
    _refused("forbidden", messages.edit_message, bob, "mix", 2, "mine?")
    messages.edit_message(alice, "mix", 2, "one!")
    messages.react(bob, "mix", 2, "👍")
    messages.react(bob, "mix", 2, "👍")  # no change, no seq
    _refused("bad_frame", messages.react, bob, "mix", 2, "no")
    messages.delete_message(alice, "mix", 2)
    _refused("not_found", messages.delete_message, carol, "mix", 2)
    rooms.leave(bob, "mix")
    log = _events("mix")
    assert [(e["seq"], e["type"]) for e in log] == list(
        enumerate(
            [
                "member",
                "message",
                "member",
                "message",
                "topic",
                "edited",
                "reaction",
                "deleted",
                "member",
            ],
            start=1,
        )
    )
    assert Room.objects.get(name="mix").last_seq == 9
    assert Message.objects.filter(room__name="mix").count() == 9


def test_a_v1_open_creates_public_rooms_but_never_a_dm_name(users):
    alice = users["alice"]
    assert rooms.open_v1_room(alice, "fresh") == Room.objects.get(kind="public")
    assert rooms.open_v1_room(alice, "dm-123") is None
    assert rooms.postable_room(users["bob"], "fresh").name == "fresh"
    assert Membership.objects.filter(room__name="fresh").count() == 2
    assert Room.objects.get(name="fresh").last_seq == 0  # implicit joins: no events


def test_rooms_made_per_hour_are_capped_by_every_door(users, settings):
    """CHAT_ROOMS_PER_HOUR bounds the rooms one user makes, however: the API's
    create, a new DM, a v1 open of a new name. Past it: rate_limited, saying
    why; nothing is created; other users are not affected."""
    from chat.realtime.state import throttle

    throttle.reset()
    settings.CHAT_ROOMS_PER_HOUR = 3
    alice, bob = users["alice"], users["bob"]
    rooms.create_room(alice, "one")
    rooms.open_dm(alice, ["bob"])
    assert rooms.open_v1_room(alice, "three") is not None
    refused = _refused("rate_limited", rooms.create_room, alice, "four")
    assert "3 rooms in the last hour" in refused.detail
    _refused("rate_limited", rooms.open_dm, alice, ["carol"])
    assert rooms.open_v1_room(alice, "five") is None  # refused as a bad name
    assert rooms.open_v1_room(alice, "one") is not None  # existing: fine
    assert not Room.objects.filter(name__in=["four", "five"]).exists()
    rooms.create_room(bob, "bobs")  # another user's count is his own
    throttle.reset()


def test_batched_v1_access_answers_as_one_at_a_time(users):
    """v1_rooms_access (the handshakes of a moment, two queries) gives every
    (user, room) the answer v1_room_access gives alone: members, public rooms
    to join, private rooms and DMs refused to outsiders, inactive users."""
    alice, bob, carol, dave = (users[n] for n in ("alice", "bob", "carol", "dave"))
    rooms.create_room(alice, "open")
    rooms.create_room(alice, "closed", "private")
    rooms.add_member(alice, "closed", "bob")
    dm = rooms.open_dm(alice, ["bob"])
    dave.is_active = False
    dave.save()
    asks = [
        (alice, "open"),  # owner: a member already
        (carol, "open"),  # public: opens, must join
        (bob, "closed"),  # private member
        (carol, "closed"),  # private outsider: refused
        (carol, dm.name),  # a DM of others: refused
        (dave, "open"),  # inactive: refused
    ]
    alone = [rooms.v1_room_access(user, name) for user, name in asks]
    together = rooms.v1_rooms_access(asks)
    assert together == alone
    assert [(room is not None, join) for room, join in together] == [
        (True, False),
        (True, True),
        (True, False),
        (False, False),
        (False, False),
        (False, False),
    ]
    ((made, join),) = rooms.v1_rooms_access([(carol, "brand-new")])
    assert made is not None and made.kind == Room.Kind.PUBLIC and join
