"""chat/http/api/messages.py in process: threads and replies, edits, deletions and
reactions over HTTP, each an event of the room's log that socket members
receive live, through core's services and the one access rule."""

import pytest

from chat.tests.http.api.calls import asgi_client, call, post
from testing.refusals import assert_error


@pytest.fixture
async def api():
    async with asgi_client() as client:
        yield client


async def page(api, user, query: str = "", room: str = "lobby") -> dict:
    response = await call(api, user, "GET", f"/rooms/{room}/messages{query}")
    assert response.status_code == 200, response.content
    return response.json()


async def test_replies_form_a_thread(make_user, api):
    """POST with reply_to joins the root's thread (a reply to a reply too);
    GET ?thread=<root> pages the root and its replies; the root counts them.
    A reply to a message that does not exist is 404 and stores nothing."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await post(api, alice, "lobby", {"message": "root"})
    await post(api, alice, "lobby", {"message": "elsewhere"})
    reply = await post(api, bob, "lobby", {"message": "re", "reply_to": 1})
    assert reply.status_code == 201, reply.content
    assert reply.json()["reply_to"] == 1
    nested = await post(api, alice, "lobby", {"message": "re re", "reply_to": 3})
    assert nested.json()["reply_to"] == 1
    thread = await page(api, bob, "?thread=1")
    assert [(m["seq"], m["message"]) for m in thread["messages"]] == [
        (1, "root"),
        (3, "re"),
        (4, "re re"),
    ]
    assert thread["messages"][0]["replies"] == 2
    assert thread["has_more"] is False
    assert [
        m["seq"] for m in (await page(api, bob, "?thread=1&limit=2"))["messages"]
    ] == [
        3,
        4,
    ]
    missing = await post(api, bob, "lobby", {"message": "lost", "reply_to": 99})
    assert_error(missing, 404, "not_found")
    assert len((await page(api, bob))["messages"]) == 4
    assert_error(
        await post(api, bob, "lobby", {"message": "x", "reply_to": "1"}),
        400,
        "bad_frame",
    )


async def test_edit_by_the_author(make_user, connect, api):
    """PATCH messages/<seq>: the author's new text (checked as a post) is an
    `edited` event; the answer and history show the message as it now reads.
    Another user: 403; an unknown seq: 404; an empty text: 400 empty."""
    alice, bob = await make_user("alice"), await make_user("bob")
    b = await connect(bob)
    await post(api, alice, "lobby", {"message": "teh typo"})
    assert (await b.receive_json_from())["seq"] == 1
    edited = await call(
        api, alice, "PATCH", "/rooms/lobby/messages/1", {"message": " the "}
    )
    assert edited.status_code == 200, edited.content
    message = edited.json()
    assert (message["seq"], message["message"]) == (1, "the")
    assert message["edited_at"].endswith("Z")
    event = await b.receive_json_from()
    assert {k: event[k] for k in ("type", "seq", "target", "message")} == {
        "type": "edited",
        "seq": 2,
        "target": 1,
        "message": "the",
    }
    assert (await page(api, bob))["messages"] == [message]
    assert_error(
        await call(api, bob, "PATCH", "/rooms/lobby/messages/1", {"message": "mine"}),
        403,
        "forbidden",
    )
    assert_error(
        await call(api, alice, "PATCH", "/rooms/lobby/messages/9", {"message": "x"}),
        404,
        "not_found",
    )
    assert_error(
        await call(api, alice, "PATCH", "/rooms/lobby/messages/1", {"message": "  "}),
        400,
        "empty",
    )
    assert await b.receive_nothing(timeout=0.3)


async def test_delete_by_the_author_or_an_owner(make_user, connect, api):
    """DELETE messages/<seq>: 204 and a `deleted` event; history keeps the seq
    as a tombstone; again: 204, no event. Another member of a public room who
    does not own it: 403; the room's owner may delete anyone's message."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await call(api, alice, "POST", "/rooms", {"name": "hall", "kind": "public"})
    b = await connect(bob, "hall")  # seq 1 is alice's `member` event
    await post(api, bob, "hall", {"message": "bob's"})
    await post(api, bob, "hall", {"message": "bob's too"})
    assert [(await b.receive_json_from())["seq"] for _ in range(2)] == [2, 3]
    deleted = await call(api, bob, "DELETE", "/rooms/hall/messages/2")
    assert (deleted.status_code, deleted.content) == (204, b"")
    event = await b.receive_json_from()
    assert {k: event[k] for k in ("type", "seq", "target")} == {
        "type": "deleted",
        "seq": 4,
        "target": 2,
    }
    again = await call(api, bob, "DELETE", "/rooms/hall/messages/2")
    assert again.status_code == 204
    assert await b.receive_nothing(timeout=0.3)
    history = (await page(api, alice, room="hall"))["messages"]
    assert [(m["seq"], m["message"], m.get("deleted")) for m in history] == [
        (2, "", True),
        (3, "bob's too", None),
    ]
    await post(api, alice, "hall", {"message": "alice's"})
    assert_error(
        await call(api, bob, "DELETE", "/rooms/hall/messages/5"), 403, "forbidden"
    )
    by_owner = await call(api, alice, "DELETE", "/rooms/hall/messages/3")
    assert by_owner.status_code == 204
    assert_error(
        await call(api, bob, "DELETE", "/rooms/hall/messages/77"), 404, "not_found"
    )


