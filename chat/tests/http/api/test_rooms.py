"""chat/http/api/rooms.py in process: the caller's rooms, public rooms, creating a
room, details and topic, members, DMs and read positions, through core's
services; a private room or DM answers a non-member as a missing room."""

import pytest

from chat.tests.http.api.calls import asgi_client, call, post
from testing.refusals import assert_error


@pytest.fixture
async def api():
    async with asgi_client() as client:
        yield client


async def create(api, user, name: str, kind: str = "private", topic: str = ""):
    body = {"name": name, "kind": kind, "topic": topic}
    return await call(api, user, "POST", "/rooms", body)


async def test_public_rooms_lists_only_public_rooms(make_user, api):
    """GET /rooms/public: name, topic, member count, last activity of public
    rooms; never a private room or a DM."""
    alice, bob = await make_user("alice"), await make_user("bob")
    assert (
        await create(api, alice, "open", "public", "all welcome")
    ).status_code == 201
    assert (await create(api, alice, "secret")).status_code == 201
    await call(api, alice, "POST", "/dms", {"users": ["bob"]})
    await post(api, alice, "open", {"message": "hi"})
    response = await call(api, bob, "GET", "/rooms/public")
    assert response.status_code == 200
    (room,) = response.json()["rooms"]
    assert {k: room[k] for k in ("room", "topic", "members")} == {
        "room": "open",
        "topic": "all welcome",
        "members": 1,
    }
    assert room["last_message_at"].endswith("Z")


async def test_create_room_answers_201_and_a_taken_name_409(make_user, api):
    """POST /rooms makes the caller owner and member (201 with the room); the
    same name again, in any case and whoever asks, is 409 conflict."""
    alice, bob = await make_user("alice"), await make_user("bob")
    response = await create(api, alice, "Team", "private", "release on Friday")
    assert response.status_code == 201, response.content
    room = response.json()
    assert {k: room[k] for k in ("room", "kind", "topic", "member", "members")} == {
        "room": "team",
        "kind": "private",
        "topic": "release on Friday",
        "member": True,
        "members": ["alice"],
    }
    body = assert_error(await create(api, bob, "TEAM", "public"), 409, "conflict")
    assert "team" in body["detail"]
    assert_error(await create(api, alice, "team"), 409, "conflict")


async def test_create_room_refuses_bad_names_and_kinds(make_user, api):
    """A bad name, a `dm-` name or a kind other than public/private: 400."""
    alice = await make_user("alice")
    for name in ("café", "x" * 65, "dm-mine"):
        assert_error(await create(api, alice, name, "public"), 400, "bad_frame")
    assert_error(await create(api, alice, "fine", "dm"), 400, "bad_frame")


async def test_private_room_is_not_found_for_non_members(make_user, api):
    """Every call about a private room (or DM) answers a non-member exactly as
    for a room that does not exist: the same status and the same body."""
    alice, carol = await make_user("alice"), await make_user("carol")
    await make_user("bob")
    assert (await create(api, alice, "secret")).status_code == 201
    await post(api, alice, "secret", {"message": "psst"})
    dm = (await call(api, alice, "POST", "/dms", {"users": ["bob"]})).json()["room"]
    calls = [
        ("GET", "/rooms/{}", None),
        ("HEAD", "/rooms/{}", None),
        ("PATCH", "/rooms/{}", {"topic": "mine now"}),
        ("GET", "/rooms/{}/messages", None),
        ("GET", "/rooms/{}/messages?after=0", None),
        ("GET", "/rooms/{}/messages?thread=1", None),
        ("PUT", "/rooms/{}/members/carol", None),
        ("PUT", "/rooms/{}/members/bob", None),
        ("DELETE", "/rooms/{}/members/alice", None),
        ("DELETE", "/rooms/{}/members/carol", None),
        ("POST", "/rooms/{}/read", {"seq": 1}),
        ("PATCH", "/rooms/{}/messages/1", {"message": "changed"}),
        ("DELETE", "/rooms/{}/messages/1", None),
        ("PUT", "/rooms/{}/messages/1/reactions/👍", None),
        ("DELETE", "/rooms/{}/messages/1/reactions/👍", None),
    ]
    for name in ("secret", dm):
        for method, path, body in calls:
            hidden = await call(api, carol, method, path.format(name), body)
            missing = await call(api, carol, method, path.format("nosuchroom"), body)
            assert hidden.status_code == missing.status_code == 404, (method, path)
            if method != "HEAD":
                assert hidden.json() == {
                    "code": "not_found",
                    "detail": missing.json()["detail"].replace("nosuchroom", name),
                }, (method, path)
        # Posting: a non-member gets the missing-room answer (a room that does
        # not exist yet is made by a post, as by opening it on the v1 socket).
        refused = assert_error(
            await post(api, carol, name, {"message": "let me in"}), 404, "not_found"
        )
        assert refused["detail"] == f"No room named {name!r}."
        rooms = (await call(api, carol, "GET", "/rooms")).json()["rooms"]
        assert name not in [room["room"] for room in rooms]
    secret = (await call(api, alice, "GET", "/rooms/secret")).json()
    assert (secret["topic"], secret["members"]) == ("", ["alice"])


