"""chat.services.reads: summaries, unread and mention counts from the log,
read positions (PROTOCOL section 5: Unread, `read`)."""

import random

import pytest
from django.contrib.auth import get_user_model

from chat.models import Membership, Message, Room
from chat.services import messages, reads, rooms
from chat.services.errors import ServiceError
from chat.store import actions


def _user(name: str):
    return get_user_model().objects.create_user(name, password="pw-12345-long")


@pytest.fixture
def trio(db):
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    rooms.create_room(alice, "team", "private")  # seq 1
    rooms.add_member(alice, "team", "bob")  # seq 2
    return alice, bob, carol


def _summary(user, room="team") -> dict:
    return next(s for s in reads.summaries(user) if s["room"] == room)


def test_a_summary_counts_others_messages_and_mentions(trio):
    alice, bob, _ = trio
    actions.store_post("team", alice, "hi @bob", None)  # 3
    actions.store_post("team", alice, "@room look", None)  # 4
    actions.store_post("team", bob, "@bob talking to myself", None)  # 5
    actions.store_post("team", alice, "plain", None)  # 6
    assert _summary(bob) == {
        "room": "team",
        "kind": "private",
        "topic": "",
        "last_seq": 6,
        "last_read_seq": 2,  # bob's join: what came before is read
        "unread": 3,  # not bob's own
        "mentions": 2,  # @bob and @room, once each
        "notify": "all",
        "members": ["alice", "bob"],
    }
    messages.delete_message(alice, "team", 3)  # deleted: no longer counted
    assert (_summary(bob)["unread"], _summary(bob)["mentions"]) == (2, 1)


def test_read_positions_move_forward_unless_forced(trio):
    alice, bob, _ = trio
    for i in range(3):
        actions.store_post("team", alice, f"m{i}", None)  # 3, 4, 5
    assert reads.mark_read(bob, "team", 4)["unread"] == 1
    assert reads.mark_read(bob, "team", 2)["last_read_seq"] == 4  # never back
    assert reads.mark_read(bob, "team", 99)["last_read_seq"] == 5  # at most last
    marked = reads.mark_read(bob, "team", 3, force=True)  # mark unread
    assert (marked["last_read_seq"], marked["unread"]) == (3, 2)
    assert Membership.objects.get(user=bob, room__name="team").last_read_seq == 3


def test_reading_a_public_room_makes_the_reader_a_member_at_that_position(trio):
    alice, _, carol = trio
    rooms.create_room(alice, "open")  # 1
    actions.store_post("open", alice, "one", None)  # 2
    actions.store_post("open", alice, "two", None)  # 3
    marked = reads.mark_read(carol, "open", 2)
    assert (marked["last_read_seq"], marked["unread"]) == (2, 1)
    assert Membership.objects.get(user=carol, room__name="open").last_read_seq == 2


@pytest.mark.parametrize("seq", [-1, "3", None, True, 1.5])
def test_a_bad_read_position_is_a_bad_frame(trio, seq):
    with pytest.raises(ServiceError) as info:
        reads.mark_read(trio[1], "team", seq)
    assert info.value.code == "bad_frame" and '"seq"' in info.value.detail


def test_reading_a_room_one_cannot_see_is_not_found(trio):
    with pytest.raises(ServiceError) as info:
        reads.mark_read(trio[2], "team", 1)
    assert (info.value.code, info.value.detail) == (
        "not_found",
        "No room named 'team'.",
    )


def test_a_member_added_again_counts_unread_from_the_join(trio):
    """Leaving drops the read position; a member added again starts at the
    join (what was said while away is history, not unread: as in Slack)."""
    alice, bob, _ = trio
    actions.store_post("team", alice, "before", None)  # 3
    rooms.leave(bob, "team")  # 4
    assert [s["room"] for s in reads.summaries(bob)] == []
    actions.store_post("team", alice, "while away", None)  # 5
    rooms.add_member(alice, "team", "bob")  # 6
    assert (_summary(bob)["last_read_seq"], _summary(bob)["unread"]) == (6, 0)
    actions.store_post("team", alice, "welcome back", None)  # 7
    assert _summary(bob)["unread"] == 1