async def test_reactions_are_idempotent(make_user, connect, api):
    """PUT reactions/<emoji> adds the caller's reaction (a `reaction` event with
    the full list), again changes nothing; DELETE takes it back. The answer is
    the message as it now reads. Not an emoji: 400."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    await post(api, alice, "lobby", {"message": "ship it?"})
    assert (await a.receive_json_from())["seq"] == 1
    url = "/rooms/lobby/messages/1/reactions/👍"
    added = await call(api, bob, "PUT", url)
    assert added.status_code == 200, added.content
    assert added.json()["reactions"] == {"👍": ["bob"]}
    event = await a.receive_json_from()
    assert {k: event[k] for k in ("type", "seq", "target", "emoji", "users")} == {
        "type": "reaction",
        "seq": 2,
        "target": 1,
        "emoji": "👍",
        "users": ["bob"],
    }
    assert (await call(api, bob, "PUT", url)).json()["reactions"] == {"👍": ["bob"]}
    assert await a.receive_nothing(timeout=0.3)
    await call(api, alice, "PUT", "/rooms/lobby/messages/1/reactions/%F0%9F%91%8D")
    assert (await a.receive_json_from())["users"] == ["bob", "alice"]
    removed = await call(api, bob, "DELETE", url)
    assert removed.json()["reactions"] == {"👍": ["alice"]}
    assert (await a.receive_json_from())["users"] == ["alice"]
    assert (await call(api, bob, "DELETE", url)).status_code == 200
    assert await a.receive_nothing(timeout=0.3)
    (message,) = (await page(api, bob))["messages"]
    assert message["reactions"] == {"👍": ["alice"]}
    for bad in ("x", "👍👍", "%20"):
        assert_error(
            await call(api, bob, "PUT", f"/rooms/lobby/messages/1/reactions/{bad}"),
            400,
            "bad_frame",
        )
    assert_error(
        await call(api, bob, "PUT", "/rooms/lobby/messages/9/reactions/👍"),
        404,
        "not_found",
    )


async def test_history_shows_current_state_and_skips_other_events(make_user, api):
    """Pages hold message events only (not member, topic, edited...), each
    in its current state; `after` pages forward over them the same way."""
    alice = await make_user("alice")
    await call(api, alice, "POST", "/rooms", {"name": "team", "kind": "private"})
    await post(api, alice, "team", {"message": "one"})
    await call(api, alice, "PATCH", "/rooms/team", {"topic": "t"})
    await post(api, alice, "team", {"message": "two"})
    await call(api, alice, "PATCH", "/rooms/team/messages/2", {"message": "uno"})
    await call(api, alice, "PUT", "/rooms/team/messages/4/reactions/🎉")
    backwards = await page(api, alice, room="team")
    forwards = await page(api, alice, "?after=0", room="team")
    assert backwards["messages"] == forwards["messages"]
    assert [(m["seq"], m["message"]) for m in forwards["messages"]] == [
        (2, "uno"),
        (4, "two"),
    ]
    assert forwards["messages"][1]["reactions"] == {"🎉": ["alice"]}


async def test_edits_reactions_and_reads_take_rate_tokens(make_user, api, settings):
    """Edits, reactions and history reads spend the user's one token bucket
    (section 7): past it, 429 rate_limited with Retry-After."""
    settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    settings.CHAT_RATE_LIMIT_BURST = 2
    alice = await make_user("alice")
    await post(api, alice, "lobby", {"message": "mine"})  # token 1
    await call(api, alice, "GET", "/rooms/lobby/messages")  # token 2
    for method, path, body in (
        ("GET", "/rooms/lobby/messages", None),
        ("PATCH", "/rooms/lobby/messages/1", {"message": "edit"}),
        ("PUT", "/rooms/lobby/messages/1/reactions/👍", None),
    ):
        refused = await call(api, alice, method, path, body)
        assert_error(refused, 429, "rate_limited")
        assert refused.headers["Retry-After"] == "1"


async def test_edit_history_is_for_the_rooms_owners_and_staff(make_user, api):
    """GET messages/<seq>/edits: the earlier texts, oldest first, for the room's
    owner; another member 403; a private room's non-member 404 as for no room."""
    alice, bob, carol = (
        await make_user("alice"),
        await make_user("bob"),
        await make_user("carol"),
    )
    created = await call(
        api, alice, "POST", "/rooms", {"name": "team", "kind": "private"}
    )
    assert created.status_code == 201
    await call(api, alice, "PUT", "/rooms/team/members/bob")
    seq = (await post(api, bob, "team", {"message": "frist"})).json()["seq"]
    for text in ("first", "first!"):
        answer = await call(
            api, bob, "PATCH", f"/rooms/team/messages/{seq}", {"message": text}
        )
        assert answer.status_code == 200, answer.content
    history = await call(api, alice, "GET", f"/rooms/team/messages/{seq}/edits")
    assert history.status_code == 200, history.content
    assert [e["message"] for e in history.json()["edits"]] == ["frist", "first"]
    assert_error(
        await call(api, bob, "GET", f"/rooms/team/messages/{seq}/edits"),
        403,
        "forbidden",
    )
    assert_error(
        await call(api, carol, "GET", f"/rooms/team/messages/{seq}/edits"),
        404,
        "not_found",
    )
