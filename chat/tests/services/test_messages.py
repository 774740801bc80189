"""chat.services.messages and the post path's replies and mentions: each
change is an event with its own seq and `target`, history shows messages in
their current state, and a client that was away converges on resume."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat.models import Mention, MessageEdit
from chat.protocol.v1 import ChatError, ErrorCode
from chat.services import messages, rooms
from chat.store import actions


def _user(name: str, **extra):
    return get_user_model().objects.create_user(name, password="pw-12345-long", **extra)


@pytest.fixture
def team(db):
    """alice owns private `team` with bob; carol is outside; `open` is public."""
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    rooms.create_room(alice, "team", "private")  # seq 1
    rooms.add_member(alice, "team", "bob")  # seq 2
    actions.store_post("team", bob, "hello", None)  # seq 3
    rooms.create_room(alice, "open")
    actions.store_post("open", alice, "hi all", None)  # seq 2
    return alice, bob, carol


def _made(frame: dict | None) -> dict:
    """The event a change made (None: nothing changed)."""
    assert frame is not None
    return frame


def _refused(code: str, call, *args):
    with pytest.raises(ChatError) as info:
        call(*args)
    assert info.value.code == code, info.value.detail
    assert info.value.detail.strip(), "a refusal says what was wrong"
    return info.value


def _history(room: str) -> list[dict]:
    return actions.history_page(room, None, 100)[0]


def test_the_author_edits_and_the_old_text_is_kept(team):
    alice, bob, carol = team
    edited = _made(messages.edit_message(bob, "team", 3, "  hello, team "))
    assert {k: edited[k] for k in ("type", "seq", "target", "message")} == {
        "type": "edited",
        "seq": 4,
        "target": 3,
        "message": "hello, team",
    }
    (message,) = _history("team")
    assert message["message"] == "hello, team"
    assert message["edited_at"] == edited["edited_at"]
    assert list(MessageEdit.objects.values_list("text", flat=True)) == ["hello"]
    assert messages.edit_history(alice, "team", 3)[0]["message"] == "hello"
    _refused("forbidden", messages.edit_history, bob, "team", 3)
    assert messages.edit_message(bob, "team", 3, "hello, team") is None  # same


@pytest.mark.parametrize(
    "who,seq,text,code",
    [
        ("alice", 3, "mine now", "forbidden"),  # not the author
        ("carol", 3, "x", "not_found"),  # cannot see the room
        ("bob", 99, "x", "not_found"),  # no such message
        ("bob", 3, "   ", "empty"),  # validated as a post
        ("bob", 3, "x" * 4001, "too_long"),
    ],
)
def test_edits_are_refused_with_the_reason(team, who, seq, text, code):
    users = {u.get_username(): u for u in team}
    _refused(code, messages.edit_message, users[who], "team", seq, text)
    assert _history("team")[0]["message"] == "hello"


def test_the_edit_window_setting_limits_edits(team, settings):
    settings.CHAT_EDIT_WINDOW = 0.001
    error = _refused("forbidden", messages.edit_message, team[1], "team", 3, "late")
    assert "seconds after it was sent" in error.detail


def test_author_owner_and_staff_delete_others_may_not(team):
    alice, bob, carol = team
    actions.store_post("team", alice, "by alice", None)  # seq 4
    _refused("forbidden", messages.delete_message, bob, "team", 4)
    _refused("not_found", messages.delete_message, carol, "team", 4)
    deleted = _made(messages.delete_message(alice, "team", 3))  # the owner
    assert (deleted["type"], deleted["seq"], deleted["target"]) == ("deleted", 5, 3)
    assert messages.delete_message(alice, "team", 3) is None  # already
    carol.is_staff = True
    carol.save()
    assert _made(messages.delete_message(carol, "open", 2))["target"] == 2  # staff
    assert _made(messages.delete_message(alice, "team", 4))["seq"] == 6  # author
    history = _history("team")
    assert [(m["seq"], m["message"], m.get("deleted")) for m in history] == [
        (3, "", True),
        (4, "", True),
    ]
    _refused("not_found", messages.edit_message, bob, "team", 3, "back?")


def test_deleting_own_messages_can_be_switched_off(team, settings):
    settings.CHAT_DELETE_OWN = False
    _refused("forbidden", messages.delete_message, team[1], "team", 3)
    assert messages.delete_message(team[0], "team", 3) is not None  # owner


def test_a_deleted_message_leaves_no_text_in_its_edit_events(team):
    """Resume replays `edited` events: after a deletion they carry no text."""
    messages.edit_message(team[1], "team", 3, "secret plan")
    messages.delete_message(team[1], "team", 3)
    replay = actions.messages_after("team", 2, None, 100)
    assert [e["type"] for e in replay] == ["message", "edited", "deleted"]
    assert all(e.get("message", "") == "" for e in replay)


def test_reactions_toggle_with_the_full_user_list(team, settings):
    alice, bob, _ = team
    first = _made(messages.react(alice, "team", 3, "👍"))
    assert (first["type"], first["target"], first["emoji"], first["users"]) == (
        "reaction",
        3,
        "👍",
        ["alice"],
    )
    assert messages.react(alice, "team", 3, "👍") is None  # idempotent
    assert _made(messages.react(bob, "team", 3, "👍"))["users"] == ["alice", "bob"]
    assert _made(messages.react(alice, "team", 3, "👍", False))["users"] == ["bob"]
    assert messages.react(alice, "team", 3, "👍", False) is None
    messages.react(alice, "team", 3, "👨‍👩‍👧")
    assert _history("team")[0]["reactions"] == {"👍": ["bob"], "👨‍👩‍👧": ["alice"]}
    settings.CHAT_MAX_REACTIONS = 2
    _refused("forbidden", messages.react, alice, "team", 3, "🎉")
    for bad in ("a", "👍👍", ":)", "", None):
        _refused("bad_frame", messages.react, alice, "team", 3, bad)


def test_a_reply_to_a_reply_joins_the_root_thread(team):
    """reply_to names a message of the same room; a reply to a reply is
    stored under its root; the root counts its replies."""
    alice, bob, _ = team
    reply, _ = actions.store_post("team", alice, "re", None, reply_to=3)
    again, _ = actions.store_post("team", bob, "re re", None, reply_to=reply["seq"])
    assert (reply["reply_to"], again["reply_to"]) == (3, 3)
    root = _history("team")[0]
    assert (root["replies"], root["last_reply"]) == (2, again["seq"])
    thread, _ = actions.history_page("team", None, 10, thread=3)
    assert [m["seq"] for m in thread] == [3, reply["seq"], again["seq"]]
    for bad in (99, 1):  # no message; an event, not a message
        with pytest.raises(ChatError) as info:
            actions.store_post("team", alice, "orphan", None, reply_to=bad)
        assert info.value.code == ErrorCode.NOT_FOUND
        assert info.value.detail == f"No message {bad} in room 'team' to reply to."
    with pytest.raises(ChatError) as info:
        actions.store_post("open", alice, "elsewhere", None, reply_to=3)
    assert info.value.code == ErrorCode.NOT_FOUND
    assert info.value.detail == "No message 3 in room 'open' to reply to."


def test_mentions_of_members_and_everyone_are_stored_and_framed(team):
    """@bob (a member) is a mention, @carol (not a member) is not; @room is
    mentions_room; an e-mail address is not a mention."""
    alice, bob, _ = team
    frame, _ = actions.store_post(
        "team", alice, "@Bob and @carol, see a@b.c. @room", None
    )
    assert frame["mentions"] == ["bob"] and frame["mentions_room"] is True
    assert _history("team")[-1]["mentions"] == ["bob"]
    rows = Mention.objects.filter(seq=frame["seq"])
    assert sorted(str(r.user_id) for r in rows) == sorted([str(bob.pk), "None"])
    edited = _made(messages.edit_message(alice, "team", frame["seq"], "now @alice"))
    assert edited["mentions"] == ["alice"] and "mentions_room" not in edited
    assert edited["message"] == "now @alice"
    assert list(
        Mention.objects.filter(seq=frame["seq"]).values_list("user_id", flat=True)
    ) == [alice.pk]
    plain, _ = actions.store_post("team", alice, "no mention", None)
    assert "mentions" not in plain and "mentions_room" not in plain


# --- resume: a client that was away converges (issue 11.3, PROTOCOL 3) ---


async def test_resume_after_a_deletion_delivers_the_deletion(make_user, connect):
    """A client holding seq 1-10 disconnects, message 4 is deleted, it resumes
    with since=10 and receives the deletion (its own seq, target 4)."""
    alice = await make_user("alice")
    comm = await connect(alice)
    for i in range(1, 11):
        await comm.send_json_to({"message": f"m{i}"})
        assert (await comm.receive_json_from())["seq"] == i
    await comm.disconnect()
    await database_sync_to_async(messages.delete_message)(alice, "lobby", 4)
    back = await connect(alice, query="since=10")
    (deletion,) = back.history["messages"]
    assert (deletion["type"], deletion["seq"], deletion["target"]) == (
        "deleted",
        11,
        4,
    )
    assert back.history["complete"] is True and back.hello["last_seq"] == 11


async def test_resume_converges_on_an_edit_a_deletion_and_a_reaction(
    make_user, connect
):
    """Away during an edit, a reaction and a deletion, a client resuming with
    `since` gets all three events, in seq order; one resuming from before the
    messages gets them in their current state too."""
    alice, bob = await make_user("alice"), await make_user("bob")
    comm = await connect(alice)
    for text in ("one", "two", "three"):
        await comm.send_json_to({"message": text})
        await comm.receive_json_from()
    await comm.disconnect()

    @database_sync_to_async
    def changes():
        messages.edit_message(alice, "lobby", 1, "one!")
        messages.react(bob, "lobby", 2, "👍")
        messages.delete_message(alice, "lobby", 3)

    await changes()
    back = await connect(alice, query="since=3")
    events = [(e["type"], e["seq"], e["target"]) for e in back.history["messages"]]
    assert events == [("edited", 4, 1), ("reaction", 5, 2), ("deleted", 6, 3)]
    fresh = await connect(bob, query="since=0")
    state = {m["seq"]: m for m in fresh.history["messages"] if m["type"] == "message"}
    assert state[1]["message"] == "one!" and "edited_at" in state[1]
    assert state[2]["reactions"] == {"👍": ["bob"]}
    assert state[3]["deleted"] is True and state[3]["message"] == ""


async def test_live_sockets_get_each_change_as_the_next_seq(make_user, connect):
    """Members connected during the changes receive them live, in seq order,
    published after commit (here through the in-memory layer)."""
    alice, bob = await make_user("alice"), await make_user("bob")
    a = await connect(alice)
    b = await connect(bob)
    await a.receive_json_from()  # presence
    await a.send_json_to({"message": "hi"})
    await a.receive_json_from()
    await b.receive_json_from()
    await database_sync_to_async(messages.react)(bob, "lobby", 1, "🎉")
    await database_sync_to_async(messages.edit_message)(alice, "lobby", 1, "hey")
    for comm in (a, b):
        got = [await comm.receive_json_from() for _ in range(2)]
        assert [(f["type"], f["seq"]) for f in got] == [("reaction", 2), ("edited", 3)]


def test_a_page_around_a_seq_centres_on_it(team):
    """history_page(around=S): the messages before S and from S on, `limit`
    in all, oldest first, only messages (no other events)."""
    alice = team[0]
    for i in range(10):
        actions.store_post("open", alice, f"m{i}", None)  # seqs 3..12
    page, has_more = actions.history_page("open", None, 4, around=7)
    assert [m["seq"] for m in page] == [5, 6, 7, 8] and has_more
    page, has_more = actions.history_page("open", None, 5, around=2)
    assert [m["seq"] for m in page] == [2, 3, 4, 5, 6] and not has_more


@pytest.mark.parametrize("seq", [0, -1, 2**63, 2**70])
def test_a_seq_that_cannot_exist_is_not_found_not_a_server_error(team, seq):
    """No such message, even past a bigint (which PostgreSQL cannot store):
    not_found for every change, never a server error."""
    alice = team[0]
    _refused("not_found", messages.edit_message, alice, "team", seq, "x")
    _refused("not_found", messages.delete_message, alice, "team", seq)
    _refused("not_found", messages.react, alice, "team", seq, "👍")
    _refused("not_found", messages.edit_history, alice, "team", seq)


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\x1b[31mred"])
def test_control_characters_in_a_topic_or_username_are_refused(team, text):
    alice = team[0]
    _refused("bad_frame", rooms.set_topic, alice, "team", text)
    _refused("not_found", rooms.add_member, alice, "team", text)
    _refused("not_found", rooms.open_dm, alice, [text])