def test_new_members_start_with_the_history_read(trio):
    """However a user becomes a member (made the room, added, joined a public
    room, posted to it, opened it on the v1 socket, a DM), the messages from
    before are not unread to them; the ones after are."""
    alice, bob, carol = trio
    actions.store_post("team", alice, "old news", None)
    rooms.create_room(alice, "open")
    actions.store_post("open", alice, "old in open", None)
    rooms.join_public(carol, "open")
    rooms.postable_room(bob, "open")
    dm = rooms.open_dm(alice, ["bob"])
    actions.store_post(dm.name, alice, "psst", None)
    actions.store_post("open", alice, "new in open", None)
    counts = {
        (user.get_username(), s["room"]): s["unread"]
        for user in (bob, carol)
        for s in reads.summaries(user)
    }
    assert counts[("carol", "open")] == counts[("bob", "open")] == 1
    assert counts[("bob", dm.name)] == 1
    room = Room.objects.get(name="open")
    dave = get_user_model().objects.create(username="dave")
    actions.record_joins([(room.pk, dave.pk)])
    assert _summary(dave, "open")["unread"] == 0


def _brute_force(user, room: str) -> tuple[int, int]:
    """Unread and mentions recounted from scratch, in Python."""
    last_read = Membership.objects.get(user=user, room__name=room).last_read_seq
    unread = mentions = 0
    name = user.get_username()
    for m in Message.objects.filter(room__name=room, kind="message"):
        if m.seq <= last_read or m.deleted_at is not None or m.user_id == user.pk:
            continue
        unread += 1
        data = m.data or {}
        mentions += name in data.get("mentions", ()) or data.get("mentions_room", 0)
    return unread, mentions


def assert_numbered(room: str) -> None:
    """The message ordinals (models.Message.msg_no) of `room`: its messages
    are 1..M in seq order with no gap or repeat, every other event carries
    the count of messages before it, and the room's last_msg_no is M."""
    count = 0
    for kind, msg_no in (
        Message.objects.filter(room__name=room)
        .order_by("seq")
        .values_list("kind", "msg_no")
    ):
        count += kind == "message"
        assert msg_no == count, (room, kind, msg_no, count)
    assert actions.get_room(room).last_msg_no == count


@pytest.mark.parametrize("seed", range(6))
def test_counts_equal_a_brute_force_recount_under_random_interleavings(db, seed):
    """Random posts (some mentioning), edits, deletions (by the author, and
    by the owner of r0 of anyone's message), reactions, reads (forward and
    forced back, onto any kind of event), leaving and rejoining, by three
    users in two rooms: after every step each member's unread and mention
    counts equal a recount from the messages, and the ordinals are whole."""
    rng = random.Random(seed)
    users = [_user(f"u{i}") for i in range(3)]
    rooms.create_room(users[0], "r0", "private")
    rooms.create_room(users[0], "r1", "public")
    for user in users[1:]:
        rooms.add_member(users[0], "r0", user.get_username())
        rooms.join_public(user, "r1")
    for _ in range(60):
        user, room = rng.choice(users), rng.choice(["r0", "r1"])
        if not Membership.objects.filter(user=user, room__name=room).exists():
            rooms.add_member(users[0], "r0", user.get_username()) if (
                room == "r0"
            ) else rooms.join_public(user, room)
            continue
        last = actions.get_room(room).last_seq
        own = list(
            Message.objects.filter(
                room__name=room, kind="message", deleted_at=None, user=user
            ).values_list("seq", flat=True)
        )
        step = rng.random()
        if step < 0.4:
            target = rng.choice(["", "@u1 ", "@u2 ", "@room ", "@U0 @u1 "])
            actions.store_post(room, user, target + "text", None)
        elif step < 0.5 and own:
            messages.edit_message(
                user, room, rng.choice(own), rng.choice(["@u2 e", "e"])
            )
        elif step < 0.6 and own:
            messages.delete_message(user, room, rng.choice(own))
        elif step < 0.62 and user == users[0] and room == "r0":
            live = Message.objects.filter(
                room__name=room, kind="message", deleted_at=None
            ).values_list("seq", flat=True)
            if live:  # the owner deletes anyone's message
                messages.delete_message(user, room, rng.choice(list(live)))
        elif step < 0.65 and own:
            messages.react(user, room, rng.choice(own), "👍")
        elif step < 0.85:
            reads.mark_read(user, room, rng.randint(0, last))
        elif step < 0.95:
            reads.mark_read(user, room, rng.randint(0, last), force=True)
        elif user != users[0]:
            rooms.leave(user, room)
        for member in users:
            for summary in reads.summaries(member):
                expected = _brute_force(member, summary["room"])
                assert (summary["unread"], summary["mentions"]) == expected
        assert_numbered(room)


