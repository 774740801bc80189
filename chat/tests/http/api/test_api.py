"""The REST API (chat/http/api/, on django-ninja), in process: Django's AsyncClient drives the
real views on the test database; WebSocket members see what the API posts."""

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from chat.models import Message, Room
from chat.realtime.state import throttle
from chat.tests.http.api.calls import bearer
from testing.refusals import assert_error


@pytest.fixture
def api():
    return AsyncClient()


async def post(api, user, room, body, **headers):
    return await api.post(
        f"/api/v1/rooms/{room}/messages",
        body,
        content_type="application/json",
        headers={**bearer(user), **headers},
    )


@database_sync_to_async
def stored(room="lobby"):
    return list(Message.objects.filter(room__name=room).values_list("seq", "text"))


@database_sync_to_async
def lock(room: str) -> None:
    Room.objects.filter(name=room).update(locked=True)


async def test_token_from_username_and_password(make_user, api):
    """POST /api/v1/token with the right password gives a new token that authenticates."""
    await make_user("alice")
    response = await api.post(
        "/api/v1/token",
        {"username": "alice", "password": "pw-12345-long"},
        content_type="application/json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.json()["username"] == "alice"
    rooms = await api.get("/api/v1/rooms", headers={"Authorization": f"Bearer {token}"})
    assert rooms.status_code == 200


async def test_token_refused_with_wrong_password_or_bad_body(make_user, api):
    """A wrong password is 401 unauthorized; a body without strings is 400 bad_frame."""
    await make_user("alice")
    wrong = await api.post(
        "/api/v1/token",
        {"username": "alice", "password": "nope"},
        content_type="application/json",
    )
    assert_error(wrong, 401, "unauthorized")
    bad = await api.post(
        "/api/v1/token", {"username": 1}, content_type="application/json"
    )
    assert_error(bad, 400, "bad_frame")
    not_json = await api.post("/api/v1/token", "{", content_type="application/json")
    assert_error(not_json, 400, "bad_json")


async def test_credentials_required(make_user, api):
    """No credentials, a malformed header or an unknown token: 401 with WWW-Authenticate."""
    await make_user("alice")
    for headers in (
        {},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer nope"},
    ):
        response = await api.get("/api/v1/rooms", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response["WWW-Authenticate"].startswith("Bearer")


async def test_rooms_lists_the_callers_rooms(make_user, connect, api):
    """GET /api/v1/rooms lists the caller's rooms (joined by opening or
    posting) as v2 summaries, most recently active first; not others' rooms."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await connect(alice, "beta")
    await post(api, alice, "alpha", {"message": "hi"})
    await post(api, bob, "gamma", {"message": "elsewhere"})
    await post(api, bob, "alpha", {"message": "@alice look"})
    response = await api.get("/api/v1/rooms", headers=bearer(alice))
    assert response.status_code == 200
    rooms = response.json()["rooms"]
    assert [r["room"] for r in rooms] == ["alpha", "beta"]
    assert {k: rooms[0][k] for k in ("kind", "last_seq", "unread", "mentions")} == {
        "kind": "public",
        "last_seq": 2,
        "unread": 1,
        "mentions": 1,
    }
    assert set(rooms[1]) >= {"topic", "last_read_seq", "notify"}


async def test_post_is_stored_and_broadcast_like_a_websocket_post(
    make_user, connect, api
):
    """An API post takes the next seq after a WebSocket post, reaches every
    member live, and the reply carries the stored message."""
    alice, bob = await make_user("alice"), await make_user("bob")
    b = await connect(bob, "lobby")
    await b.send_json_to({"message": "from the socket"})
    assert (await b.receive_json_from())["seq"] == 1
    response = await post(api, alice, "Lobby", {"message": "  from the API  "})
    assert response.status_code == 201
    message = response.json()
    assert {k: message[k] for k in ("type", "seq", "room", "username", "message")} == {
        "type": "message",
        "seq": 2,
        "room": "lobby",
        "username": "alice",
        "message": "from the API",
    }
    assert await b.receive_json_from() == message
    assert await stored() == [(1, "from the socket"), (2, "from the API")]


async def test_repeated_client_id_is_stored_once(make_user, connect, api):
    """A retried post with the same client_id answers 200 with the first
    message; stored and broadcast once, whether sent by socket or API."""
    alice = await make_user("alice")
    a = await connect(alice)
    first = await post(api, alice, "lobby", {"message": "once", "client_id": "c-1"})
    again = await post(api, alice, "lobby", {"message": "once", "client_id": "c-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (await a.receive_json_from())["seq"] == 1
    await a.send_json_to({"message": "once", "client_id": "c-1"})
    assert await a.receive_json_from() == {"type": "ack", "client_id": "c-1", "seq": 1}
    assert await a.receive_nothing(timeout=0.3)
    assert await stored() == [(1, "once")]


async def test_invalid_posts_get_protocol_codes_and_store_nothing(
    make_user, connect, api, settings
):
    """empty → 400, too_long → 413, bad_json/bad_frame → 400; nothing stored or sent."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10
    alice = await make_user("alice")
    a = await connect(alice)
    assert_error(await post(api, alice, "lobby", {"message": "   "}), 400, "empty")
    assert_error(
        await post(api, alice, "lobby", {"message": "x" * 11}), 413, "too_long"
    )
    assert_error(await post(api, alice, "lobby", {"message": 5}), 400, "bad_frame")
    assert_error(
        await post(api, alice, "lobby", {"message": "x", "client_id": ""}),
        400,
        "bad_frame",
    )
    assert_error(await post(api, alice, "lobby", "[1]"), 400, "bad_frame")
    assert_error(await post(api, alice, "lobby", "{nope"), 400, "bad_json")
    assert_error(
        await post(api, alice, "lobby", "x" * (settings.CHAT_MAX_FRAME_BYTES + 1)),
        413,
        "too_long",
    )
    assert await a.receive_nothing(timeout=0.3)
    assert await stored() == []


async def test_rate_limit_is_shared_with_the_websocket(
    make_user, connect, api, settings
):
    """The user's one token bucket covers socket and API posts: over it, 429
    rate_limited with Retry-After, and nothing stored."""
    settings.CHAT_RATE_LIMIT_PER_SECOND = 0.001
    settings.CHAT_RATE_LIMIT_BURST = 2
    alice = await make_user("alice")
    a = await connect(alice)
    await a.send_json_to({"message": "1"})
    assert (await a.receive_json_from())["seq"] == 1
    assert (await post(api, alice, "lobby", {"message": "2"})).status_code == 201
    refused = await post(api, alice, "lobby", {"message": "3"})
    assert_error(refused, 429, "rate_limited")
    assert refused["Retry-After"] == "1"
    assert [text for _, text in await stored()] == ["1", "2"]


async def test_locked_room_refuses_posts_but_can_be_read(make_user, api):
    """In a locked room a post is 403 forbidden; reading still works."""
    alice = await make_user("alice")
    await post(api, alice, "lobby", {"message": "before"})
    await lock("lobby")
    assert_error(
        await post(api, alice, "lobby", {"message": "after"}), 403, "forbidden"
    )
    page = await api.get("/api/v1/rooms/lobby/messages", headers=bearer(alice))
    assert [m["message"] for m in page.json()["messages"]] == ["before"]


async def test_history_pages_with_before_and_limit(make_user, api):
    """GET messages: the newest `limit` below `before`, oldest first, has_more."""
    alice = await make_user("alice")
    for n in range(1, 6):
        await post(api, alice, "lobby", {"message": f"m{n}"})
    page = (
        await api.get("/api/v1/rooms/LOBBY/messages?limit=2", headers=bearer(alice))
    ).json()
    assert (page["room"], [m["seq"] for m in page["messages"]], page["has_more"]) == (
        "lobby",
        [4, 5],
        True,
    )
    page = (
        await api.get(
            "/api/v1/rooms/lobby/messages?before=3&limit=5", headers=bearer(alice)
        )
    ).json()
    assert ([m["message"] for m in page["messages"]], page["has_more"]) == (
        ["m1", "m2"],
        False,
    )


async def test_history_refuses_bad_parameters_and_unknown_rooms(
    make_user, api, settings
):
    """Bad before/limit: 400 bad_frame. Unknown room or bad name: 404 not_found,
    and reading never creates a room."""
    alice = await make_user("alice")
    for query in (
        "limit=0",
        f"limit={settings.CHAT_HISTORY_PAGE_MAX + 1}",
        "before=0",
        "before=x",
    ):
        response = await api.get(
            f"/api/v1/rooms/lobby/messages?{query}", headers=bearer(alice)
        )
        assert_error(response, 400, "bad_frame")
    for room in ("nowhere", "caf%C3%A9", "x" * 65):
        response = await api.get(
            f"/api/v1/rooms/{room}/messages", headers=bearer(alice)
        )
        assert_error(response, 404, "not_found")
    assert not await database_sync_to_async(
        Room.objects.filter(name="nowhere").exists
    )()


async def test_unknown_paths_and_methods_answer_json(make_user, api):
    """An unknown API path is a JSON 404; a wrong method a JSON 405 with Allow."""
    alice = await make_user("alice")
    assert_error(
        await api.get("/api/v1/nothing", headers=bearer(alice)), 404, "not_found"
    )
    response = await api.delete("/api/v1/rooms", headers=bearer(alice))
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD, POST"
    assert "use GET, HEAD, POST" in response.json()["detail"]


async def test_session_writes_need_the_csrf_token(make_user, connect, api):
    """With the page's session, GET works; a POST needs the CSRF token."""
    alice = await make_user("alice")
    await api.aforce_login(alice)
    csrf_client = AsyncClient(enforce_csrf_checks=True)
    await csrf_client.aforce_login(alice)
    assert (await csrf_client.get("/api/v1/rooms")).status_code == 200
    url = "/api/v1/rooms/lobby/messages"
    refused = await csrf_client.post(
        url, {"message": "x"}, content_type="application/json"
    )
    assert_error(refused, 403, "forbidden")
    page = await csrf_client.get("/chat/lobby/")  # the page sets the CSRF cookie
    assert page.status_code == 200
    token = csrf_client.cookies["csrftoken"].value
    accepted = await csrf_client.post(
        url,
        {"message": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 201, accepted.content


async def test_bearer_writes_need_no_csrf_token(make_user):
    """A token-authenticated POST is not subject to the CSRF check."""
    alice = await make_user("alice")
    client = AsyncClient(enforce_csrf_checks=True)
    response = await post(client, alice, "lobby", {"message": "bot"})
    assert response.status_code == 201


async def test_schema_is_generated_and_served(api):
    """/api/v1/schema/ is the OpenAPI 3 document ninja generates, naming every
    endpoint under /api/v1/, with limits from the settings of the moment."""
    response = await api.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/token",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/rooms",
        "/api/v1/rooms/public",
        "/api/v1/rooms/{room}",
        "/api/v1/rooms/{room}/members/{username}",
        "/api/v1/dms",
        "/api/v1/rooms/{room}/messages",
        "/api/v1/rooms/{room}/messages/{seq}",
        "/api/v1/rooms/{room}/messages/{seq}/reactions/{emoji}",
        "/api/v1/rooms/{room}/read",
        "/api/v1/search",
        "/api/v1/uploads",
        "/api/v1/mentions",
        "/api/v1/rooms/{room}/messages/{seq}/edits",
        "/api/v1/users",
        "/api/v1/users/me",
        "/api/v1/users/me/avatar",
    }
    operations = [op for item in schema["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)), ids
    assert set(schema["paths"]["/api/v1/rooms"]) == {"get", "head", "post"}
    assert "content" not in schema["paths"]["/api/v1/rooms"]["head"]["responses"]["200"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail"}
    assert "not_found" in error["properties"]["code"]["enum"]
    post = schema["components"]["schemas"]["Post"]["properties"]["message"]
    assert post["maxLength"] == 4000


async def test_schema_limits_follow_settings(api, settings):
    """The document's limits are read when it is served, not at import."""
    settings.CHAT_MAX_MESSAGE_LENGTH = 10
    schema = (await api.get("/api/v1/schema")).json()
    assert (
        schema["components"]["schemas"]["Post"]["properties"]["message"]["maxLength"]
        == 10
    )


async def test_unversioned_paths_are_aliases(make_user, api):
    """/api/... answers as /api/v1/... does: token, rooms, messages, schema."""
    alice = await make_user("alice")
    response = await api.post(
        "/api/token",
        {"username": "alice", "password": "pw-12345-long"},
        content_type="application/json",
    )
    assert response.status_code == 201
    posted = await api.post(
        "/api/rooms/lobby/messages",
        {"message": "old path"},
        content_type="application/json",
        headers=bearer(alice),
    )
    assert posted.status_code == 201
    v1 = await api.get("/api/v1/rooms/lobby/messages", headers=bearer(alice))
    old = await api.get("/api/rooms/lobby/messages", headers=bearer(alice))
    assert old.json() == v1.json()
    assert [m["message"] for m in old.json()["messages"]] == ["old path"]
    assert (await api.get("/api/rooms", headers=bearer(alice))).json() == (
        await api.get("/api/v1/rooms", headers=bearer(alice))
    ).json()
    assert (await api.get("/api/schema/")).json() == (
        await api.get("/api/v1/schema/")
    ).json()
    assert_error(await api.get("/api/nothing", headers=bearer(alice)), 404, "not_found")


async def test_trailing_slash_is_optional(make_user, api):
    """Every path answers with and without a trailing slash, both versions."""
    alice = await make_user("alice")
    await post(api, alice, "lobby", {"message": "hi"})
    for prefix in ("/api/v1", "/api"):
        for path in ("/rooms", "/rooms/lobby/messages", "/schema"):
            for slash in ("", "/"):
                url = prefix + path + slash
                response = await api.get(url, headers=bearer(alice))
                assert response.status_code == 200, (url, response.content)
        response = await api.post(
            f"{prefix}/rooms/lobby/messages/",
            {"message": "slash"},
            content_type="application/json",
            headers=bearer(alice),
        )
        assert response.status_code == 201, response.content
        response = await api.post(
            f"{prefix}/token/",
            {"username": "alice", "password": "pw-12345-long"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content


async def test_head_answers_where_get_does(make_user, api):
    """HEAD on a GET endpoint: the GET's status and headers, no body; without
    credentials 401 as for GET; HEAD where only POST is: 405."""
    alice = await make_user("alice")
    await post(api, alice, "lobby", {"message": "hi"})
    for url in ("/api/v1/rooms", "/api/v1/rooms/lobby/messages", "/api/v1/schema/"):
        got = await api.get(url, headers=bearer(alice))
        head = await api.head(url, headers=bearer(alice))
        assert head.status_code == 200, url
        assert head.content == b""
        assert head["Content-Type"] == "application/json"
        assert head["Content-Length"] == str(len(got.content)), url
    assert (await api.head("/api/v1/rooms")).status_code == 401
    assert (
        await api.head("/api/v1/rooms/nowhere/messages", headers=bearer(alice))
    ).status_code == 404
    refused = await api.head("/api/v1/token")
    assert refused.status_code == 405
    assert refused["Allow"] == "POST"


async def test_after_is_a_forward_cursor(make_user, api):
    """GET messages?after=S: the oldest `limit` messages with seq > S, oldest
    first; has_more while newer ones exist; with `before` too, seq < before."""
    alice = await make_user("alice")
    for n in range(1, 6):
        await post(api, alice, "lobby", {"message": f"m{n}"})

    async def page(query: str) -> tuple[list[int], bool]:
        response = await api.get(
            f"/api/v1/rooms/lobby/messages?{query}", headers=bearer(alice)
        )
        assert response.status_code == 200, response.content
        body = response.json()
        return [m["seq"] for m in body["messages"]], body["has_more"]

    assert await page("after=0&limit=2") == ([1, 2], True)
    assert await page("after=2&limit=2") == ([3, 4], True)
    assert await page("after=4&limit=2") == ([5], False)
    assert await page("after=5") == ([], False)
    assert await page("after=1&before=4&limit=5") == ([2, 3], False)
    assert await page("after=1&before=5&limit=2") == ([2, 3], True)
    assert_error(
        await api.get("/api/v1/rooms/lobby/messages?after=-1", headers=bearer(alice)),
        400,
        "bad_frame",
    )


async def test_around_centres_a_page_on_a_message(make_user, api):
    """GET messages?around=S&limit=N: N messages centred on S (a permalink
    opened in context), oldest first; has_more when older ones exist."""
    alice = await make_user("alice")
    for n in range(1, 11):
        await post(api, alice, "lobby", {"message": f"m{n}"})
    response = await api.get(
        "/api/v1/rooms/lobby/messages?around=6&limit=4", headers=bearer(alice)
    )
    assert response.status_code == 200, response.content
    page = response.json()
    assert ([m["seq"] for m in page["messages"]], page["has_more"]) == (
        [4, 5, 6, 7],
        True,
    )
    assert_error(
        await api.get("/api/v1/rooms/lobby/messages?around=0", headers=bearer(alice)),
        400,
        "bad_frame",
    )


async def test_refusals_name_the_field(make_user, api):
    """ninja's validation errors become 400 bad_frame whose detail names the
    field and says what is wrong; an empty body is 400 too."""
    alice = await make_user("alice")
    response = await api.get(
        "/api/v1/rooms/lobby/messages?before=x", headers=bearer(alice)
    )
    assert_error(response, 400, "bad_frame")
    assert '"before" (query)' in response.json()["detail"]
    assert "integer" in response.json()["detail"]
    response = await post(api, alice, "lobby", {"message": 5})
    assert_error(response, 400, "bad_frame")
    assert response.json()["detail"].startswith('"message": ')
    response = await post(api, alice, "lobby", {"message": "x", "client_id": ""})
    assert '"client_id"' in response.json()["detail"]
    response = await post(api, alice, "lobby", "")
    assert_error(response, 400, "bad_frame")
    assert response.json()["detail"] == "The request body must be a JSON object."
    response = await api.post(
        "/api/v1/token", {"username": "alice"}, content_type="application/json"
    )
    assert_error(response, 400, "bad_frame")
    assert '"password": Field required' in response.json()["detail"]


async def test_token_requests_are_throttled_after_failures(make_user, api, settings):
    """Past CHAT_LOGIN_FAILURES_PER_ACCOUNT wrong passwords, POST /api/v1/token is
    429 rate_limited with Retry-After in seconds, even with the right password."""
    settings.CHAT_LOGIN_FAILURES_PER_ACCOUNT = 2
    throttle.reset()  # a fresh process's counters
    await make_user("throttled")

    async def attempt(password: str):
        return await api.post(
            "/api/v1/token",
            {"username": "throttled", "password": password},
            content_type="application/json",
        )

    for _ in range(2):
        assert_error(await attempt("wrong"), 401, "unauthorized")
    refused = await attempt("pw-12345-long")
    assert_error(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) > 0
    assert "try again in" in refused.json()["detail"]
    throttle.reset()


async def test_tokens_are_listed_and_revoked_by_their_owner(make_user, api):
    """GET /api/v1/tokens lists the caller's tokens (never the secrets);
    DELETE /api/v1/tokens/<id> revokes one (204; it stops working at once);
    someone else's token or an unknown id is 404 and stays."""
    alice, bob = await make_user("alice"), await make_user("bob")
    listed = await api.get("/api/v1/tokens", headers=bearer(alice))
    assert listed.status_code == 200, listed.content
    (mine,) = listed.json()["tokens"]
    assert set(mine) == {"id", "created_at", "expires_at"}
    (theirs,) = (await api.get("/api/v1/tokens/", headers=bearer(bob))).json()["tokens"]
    refused = await api.delete(f"/api/v1/tokens/{theirs['id']}", headers=bearer(alice))
    assert_error(refused, 404, "not_found")
    assert (await api.get("/api/v1/rooms", headers=bearer(bob))).status_code == 200
    assert_error(
        await api.delete("/api/v1/tokens/x", headers=bearer(alice)), 400, "bad_frame"
    )
    revoked = await api.delete(f"/api/v1/tokens/{mine['id']}", headers=bearer(alice))
    assert revoked.status_code == 204
    assert_error(
        await api.get("/api/v1/tokens", headers=bearer(alice)), 401, "unauthorized"
    )


async def test_token_cap_refuses_a_new_token(make_user, api, settings):
    """Past CHAT_TOKENS_PER_USER, POST /api/v1/token is 403 forbidden."""
    settings.CHAT_TOKENS_PER_USER = 1  # make_user issued one already
    await make_user("alice")
    response = await api.post(
        "/api/v1/token",
        {"username": "alice", "password": "pw-12345-long"},
        content_type="application/json",
    )
    body = assert_error(response, 403, "forbidden")
    assert "delete one first" in body["detail"]
