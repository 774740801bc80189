"""chat.services.search and GET /api/v1/search: what is found, and what a
user who may not read a room never sees. Runs on SQLite (FTS5) and, with a
PostgreSQL DATABASE_URL, on PostgreSQL (tsvector + pg_trgm)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import ApiToken
from chat.services import messages as message_service
from chat.services import rooms
from chat.services.errors import BadRequest
from chat.services.search import highlights, parse_query, search
from chat.store.actions import PostRequest, store_posts
from testing.refusals import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


def user(name: str):
    return get_user_model().objects.create_user(name, password="pw-12345-long")


def post(author, room: str, text: str) -> int:
    (result,) = store_posts([PostRequest(room, author, text, None)])
    assert not isinstance(result, Exception)
    frame, created = result
    assert created
    return frame["seq"]


@pytest.fixture
def people():
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    rooms.create_room(alice, "dev", "public")
    rooms.create_room(alice, "secret", "private")
    rooms.add_member(alice, "secret", "bob")
    return alice, bob, carol


def texts(results) -> list[str]:
    return [r["message"] for r in results]


def test_words_are_found_by_their_stem(people):
    """'deployed' finds 'deploying' (the same stem), which no substring does."""
    alice, *_ = people
    post(alice, "dev", "we are deploying the release tonight")
    post(alice, "dev", "unrelated chatter")
    assert texts(search(alice, "deployed")) == ["we are deploying the release tonight"]


def test_fragments_urls_and_cjk_are_found_as_substrings(people):
    alice, *_ = people
    post(alice, "dev", "see https://docs.example.com/guide/install-2 for details")
    post(alice, "dev", "これは日本語のテキストです")
    post(alice, "dev", "refactoring the parser")
    assert texts(search(alice, "actorin")) == ["refactoring the parser"]
    assert texts(search(alice, "example.com/guide")) == [
        "see https://docs.example.com/guide/install-2 for details"
    ]
    assert texts(search(alice, "日本語")) == ["これは日本語のテキストです"]


def test_newest_first_and_every_term_must_match(people):
    alice, *_ = people
    post(alice, "dev", "release notes draft")
    post(alice, "dev", "release party")
    post(alice, "dev", "release notes final")
    assert texts(search(alice, "release notes")) == [
        "release notes final",
        "release notes draft",
    ]


def test_private_room_never_leaks_to_a_non_member(people):
    """carol, not a member, finds nothing of the private room: no result,
    whatever the query or filter, and naming the room gives the same nothing
    as a room that does not exist."""
    alice, bob, carol = people
    post(alice, "secret", "the launch code is swordfish")
    post(alice, "dev", "public swordfish")
    assert texts(search(carol, "swordfish")) == ["public swordfish"]
    assert search(carol, "swordfish", room="secret") == []
    assert search(carol, "in:secret swordfish") == []
    assert search(carol, "swordfish", room="no-such-room") == []
    assert texts(search(bob, "launch code")) == ["the launch code is swordfish"]


def test_a_removed_member_stops_finding_at_once(people):
    alice, bob, _ = people
    post(alice, "secret", "quarterly numbers are in")
    assert len(search(bob, "quarterly")) == 1
    rooms.remove_member(alice, "secret", "bob")
    assert search(bob, "quarterly") == []


def test_deleted_messages_are_never_found_and_edits_by_new_text(people):
    alice, *_ = people
    gone = post(alice, "dev", "a typo-ridden messsage")
    kept = post(alice, "dev", "the old wording")
    message_service.delete_message(alice, "dev", gone)
    message_service.edit_message(alice, "dev", kept, "the new phrasing")
    assert search(alice, "messsage") == []
    assert search(alice, "wording") == []
    assert texts(search(alice, "phrasing")) == ["the new phrasing"]


@pytest.mark.parametrize(
    "steps", ["one step", "small steps, rare", "small steps, common"]
)
def test_every_search_path_gives_the_newest_hits(people, monkeypatch, steps):
    """Over a big history search reads in steps (SQLite: the FTS indexes'
    matches a chunk at a time; PostgreSQL: the newest ids, then the GIN
    indexes for rare terms or row by row for common ones; SQLite again
    differs for a search in a few rooms). Made small here,
    the steps give the same hits, newest first, as one step does; a step's
    edge drops or repeats nothing."""
    from chat.services import search as search_module

    if steps != "one step":
        monkeypatch.setattr(search_module, "_FIRST_CHUNK", 2)
        monkeypatch.setattr(search_module, "_GROWTH", 2)
        monkeypatch.setattr(search_module, "_RECENT", 3)
        rare = "rare" in steps  # PostgreSQL: GIN, or row by row
        monkeypatch.setattr(search_module, "_RARE", 10**9 if rare else 0)
        # SQLite: ids looked up one by one, or against a room's index
        monkeypatch.setattr(search_module, "_FEW_ROOMS", 0 if rare else 10**9)
    alice, bob, _ = people
    post(alice, "dev", "zebra crossing first")
    for i in range(12):
        room = "secret" if i % 3 == 0 else "dev"
        odd = "odd " if i % 2 else ""
        post(bob if i % 2 else alice, room, f"alpha beta {odd}number {i}")
        # Found by one index each: the stem (words), the substring (trigrams).
        post(alice, "dev", f"{'deploying' if i % 2 else 'redeployed'} {i}")
    post(alice, "dev", "unrelated")
    numbers = lambda results: [int(t.rsplit(" ", 1)[1]) for t in texts(results)]  # noqa: E731
    assert numbers(search(alice, "alpha", limit=5)) == [11, 10, 9, 8, 7]
    assert numbers(search(alice, "alpha beta", limit=20)) == list(range(11, -1, -1))
    assert numbers(search(alice, "lph from:bob", limit=4)) == [11, 9, 7, 5]
    assert numbers(search(alice, "beta in:secret")) == [9, 6, 3, 0]
    assert numbers(search(alice, "numbers from:bob in:secret")) == [9, 3]
    assert numbers(search(alice, "alpha odd", limit=4)) == [11, 9, 7, 5]
    # A two-letter term: no trigram index, every row tested newest first.
    assert numbers(search(alice, "be alpha", limit=3)) == [11, 10, 9]
    assert numbers(search(alice, "be in:secret")) == [9, 6, 3, 0]
    assert numbers(search(alice, "deployed", limit=20)) == list(range(11, -1, -1))
    assert texts(search(alice, "zebra")) == ["zebra crossing first"]
    assert search(alice, "zebra from:bob") == []


def test_postgres_planner_setting_does_not_outlive_the_search(people, monkeypatch):
    """Search turns plain index scans off for one statement on PostgreSQL;
    run inside a caller's transaction, the setting is back on afterwards, so
    the caller's later queries are planned as usual."""
    from django.db import connection, transaction

    from chat.services import search as search_module

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting (DATABASE_URL=postgres://…)")
    monkeypatch.setattr(search_module, "_RECENT", 1)
    monkeypatch.setattr(search_module, "_RARE", 10**9)  # the GIN step
    alice, *_ = people
    post(alice, "dev", "an old needle")
    post(alice, "dev", "newer hay")
    with transaction.atomic(), connection.cursor() as cursor:
        assert texts(search(alice, "needle")) == ["an old needle"]
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone() == ("on",)


def test_filters_from_in_has_link(people):
    alice, bob, _ = people
    post(alice, "dev", "alice says hello")
    post(bob, "dev", "bob says hello https://example.org")
    post(bob, "secret", "bob says hello privately")
    assert texts(search(alice, "hello from:bob in:dev")) == [
        "bob says hello https://example.org"
    ]
    assert texts(search(alice, "has:link")) == ["bob says hello https://example.org"]
    assert len(search(alice, "hello", sender="bob")) == 2
    assert search(alice, "hello before:2000-01-01") == []
    assert len(search(alice, "hello after:2000-01-01")) == 3


def test_bad_queries_say_what_is_wrong(people):
    alice, *_ = people
    with pytest.raises(BadRequest, match="has:link and has:file"):
        search(alice, "has:pictures")
    with pytest.raises(BadRequest, match="YYYY-MM-DD"):
        search(alice, "before:yesterday")
    with pytest.raises(BadRequest, match="what to search for"):
        search(alice, "   ")
    assert parse_query('from:@Bob "quoted" in:#dev').sender == "bob"


def test_highlights_mark_the_terms_in_the_text():
    assert highlights("Deploying the RELEASE", ["deployed", "release"]) == [
        [0, 9],
        [14, 21],
    ]
    assert highlights("no match here", ["zzz"]) == []


def test_api_search_answers_results_and_clear_refusals(people):
    alice, _, carol = people
    post(alice, "dev", "api search target")
    post(alice, "secret", "api search hidden")
    _, token = ApiToken.objects.issue(carol)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    found = client.get("/api/v1/search", {"q": "api search"})
    assert found.status_code == 200
    (hit,) = found.json()["results"]
    assert hit["message"] == "api search target" and hit["room"] == "dev"
    assert hit["highlights"] == [[0, 3], [4, 10]]
    assert None not in hit.values()  # as the frame reads: no null fields
    bad = client.get("/api/v1/search", {"q": "has:nothing"})
    assert_error(bad, 400, "bad_frame", "has:link")
    anonymous = Client().get("/api/v1/search", {"q": "x"})
    assert_error(anonymous, 401, "unauthorized", "log in, or send a token")


def test_api_mentions_lists_messages_naming_me_in_my_rooms(people):
    """GET /api/v1/mentions: @bob and @room in bob's rooms, newest first;
    not bob's own, not deleted, and nothing from a room bob has left."""
    alice, bob, _ = people
    rooms.join_public(bob, "dev")
    first = post(alice, "dev", "@bob can you review?")
    post(alice, "dev", "no mention here")
    post(alice, "secret", "@room standup in 5")
    post(bob, "dev", "@bob talking to myself")
    gone = post(alice, "dev", "@bob never mind")
    message_service.delete_message(alice, "dev", gone)
    _, token = ApiToken.objects.issue(bob)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    found = client.get("/api/v1/mentions").json()["messages"]
    assert [m["message"] for m in found] == [
        "@room standup in 5",
        "@bob can you review?",
    ]
    assert found[1]["seq"] == first
    rooms.leave(bob, "secret")
    found = client.get("/api/v1/mentions").json()["messages"]
    assert [m["message"] for m in found] == ["@bob can you review?"]
