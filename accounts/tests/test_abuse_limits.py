"""Failed logins throttled per account and per address on the login form and
the admin login; sign-up limited per address, by policy, and by the
username rule (issue 10)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from .test_signup import PASSWORD, sign_up


@pytest.fixture
def limits(settings):
    settings.CHAT_LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.CHAT_LOGIN_FAILURES_PER_ADDRESS = 5
    settings.CHAT_SIGNUPS_PER_ADDRESS = 2
    return settings


def log_in(client, username, password, url="/accounts/login/", address="10.0.0.1"):
    return client.post(
        url, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_login_form_throttles_an_account(client, db, limits):
    """After 3 wrong passwords for alice, even the right one is refused with
    a message saying to wait, from any address."""
    get_user_model().objects.create_user("alice", password=PASSWORD)
    for i in range(3):
        reply = log_in(client, "alice", "wrong", address=f"10.0.1.{i}")
        assert "Please enter a correct username and password" in reply.text
    reply = log_in(client, "Alice", PASSWORD, address="10.0.2.1")
    assert "Too many failed logins" in reply.text
    assert "_auth_user_id" not in client.session


def test_login_form_throttles_an_address(client, db, limits):
    """5 failures from one address, each for another account, lock that
    address out, not the accounts."""
    get_user_model().objects.create_user("bob", password=PASSWORD)
    for i in range(5):
        log_in(client, f"nobody{i}", "wrong")
    assert "Too many failed logins" in log_in(client, "bob", PASSWORD).text
    assert log_in(client, "bob", PASSWORD, address="10.9.9.9").status_code == 302


def test_admin_login_is_throttled(client, db, limits):
    """The admin login counts failures too."""
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    for _ in range(3):
        log_in(client, "root", "wrong", url="/admin/login/")
    reply = log_in(client, "root", PASSWORD, url="/admin/login/")
    assert "Too many failed logins" in reply.text
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "username",
    ["d\u0430ve", "Dave", "ab", "x" * 33, "a b", "eve@home", "x" * 150],
)
def test_sign_up_refuses_usernames_outside_the_rule(client, db, username):
    """New usernames: lowercase ASCII letters, digits, . - _, 3 to 32."""
    reply = sign_up(client, username)
    assert reply.status_code == 200
    assert "lowercase letters a-z" in reply.text
    assert not get_user_model().objects.filter(username=username).exists()


def test_sign_up_accepts_the_rule(client, db):
    assert sign_up(client, "dave.k-2_x").status_code == 302


def test_sign_up_is_limited_per_address(client, db, limits):
    """Two accounts per address per window; the third is refused (429)."""
    assert sign_up(client, "one").status_code == 302
    client.logout()
    assert sign_up(client, "two").status_code == 302
    client.logout()
    reply = sign_up(client, "three")
    assert reply.status_code == 429 and "Too many accounts" in reply.text
    assert not get_user_model().objects.filter(username="three").exists()


def test_sign_up_closed(client, db, settings):
    settings.CHAT_SIGNUP = "closed"
    reply = sign_up(client, "frank")
    assert reply.status_code == 403 and "Sign-up is closed" in reply.text
    assert not get_user_model().objects.filter(username="frank").exists()


def test_sign_up_by_invite(client, db, settings, capsys):
    """Under CHAT_SIGNUP=invite only an unused link from staff signs up."""
    settings.CHAT_SIGNUP = "invite"
    get_user_model().objects.create_user("staff", password=PASSWORD, is_staff=True)
    reply = sign_up(client, "grace")
    assert reply.status_code == 200 and "needs an invite link" in reply.text
    call_command("chat_invite", "staff")
    link = capsys.readouterr().out.strip()
    code = link.partition("invite=")[2]
    page = client.get(link)
    assert code in page.text  # carried in the form
    data = {"username": "grace", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(link, {**data, "invite": code}).status_code == 302
    client.logout()
    again = client.post(link, {**data, "username": "heidi", "invite": code})
    assert again.status_code == 200 and "needs an invite link" in again.text


def test_staff_make_invite_links_on_a_page(client, db, settings):
    """/accounts/invites/ is for staff only and gives a working link."""
    settings.CHAT_SIGNUP = "invite"
    User = get_user_model()
    User.objects.create_user("ivan", password=PASSWORD)
    staff = User.objects.create_user("staff", password=PASSWORD, is_staff=True)
    client.force_login(User.objects.get(username="ivan"))
    assert client.post("/accounts/invites/").status_code == 302  # to the admin login
    client.force_login(staff)
    link = client.post("/accounts/invites/").context["link"]
    client.logout()
    data = {"username": "judy", "password1": PASSWORD, "password2": PASSWORD}
    code = link.partition("invite=")[2]
    assert client.post(link, {**data, "invite": code}).status_code == 302
