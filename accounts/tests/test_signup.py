"""Sign up: creates the user, logs in, returns to where the visitor was going."""

from django.contrib.auth import get_user_model

PASSWORD = "a-long-pass-phrase-42"


def sign_up(client, username, next_url=None):
    data = {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    url = "/accounts/signup/" + (f"?next={next_url}" if next_url else "")
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def test_sign_up_logs_in_and_goes_to_the_index(client, db):
    """Without next, a new user lands on the room index, logged in."""
    reply = sign_up(client, "alice")
    assert reply.status_code == 302 and reply.url == "/chat/"
    assert get_user_model().objects.filter(username="alice").exists()
    assert client.get("/chat/lobby/").status_code == 200  # logged in


def test_sign_up_returns_to_the_room(client, db):
    """A visitor sent from a room to sign up comes back to it."""
    page = client.get("/accounts/signup/?next=/chat/lobby/")
    assert 'name="next" value="/chat/lobby/"' in page.content.decode()
    assert sign_up(client, "bob", "/chat/lobby/").url == "/chat/lobby/"


def test_sign_up_ignores_a_foreign_next(client, db):
    """next pointing at another site is ignored (no open redirect)."""
    assert sign_up(client, "carol", "https://evil.example/").url == "/chat/"


def test_room_page_sends_a_logged_out_visitor_to_log_in_and_back(client, db):
    """The room page needs a login and comes back after it."""
    reply = client.get("/chat/lobby/")
    assert (
        reply.status_code == 302 and reply.url == "/accounts/login/?next=/chat/lobby/"
    )
