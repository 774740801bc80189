"""Display names and avatars (issue 19.5): /api/v1/users, /api/v1/users/me,
/api/v1/users/me/avatar, POST /preferences/ and /chat/avatars/: validation,
the uploads pipeline for avatars (sniffed, square, no EXIF), who may see
them, and the headers they are served with."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import ApiToken, Preference

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def person(name: str):
    user = get_user_model().objects.create_user(name, password="pw-12345-long")
    _, token = ApiToken.objects.issue(user)
    user.client = Client(headers={"Authorization": f"Bearer {token}"})  # type: ignore[attr-defined]
    session = Client()
    session.force_login(user)
    user.browser = session  # type: ignore[attr-defined]  # the page's session
    return user


def rename(user, value):
    return user.client.patch(
        "/api/v1/users/me", {"display_name": value}, content_type="application/json"
    )


def profile_of(viewer, *names: str) -> list[dict]:
    answer = viewer.client.get("/api/v1/users", {"names": ",".join(names)})
    assert answer.status_code == 200, answer.content
    return answer.json()["users"]


def test_display_name_is_trimmed_stored_and_shown_to_other_users():
    alice, bob = person("alice"), person("bob")
    answer = rename(alice, "  Alice   <b>Liddell</b> ")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "username": "alice",
        "display_name": "Alice <b>Liddell</b>",  # text: the page escapes it
        "avatar_url": None,
    }
    assert profile_of(bob, "alice", "bob", "nobody") == [
        {
            "username": "alice",
            "display_name": "Alice <b>Liddell</b>",
            "avatar_url": None,
        },
        {"username": "bob", "display_name": "", "avatar_url": None},
    ]


def test_too_long_or_control_characters_are_refused_saying_why_and_nothing_stored():
    alice = person("alice")
    rename(alice, "Alice")
    answer = rename(alice, "x" * 65)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "bad_frame",
        "detail": '"display_name": String should have at most 64 characters.',
    }
    answer = rename(alice, "Alice\u202eecilA")  # a right-to-left override
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith('"display_name": String should match')
    answer = rename(alice, "Alice\nLiddell")
    assert answer.status_code == 400
    assert Preference.objects.get(user=alice).display_name == "Alice"
    assert rename(alice, "x" * 64).status_code == 200


def test_an_empty_display_name_falls_back_to_the_username():
    alice, bob = person("alice"), person("bob")
    rename(alice, "Alice")
    answer = rename(alice, "   ")
    assert answer.status_code == 200 and answer.json()["display_name"] == ""
    assert profile_of(bob, "alice")[0]["display_name"] == ""


def test_the_preferences_form_sets_the_display_name_with_the_same_rule():
    alice = person("alice")
    answer = alice.browser.post("/preferences/", {"display_name": " Al "}, **JSON)
    assert answer.status_code == 200
    assert answer.json()["display_name"] == "Al"
    answer = alice.browser.post("/preferences/", {"display_name": "y" * 65}, **JSON)
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "The display name is 65 characters long; the limit is 64."
    )
    answer = alice.browser.post("/preferences/", {"display_name": "A\u202eB"}, **JSON)
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "The display name may not contain U+202E (a control or formatting character)."
    )
    assert Preference.objects.get(user=alice).display_name == "Al"


def test_profiles_are_for_logged_in_users_only():
    person("alice")
    answer = Client().get("/api/v1/users", {"names": "alice"})
    assert answer.status_code == 401


def jpeg_with_gps(size=(300, 200)) -> bytes:
    image = Image.new("RGB", size, "teal")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 30.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def set_avatar(user, content: bytes, name="me.jpg"):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return user.client.post("/api/v1/users/me/avatar", {"file": upload})


def test_avatar_is_a_square_png_without_exif_served_like_files_with_a_version():
    alice, bob = person("alice"), person("bob")
    answer = set_avatar(alice, jpeg_with_gps())
    assert answer.status_code == 200, answer.content
    url = answer.json()["avatar_url"]
    assert url.startswith("/chat/avatars/alice/") and url.endswith(".png")
    assert profile_of(bob, "alice")[0]["avatar_url"] == url

    served = bob.browser.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "immutable" in served["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.format == "PNG" and image.size == (128, 128)
    assert not image.getexif() and "exif" not in image.info
    assert Client().get(url).status_code == 404  # logged out: nothing

    # A new picture is a new URL; the old one is gone.
    newer = set_avatar(alice, jpeg_with_gps((100, 400))).json()["avatar_url"]
    assert newer != url
    assert bob.browser.get(url).status_code == 404
    assert bob.browser.get(newer).status_code == 200
    # Removed: initials again.
    cleared = alice.client.delete("/api/v1/users/me/avatar")
    assert cleared.status_code == 200 and cleared.json()["avatar_url"] is None
    assert bob.browser.get(newer).status_code == 404


def test_an_avatar_that_is_not_an_image_is_refused_saying_so():
    alice = person("alice")
    answer = set_avatar(alice, b"<svg onload=alert(1)></svg>", "x.svg")
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "An avatar must be a PNG, JPEG, GIF or WebP image; this file is text/plain."
    )
    assert alice.client.get("/api/v1/users/me").json()["avatar_url"] is None


def test_an_avatar_over_the_upload_limit_is_refused(settings):
    settings.CHAT_UPLOAD_MAX_BYTES = 1000
    alice = person("alice")
    answer = set_avatar(alice, jpeg_with_gps((900, 900)))
    assert answer.status_code == 413, answer.content
    assert "upload limit of 1000 bytes" in answer.json()["detail"]


def test_the_settings_panel_shows_the_name_escaped_and_in_german():
    alice = person("alice")
    alice.browser.post(
        "/preferences/", {"display_name": '"><b>x</b>', "language": "de"}
    )
    html = alice.browser.get("/chat/").content.decode()
    assert "Anzeigename" in html and "Bild entfernen" in html
    assert 'value="&quot;&gt;&lt;b&gt;x&lt;/b&gt;"' in html
    assert "<b>x</b>" not in html


def test_deleting_a_user_deletes_their_picture(settings):
    from pathlib import Path

    alice = person("alice")
    set_avatar(alice, jpeg_with_gps())
    stored = Path(settings.MEDIA_ROOT) / Preference.objects.get(user=alice).avatar.name
    assert stored.is_file()
    alice.delete()
    assert not stored.exists()
