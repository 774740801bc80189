"""Password reset works end to end where e-mail is configured (the console
with `make run`; locmem here), and is absent where it could never deliver."""

import re
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from testing.servers import ROOT


@pytest.mark.django_db
def test_password_reset_mails_a_link_that_sets_a_new_password():
    user = get_user_model().objects.create_user(
        "alice", email="alice@example.org", password="old-password-123"
    )
    client = Client()
    form = client.get("/accounts/password_reset/")
    assert form.status_code == 200
    sent = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert sent.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
    link = re.search(
        r"http://testserver(/accounts/reset/\S+/)", str(mail.outbox[0].body)
    )
    assert link, mail.outbox[0].body
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-new-pass-4567", "new_password2": "a-new-pass-4567"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-pass-4567")


def test_without_email_settings_there_is_no_password_reset(tmp_path):
    """Production settings without EMAIL_URL: /accounts/password_reset/ does
    not resolve (no page that can never work); log in still does."""
    code = (
        "from django.urls import resolve, Resolver404\n"
        "import django; django.setup()\n"
        "resolve('/accounts/login/')\n"
        "try:\n    resolve('/accounts/password_reset/')\nexcept Resolver404:\n"
        "    print('absent')\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "absent", result.stderr
    with_mail = {**env, "EMAIL_URL": "smtp://mail.example.org:25"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=with_mail,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stderr
