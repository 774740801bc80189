"""POST /api/v1/uploads and /chat/files/<id>/: sizes, types, thumbnails,
EXIF, and the access rule on every request."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image

from accounts.models import ApiToken
from chat.models import Upload
from chat.services import messages as message_service
from chat.services import rooms, uploads
from testing.refusals import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


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


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), "teal")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 30.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def send(user, name: str, content: bytes, content_type: str = "image/png"):
    return user.client.post(
        "/api/v1/uploads", {"file": _named(name, content, content_type)}
    )


def _named(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def attach_to_post(author, room: str, upload_id: str) -> int:
    """Post a message carrying the upload, as the page does (the API)."""
    answer = author.client.post(
        f"/api/v1/rooms/{room}/messages",
        {"message": "see file", "attachments": [upload_id]},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    (item,) = answer.json()["attachments"]
    assert item["id"] == upload_id and item["url"] == f"/chat/files/{upload_id}/"
    return answer.json()["seq"]


def test_a_post_carries_only_its_authors_uploads():
    alice, bob = person("alice"), person("bob")
    rooms.create_room(alice, "dev", "public")
    theirs = send(alice, "a.txt", b"alice's", "text/plain").json()["id"]
    answer = bob.client.post(
        "/api/v1/rooms/dev/messages",
        {"message": "stolen", "attachments": [theirs]},
        content_type="application/json",
    )
    assert_error(answer, 404, "not_found", "No upload of yours")
    assert bob.browser.get(f"/chat/files/{theirs}/").status_code == 404


def test_history_shows_attachments_of_a_message():
    alice = person("alice")
    rooms.create_room(alice, "dev", "public")
    body = send(alice, "pic.png", png(), "image/png").json()
    seq = attach_to_post(alice, "dev", body["id"])
    page = alice.client.get("/api/v1/rooms/dev/messages").json()["messages"]
    (message,) = [m for m in page if m["seq"] == seq]
    assert message["attachments"][0]["thumbnail_url"] == body["thumbnail_url"]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), "red").save(out, format="PNG")
    return out.getvalue()


def test_image_upload_strips_exif_and_makes_a_thumbnail():
    alice = person("alice")
    answer = send(alice, "holiday.jpg", jpeg_with_gps(), "image/jpeg")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (800, 600)
    assert body["url"] == f"/chat/files/{body['id']}/"
    stored = Image.open(Upload.objects.get(id=body["id"]).file.open("rb"))
    assert dict(stored.getexif()) == {}  # no camera, no location
    thumb = alice.browser.get(body["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    assert max(Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size) == 320


def test_type_comes_from_the_bytes_and_html_cannot_run():
    """An HTML page (or an SVG with script) named .png is kept as text and
    served as a download that the browser may not sniff or run."""
    alice = person("alice")
    evil = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    body = send(alice, "cat.png", evil, "image/png").json()
    assert body["content_type"] == "text/plain"
    served = alice.browser.get(body["url"])
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/plain")
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]


def test_over_size_and_over_quota_are_refused(settings):
    alice = person("alice")
    settings.CHAT_UPLOAD_MAX_BYTES = 1000
    too_big = send(alice, "big.bin", b"x" * 5000, "application/octet-stream")
    assert_error(too_big, 413, "too_long", "1000 bytes")
    settings.CHAT_UPLOAD_MAX_BYTES = 10_000
    settings.CHAT_UPLOAD_QUOTA_BYTES = 1500
    assert send(alice, "a.txt", b"a" * 1000, "text/plain").status_code == 201
    over = send(alice, "b.txt", b"b" * 1000, "text/plain")
    assert_error(over, 413, "too_long", "would pass your quota of 1500 bytes")
    assert Upload.objects.count() == 1  # nothing half-stored


def test_file_served_only_to_readers_of_a_live_message():
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    rooms.create_room(alice, "secret", "private")
    rooms.add_member(alice, "secret", "bob")
    body = send(alice, "notes.txt", b"private notes", "text/plain").json()
    url = body["url"]
    assert alice.browser.get(url).status_code == 200  # its owner, before posting
    assert bob.browser.get(url).status_code == 404  # not posted yet
    seq = attach_to_post(alice, "secret", body["id"])
    assert bob.browser.get(url).status_code == 200
    assert carol.browser.get(url).status_code == 404  # not a member
    assert Client().get(url).status_code == 404  # anonymous
    assert carol.browser.get("/chat/files/no-such-id/").status_code == 404
    message_service.delete_message(alice, "secret", seq)
    assert alice.browser.get(url).status_code == 404  # the message is gone
    assert list(uploads.purgeable()) == [Upload.objects.get(id=body["id"])]


def test_missing_file_field_says_how_to_send_it():
    alice = person("alice")
    answer = alice.client.post("/api/v1/uploads", {"other": "x"})
    assert_error(answer, 400, "bad_frame", 'field named "file"')


def test_purge_command_removes_files_of_deleted_messages():
    from django.core.management import call_command

    alice = person("alice")
    rooms.create_room(alice, "dev", "public")
    body = send(alice, "log.txt", b"some log", "text/plain").json()
    seq = attach_to_post(alice, "dev", body["id"])
    kept = send(alice, "kept.txt", b"kept", "text/plain").json()
    attach_to_post(alice, "dev", kept["id"])
    path = Upload.objects.get(id=body["id"]).file.path
    message_service.delete_message(alice, "dev", seq)
    out = io.StringIO()
    call_command("chat_purge_uploads", stdout=out)
    assert "1 upload(s), freed 8 bytes" in out.getvalue()
    assert not Upload.objects.filter(id=body["id"]).exists()
    assert Upload.objects.filter(id=kept["id"]).exists()
    import os

    assert not os.path.exists(path)