async def test_room_details_and_topic(make_user, connect, api):
    """GET /rooms/<room>: a member's summary (members for a private room), the
    public facts for a non-member of a public room. PATCH topic by a member is
    a `topic` event; by a non-member of a public room 403; notify is yours."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await create(api, alice, "team")
    await create(api, alice, "hall", "public")
    a = await connect(alice, "team")
    response = await call(api, alice, "PATCH", "/rooms/team", {"topic": "  ship  it "})
    assert response.status_code == 200, response.content
    assert response.json()["topic"] == "ship it"
    event = await a.receive_json_from()
    assert {k: event[k] for k in ("type", "room", "topic", "by")} == {
        "type": "topic",
        "room": "team",
        "topic": "ship it",
        "by": "alice",
    }
    again = await call(api, alice, "PATCH", "/rooms/team", {"topic": "ship it"})
    assert again.status_code == 200
    assert await a.receive_nothing(timeout=0.3)  # unchanged: no event
    details = (await call(api, alice, "GET", "/rooms/team/")).json()
    assert {k: details[k] for k in ("kind", "member", "members", "notify")} == {
        "kind": "private",
        "member": True,
        "members": ["alice"],
        "notify": "all",
    }
    hall = (await call(api, bob, "GET", "/rooms/HALL")).json()
    assert (hall["room"], hall["kind"], hall["member"]) == ("hall", "public", False)
    assert "members" not in hall and "unread" not in hall
    refused = await call(api, bob, "PATCH", "/rooms/hall", {"topic": "bob's"})
    assert_error(refused, 403, "forbidden")
    for bad in ("bell\x07", "x" * 251):
        assert_error(
            await call(api, alice, "PATCH", "/rooms/team", {"topic": bad}),
            400,
            "bad_frame",
        )
    muted = await call(api, alice, "PATCH", "/rooms/team", {"notify": "mentions"})
    assert muted.json()["notify"] == "mentions"
    assert_error(
        await call(api, alice, "PATCH", "/rooms/team", {"notify": "loud"}),
        400,
        "bad_frame",
    )


async def test_members_join_invite_leave_and_remove(make_user, connect, api):
    """PUT members/<me> joins a public room; any member adds a user to a
    private room; DELETE members/<me> leaves; only owners (and staff) remove
    others. Each change is a `member` event; a removed user gets 404 after."""
    alice, bob = await make_user("alice"), await make_user("bob")
    carol = await make_user("carol")
    await create(api, alice, "hall", "public")
    await create(api, alice, "team")
    joined = await call(api, bob, "PUT", "/rooms/hall/members/bob")
    assert (joined.status_code, joined.json()["member"]) == (200, True)
    assert_error(
        await call(api, bob, "PUT", "/rooms/hall/members/carol"), 403, "forbidden"
    )
    a = await connect(alice, "team")
    added = await call(api, alice, "PUT", "/rooms/team/members/bob")
    assert added.status_code == 200
    assert added.json()["members"] == ["alice", "bob"]
    event = await a.receive_json_from()
    assert {k: event[k] for k in ("type", "username", "op", "by")} == {
        "type": "member",
        "username": "bob",
        "op": "join",
        "by": "alice",
    }
    assert (await call(api, bob, "PUT", "/rooms/team/members/carol")).status_code == 200
    assert (await call(api, carol, "GET", "/rooms/team")).status_code == 200
    assert_error(
        await call(api, bob, "DELETE", "/rooms/team/members/carol"), 403, "forbidden"
    )
    assert_error(
        await call(api, alice, "PUT", "/rooms/team/members/nobody"), 404, "not_found"
    )
    left = await call(api, carol, "DELETE", "/rooms/team/members/carol")
    assert (left.status_code, left.content) == (204, b"")
    assert_error(await call(api, carol, "GET", "/rooms/team"), 404, "not_found")
    removed = await call(api, alice, "DELETE", "/rooms/team/members/bob")
    assert removed.status_code == 204
    assert_error(await call(api, bob, "GET", "/rooms/team"), 404, "not_found")
    assert_error(
        await call(api, alice, "DELETE", "/rooms/team/members/bob"), 404, "not_found"
    )
    rooms = (await call(api, bob, "GET", "/rooms")).json()["rooms"]
    assert [room["room"] for room in rooms] == ["hall"]


async def test_dm_is_the_same_room_for_the_same_users(make_user, api):
    """POST /dms: the caller and the users get one DM, the same whoever opens
    it; its members are fixed; 10 users are too many; an unknown user 404."""
    alice, bob = await make_user("alice"), await make_user("bob")
    carol = await make_user("carol")
    first = await call(api, alice, "POST", "/dms", {"users": ["bob"]})
    assert first.status_code == 200, first.content
    dm = first.json()
    assert (dm["kind"], dm["members"]) == ("dm", ["alice", "bob"])
    assert dm["room"].startswith("dm-")
    again = await call(api, bob, "POST", "/dms", {"users": ["ALICE", "alice"]})
    assert again.json()["room"] == dm["room"]
    group = await call(api, alice, "POST", "/dms", {"users": ["bob", "carol"]})
    assert group.json()["room"] != dm["room"]
    assert (await post(api, bob, dm["room"], {"message": "hi"})).status_code == 201
    assert_error(
        await call(api, carol, "GET", f"/rooms/{dm['room']}"), 404, "not_found"
    )
    assert_error(
        await call(api, alice, "PUT", f"/rooms/{dm['room']}/members/carol"),
        403,
        "forbidden",
    )
    assert_error(
        await call(api, alice, "DELETE", f"/rooms/{dm['room']}/members/alice"),
        403,
        "forbidden",
    )
    assert_error(
        await call(api, alice, "POST", "/dms", {"users": ["nobody"]}), 404, "not_found"
    )
    for n in range(9):
        await make_user(f"u{n}")
    too_many = {"users": [f"u{n}" for n in range(9)]}
    assert_error(await call(api, alice, "POST", "/dms", too_many), 400, "bad_frame")
    assert_error(
        await call(api, alice, "POST", "/dms", {"users": "bob"}), 400, "bad_frame"
    )


async def test_read_position_moves_forward_and_back_with_force(make_user, api):
    """POST /rooms/<room>/read: the new summary; forward only, unless force;
    never past the room's last seq; unread counts others' messages after it."""
    alice, bob = await make_user("alice"), await make_user("bob")
    for n in range(3):
        await post(api, alice, "lobby", {"message": f"m{n}"})
    await call(api, bob, "PUT", "/rooms/lobby/members/bob")  # seq 4: bob joins

    async def read(body):
        response = await call(api, bob, "POST", "/rooms/lobby/read", body)
        assert response.status_code == 200, response.content
        return response.json()["last_read_seq"], response.json()["unread"]

    assert await read({"seq": 2}) == (4, 0)  # joined at 4: the past is read
    assert await read({"seq": 1, "force": True}) == (1, 2)  # mark unread
    assert await read({"seq": 2}) == (2, 1)
    assert await read({"seq": 1}) == (2, 1)
    assert await read({"seq": 99}) == (4, 0)
    rooms = (await call(api, bob, "GET", "/rooms")).json()["rooms"]
    assert (rooms[0]["room"], rooms[0]["unread"]) == ("lobby", 0)
    for body in ({"seq": -1}, {"seq": "2"}, {"seq": 1, "force": 1}, {}):
        assert_error(
            await call(api, bob, "POST", "/rooms/lobby/read", body), 400, "bad_frame"
        )
