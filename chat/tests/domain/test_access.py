"""chat.domain.access, the one access rule, at every entry point this app serves:
the v1 handshake, the room page, the room lists; and losing access, which
closes v1 sockets with 4403 (PROTOCOL section 1)."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client

from chat.domain import access
from chat.models import Membership, Room
from chat.realtime.hub import get_hub
from chat.services import rooms
from testing.refusals import assert_error


def _user(name: str, **extra):
    return get_user_model().objects.create_user(name, password="pw-12345-long", **extra)


@pytest.fixture
def people(db):
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    rooms.create_room(alice, "secret", "private")
    rooms.add_member(alice, "secret", "bob")
    rooms.create_room(alice, "open", "public")
    dm = rooms.open_dm(alice, ["bob"])
    return alice, bob, carol, dm


def test_readable_room_answers_none_alike_for_missing_and_invisible(people):
    """A non-member gets None for a private room and a DM, exactly as for a
    room that does not exist or a bad name; members and public rooms read."""
    alice, bob, carol, dm = people
    for name in ("secret", dm.name, "nowhere", "a.b", "x" * 65):
        assert access.readable_room(carol, name) is None, name
    assert access.readable_room(bob, "SECRET") == Room.objects.get(name="secret")
    assert access.readable_room(bob, dm.name) == dm
    assert access.readable_room(carol, "open") == Room.objects.get(name="open")


def test_inactive_and_anonymous_users_read_nothing(people):
    """A deactivated user reads no room, not even a public one or its own."""
    alice, *_ = people
    alice.is_active = False
    alice.save()
    assert access.readable_room(alice, "open") is None
    assert access.readable_room(alice, "secret") is None
    assert not access.rooms_of(alice).exists()


def test_lists_show_public_rooms_and_ones_own(people):
    """visible_rooms: public rooms and the user's private rooms and DMs;
    rooms_of: the user's memberships only."""
    alice, bob, carol, dm = people
    assert set(access.visible_rooms(carol).values_list("name", flat=True)) == {"open"}
    assert set(access.visible_rooms(bob).values_list("name", flat=True)) == {
        "open",
        "secret",
        dm.name,
    }
    assert set(access.rooms_of(bob).values_list("name", flat=True)) == {
        "secret",
        dm.name,
    }


def test_owners_and_staff_moderate(people):
    alice, bob, carol, _ = people
    room = Room.objects.get(name="secret")
    assert access.can_moderate(alice, room)
    assert not access.can_moderate(bob, room)
    carol.is_staff = True
    carol.save()
    assert access.can_moderate(carol, room)
    assert access.readable_room(carol, "secret") is None  # staff moderate, not read


# --- the v1 handshake ---


@database_sync_to_async
def _setup_private(alice, bob) -> str:
    rooms.create_room(alice, "secret", "private")
    rooms.add_member(alice, "secret", bob.get_username())
    return rooms.open_dm(alice, [bob.get_username()]).name


async def test_v1_handshake_refuses_a_non_member_as_a_bad_name(make_user, connect):
    """carol's handshake to a private room or a DM she is not in is refused
    before accept (HTTP 403), exactly as a name that can never be a room."""
    alice, bob, carol = [await make_user(n) for n in ("alice", "bob", "carol")]
    dm = await _setup_private(alice, bob)
    refusals = {
        name: await connect(carol, name, accept=False)
        for name in ("secret", dm, "a.b", "dm-0000")
    }
    assert len(set(refusals.values())) == 1, refusals
    assert refusals["secret"][0] is False
    for user in (alice, bob):
        for name in ("secret", dm):
            assert (await connect(user, name)).hello["room"] == name


async def test_opening_a_public_room_on_v1_makes_a_member(make_user, connect):
    """A v1 handshake to a public room (new or not) records the membership,
    silently: no event, the first post is still seq 1."""
    alice = await make_user("alice")
    comm = await connect(alice, "fresh")
    room = await database_sync_to_async(Room.objects.get)(name="fresh")
    assert room.kind == "public"
    assert await database_sync_to_async(access.is_member)(alice, room)
    await comm.send_json_to({"message": "hi"})
    assert (await comm.receive_json_from())["seq"] == 1


async def nothing_but_presence(comm, timeout: float = 0.1) -> bool:
    """True when no frame but presence arrives within `timeout` (presence is
    coalesced, so a join's frame may come a moment after the connect)."""
    while not await comm.receive_nothing(timeout=timeout):
        output = await comm.receive_output()
        if output["type"] != "websocket.send" or '"presence"' not in output["text"]:
            return False
    return True


async def closed(comm) -> int:
    """The close code, skipping frames sent before it."""
    while True:
        output = await comm.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


