"""Page preferences: POST /preferences/ saves theme and language for the user
(or a visitor's session), a bad value is refused saying which, and a user's
choice follows them to a new session at login."""

from django.contrib.auth import get_user_model

from accounts.models import Preference
from testing.refusals import assert_error

JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_user_s_choice_is_stored_and_comes_back_at_login(client, db):
    """Saved in Preference; a new session (another device) gets it at login:
    the theme in the page, the language of the page."""
    user = get_user_model().objects.create_user("alice", password="pw-alice-42!")
    client.force_login(user)
    reply = client.post("/preferences/", {"theme": "dark", "language": "de"}, **JSON)
    assert reply.status_code == 200
    assert reply.json() == {"theme": "dark", "language": "de", "display_name": ""}
    row = Preference.objects.get(user=user)
    assert (row.theme, row.language) == ("dark", "de")

    client.logout()
    client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-42!"})
    page = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert '<html lang="de" data-theme="dark">' in html
    assert page["Content-Language"] == "de"


def test_a_visitor_s_choice_lives_in_the_session(client, db):
    """Without an account the choice is kept for the session only."""
    reply = client.post("/preferences/", {"theme": "light", "next": "/chat/"})
    assert reply.status_code == 302 and reply.url == "/chat/"
    assert not Preference.objects.exists()
    assert 'data-theme="light"' in client.get("/chat/").content.decode()


def test_a_value_out_of_its_list_is_refused_saying_which(client, db):
    reply = client.post("/preferences/", {"theme": "purple"}, **JSON)
    body = assert_error(reply, 400, "bad_frame")
    assert body["detail"] == "theme must be one of: 'system', 'light', 'dark'."
    reply = client.post("/preferences/", {"language": "xx"}, **JSON)
    assert_error(reply, 400, "bad_frame", "language must be one of: '', 'en'")


def test_next_to_another_site_is_ignored(client, db):
    reply = client.post(
        "/preferences/", {"theme": "dark", "next": "https://evil.example/"}
    )
    assert reply.url == "/chat/"


def test_the_browser_s_language_without_a_choice(client, db):
    html = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert '<html lang="de"' in html and "Aktive Räume" in html