def test_renumbering_a_log_gives_back_the_numbers_it_was_stored_with(trio):
    """actions.number_messages (after an import; migration 0007 numbers old
    rows the same way) recomputes msg_no and last_msg_no from the log alone:
    wiped, they come back as the live path stored them."""
    alice, bob, _ = trio
    actions.store_post("team", alice, "one", None)  # 3
    messages.react(bob, "team", 3, "👍")  # 4
    actions.store_post("team", bob, "two", None)  # 5
    messages.delete_message(alice, "team", 3)  # 6
    actions.store_post("team", alice, "three", None)  # 7
    assert_numbered("team")
    stored = list(Message.objects.order_by("seq").values_list("seq", "msg_no"))
    assert [n for _, n in stored] == [0, 0, 1, 1, 2, 2, 3]
    Message.objects.update(msg_no=None)
    Room.objects.update(last_msg_no=0)
    actions.number_messages([actions.get_room("team").pk])
    assert list(Message.objects.order_by("seq").values_list("seq", "msg_no")) == stored
    assert_numbered("team")
    assert _summary(bob)["unread"] == 1  # "three": "one" deleted, "two" his


def test_the_mentions_view_lists_others_messages_that_mention_me(trio):
    alice, bob, carol = trio
    rooms.create_room(carol, "elsewhere")  # bob is not in it
    actions.store_post("team", alice, "@bob one", None)  # 3
    actions.store_post("team", alice, "@room two", None)  # 4
    actions.store_post("team", bob, "@bob mine", None)  # 5: own
    actions.store_post("team", alice, "@bob gone", None)  # 6
    messages.delete_message(alice, "team", 6)
    actions.store_post("elsewhere", carol, "@bob not a member", None)
    assert [m["message"] for m in reads.mentions_of(bob)] == ["@room two", "@bob one"]


@pytest.mark.django_db(transaction=True)
async def test_per_user_frames_reach_the_users_group():
    """A new membership, a read position and a removal are published to the
    user's group (every socket of the user, on every process) after commit."""
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer

    from chat.domain.rooms import user_group

    alice, bob = await database_sync_to_async(lambda: (_user("alice"), _user("bob")))()
    layer = get_channel_layer()
    channel = await layer.new_channel("test.")
    await layer.group_add(user_group(bob.pk), channel)

    async def frames(count: int) -> list[dict]:
        got = [await layer.receive(channel) for _ in range(count)]
        assert {e["type"] for e in got} == {"chat.user"}
        return [e["frame"] for e in got]

    await database_sync_to_async(rooms.create_room)(alice, "team", "private")
    await database_sync_to_async(rooms.add_member)(alice, "team", "bob")
    (added,) = await frames(1)
    assert (added["type"], added["room"], added["members"]) == (
        "room",
        "team",
        ["alice", "bob"],
    )
    await database_sync_to_async(actions.store_post)("team", alice, "hi", None)
    await database_sync_to_async(reads.mark_read)(bob, "team", 3)
    read, summary = await frames(2)
    assert read == {"type": "read", "room": "team", "seq": 3}
    assert (summary["type"], summary["unread"], summary["last_read_seq"]) == (
        "room",
        0,
        3,
    )
    await database_sync_to_async(reads.mark_read)(bob, "team", 1)  # not forward
    await database_sync_to_async(rooms.remove_member)(alice, "team", "bob")
    (removed,) = await frames(1)
    assert removed == {"type": "removed", "room": "team"}