@pytest.mark.parametrize("how", ["removed", "left", "room deleted"])
async def test_losing_access_closes_v1_sockets_4403(make_user, connect, how):
    """Removed, left, or the room deleted: the user's v1 sockets in that room
    close with 4403; the others' stay open (and see the member event)."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await _setup_private(alice, bob)
    a = await connect(alice, "secret")
    b = await connect(bob, "secret")
    elsewhere = await connect(bob, "lobby")
    if how == "removed":
        await database_sync_to_async(rooms.remove_member)(alice, "secret", "bob")
    elif how == "left":
        await database_sync_to_async(rooms.leave)(bob, "secret")
    else:
        await database_sync_to_async(Room.objects.filter(name="secret").delete)()
    assert await closed(b) == 4403
    if how == "room deleted":
        assert await closed(a) == 4403
    else:
        member = await a.receive_json_from()
        while member["type"] != "member":  # presence may come first
            member = await a.receive_json_from()
        op = "remove" if how == "removed" else "leave"
        assert (member["username"], member["op"]) == ("bob", op)
    assert await elsewhere.receive_nothing(timeout=0.2)
    if how != "room deleted":  # (a deleted room's name is free again)
        assert not (await connect(bob, "secret", accept=False))[0]


async def test_reconcile_closes_sockets_whose_membership_is_gone(make_user, connect):
    """With no removal event (a membership deleted by hand, or the event lost),
    the hub's reconcile pass still closes the socket with 4403."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await _setup_private(alice, bob)
    a = await connect(alice, "secret")
    b = await connect(bob, "secret")
    await database_sync_to_async(
        Membership.objects.filter(user=bob, room__name="secret").delete
    )()
    assert await nothing_but_presence(b)
    await get_hub()._reconcile()
    assert await closed(b) == 4403
    assert await nothing_but_presence(a)


# --- the page and the lists ---


def test_room_page_is_404_for_a_non_member_as_for_a_bad_name(people, settings):
    """GET /chat/<room>/ answers a non-member of a private room or DM with the
    same 404 (status and body) as a name that can never be a room."""
    settings.DEBUG = False
    alice, bob, carol, dm = people
    client = Client()
    client.force_login(carol)
    answers = [
        client.get(f"/chat/{name}/") for name in ("secret", dm.name, "a.b", "dm-0")
    ]
    assert {(r.status_code, r.content) for r in answers} == {
        (answers[0].status_code, answers[0].content)
    }
    assert answers[0].status_code == 404
    client.force_login(bob)
    assert client.get("/chat/secret/").status_code == 200
    assert client.get(f"/chat/{dm.name}/").status_code == 200
    assert client.get("/chat/SECRET/").status_code == 302


def test_index_lists_only_rooms_the_user_may_see(people):
    alice, bob, carol, dm = people
    client = Client()
    assert b"secret" not in client.get("/chat/").content  # logged out
    client.force_login(carol)
    page = client.get("/chat/").content
    assert b"open" in page and b"secret" not in page and dm.name.encode() not in page
    client.force_login(bob)
    assert b"secret" in client.get("/chat/").content


@pytest.mark.django_db(transaction=True)
async def test_rooms_json_needs_login_and_lists_visible_rooms():
    """/chat/rooms.json: 401 logged out; else public rooms and the user's own."""
    carol, bob = await database_sync_to_async(lambda: (_user("carol"), _user("bob")))()

    @database_sync_to_async
    def setup():
        rooms.create_room(bob, "secret", "private")
        rooms.create_room(bob, "open", "public")

    await setup()
    client = AsyncClient()
    response = await client.get("/chat/rooms.json")
    assert_error(response, 401, "unauthorized", "log in to list rooms")
    await client.aforce_login(carol)
    names = [r["name"] for r in (await client.get("/chat/rooms.json")).json()["rooms"]]
    assert names == ["open"]
    await client.aforce_login(bob)
    names = [r["name"] for r in (await client.get("/chat/rooms.json")).json()["rooms"]]
    assert sorted(names) == ["open", "secret"]


def test_lost_access_names_exactly_the_pairs_without_a_membership(people):
    """lost_access answers per (room, user) pair, across many rooms."""
    alice, bob, carol, dm = people
    for i in range(120):  # more rooms than one query asks about
        rooms.create_room(alice, f"r{i}")
    pairs = {(f"r{i}", alice.pk) for i in range(120)} | {
        ("r5", bob.pk),
        ("secret", bob.pk),
        ("secret", carol.pk),
        (dm.name, carol.pk),
        ("gone", alice.pk),
    }
    assert access.lost_access(pairs) == {
        ("r5", bob.pk),
        ("secret", carol.pk),
        (dm.name, carol.pk),
        ("gone", alice.pk),
    }
    assert access.lost_access(set()) == set()
