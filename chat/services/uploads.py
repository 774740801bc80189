"""Uploads: files people share, behind the one access rule.

- **Refused before it is read whole.** `LimitedUploadHandler` counts bytes
  as they stream in and stops at `CHAT_UPLOAD_MAX_BYTES`; a declared
  Content-Length over it is refused before any byte is read (chat.http.api). The
  per-user quota (`CHAT_UPLOAD_QUOTA_BYTES`) is checked against the declared
  size first, then against the real one.
- **The type comes from the bytes**, never from the name or the client's
  Content-Type: Pillow recognises images, `filetype` other binary formats,
  and valid UTF-8 is `text/plain`. So an HTML or SVG file is served as text,
  never as a page in our origin.
- **Images** are re-encoded without their EXIF (location, camera) and get a
  thumbnail. Both happen in the request's thread, never on the event loop
  (the upload view is synchronous).
- **Served** (chat.http.pages.upload_file) only to a user who may read a message
  that carries the file, checked on every request, and to its owner until
  it is attached. A deleted message's files stop being served at once, and
  `manage.py chat_purge_uploads` removes them from storage. Files are
  named by 128 random bits, never by anything guessable.
"""

import io
from dataclasses import dataclass
from datetime import timedelta

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from chat.domain import access
from chat.models import Attachment, Message, Upload
from chat.protocol.v1 import ErrorCode
from chat.services.errors import BadRequest, NotFound, ServiceError

THUMBNAIL_SIZE = (320, 320)
# Formats a browser shows inline as an image; anything else is a download.
_INLINE_IMAGES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


class TooLarge(ServiceError):
    default_code = ErrorCode.TOO_LONG


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Stops reading the body once a file passes CHAT_UPLOAD_MAX_BYTES, so
    an oversized upload is never stored whole, in memory or on disk."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.CHAT_UPLOAD_MAX_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


def too_large_error() -> TooLarge:
    limit = settings.CHAT_UPLOAD_MAX_BYTES
    return TooLarge(f"The file is over the upload limit of {limit} bytes.")


def check_quota(user, size: int) -> None:
    used = Upload.objects.filter(owner=user).aggregate(total=Sum("size"))["total"]
    quota = settings.CHAT_UPLOAD_QUOTA_BYTES
    if (used or 0) + size > quota:
        raise TooLarge(
            f"Your uploads would pass your quota of {quota} bytes "
            f"({used or 0} used). Delete messages with files you no longer need."
        )


@dataclass
class Sniffed:
    content_type: str
    image: Image.Image | None = None


def sniff(head: bytes, file) -> Sniffed:
    """The type of the file's content (`head`: its first bytes)."""
    try:
        file.seek(0)
        image = Image.open(file)
        image.load()
        if image.format in _INLINE_IMAGES:
            return Sniffed(_INLINE_IMAGES[image.format], image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        pass
    kind = filetype.guess(head)
    if kind is not None and not kind.mime.startswith("image/"):
        return Sniffed(kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end
            return Sniffed("application/octet-stream")
    return Sniffed("text/plain")


def _without_exif(image: Image.Image, fmt: str) -> bytes:
    """The image re-encoded without its metadata, turned upright first."""
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if fmt == "GIF":
        image.seek(0)
        image.save(out, format="GIF", save_all=True)  # keep the animation
    else:
        if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, format=fmt)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = ImageOps.exif_transpose(image).copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA")
    out = io.BytesIO()
    thumb.save(out, format="PNG", optimize=True)
    return out.getvalue()


AVATAR_SIZE = 128


def avatar_png(uploaded: UploadedFile) -> bytes:
    """An uploaded picture as a user's avatar: sniffed like any upload (the
    bytes decide; only the inline image formats), turned upright, cropped to
    its centre square and scaled to AVATAR_SIZE px, re-encoded as PNG, so no
    metadata (EXIF) survives. Synchronous (Pillow): run it in a thread."""
    size = uploaded.size or 0
    if size > settings.CHAT_UPLOAD_MAX_BYTES:
        raise too_large_error()
    if size == 0:
        raise BadRequest("The file is empty.")
    uploaded.seek(0)
    sniffed = sniff(uploaded.read(8192), uploaded)
    if sniffed.image is None:
        raise BadRequest(
            f"An avatar must be a PNG, JPEG, GIF or WebP image; this file is "
            f"{sniffed.content_type}."
        )
    upright = ImageOps.exif_transpose(sniffed.image)
    square = ImageOps.fit(upright.convert("RGBA"), (AVATAR_SIZE, AVATAR_SIZE))
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


def store_upload(user, uploaded: UploadedFile) -> Upload:
    """Keep an uploaded file; its record (see module docstring)."""
    size = uploaded.size or 0
    if size > settings.CHAT_UPLOAD_MAX_BYTES:
        raise too_large_error()
    if size == 0:
        raise BadRequest("The file is empty.")
    check_quota(user, size)
    name = (uploaded.name or "file").replace("\x00", "")[-255:] or "file"
    uploaded.seek(0)
    head = uploaded.read(8192)
    sniffed = sniff(head, uploaded)
    upload = Upload(owner=user, name=name, size=size, content_type=sniffed.content_type)
    if sniffed.image is not None:
        image = sniffed.image
        upload.width, upload.height = ImageOps.exif_transpose(image).size
        data = _without_exif(image, image.format or "PNG")
        upload.size = len(data)
        upload.file.save(upload.id, ContentFile(data), save=False)
        upload.thumbnail.save(
            f"{upload.id}.png", ContentFile(_thumbnail(image)), save=False
        )
    else:
        uploaded.seek(0)
        upload.file.save(upload.id, uploaded, save=False)
    upload.save()
    return upload


def owned_uploads(user, ids) -> list[Upload]:
    """The uploads a post may carry: the poster's own, by id, in order."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest('"attachments" must be a list of upload ids.')
    if len(ids) > settings.CHAT_ATTACHMENTS_MAX:
        raise BadRequest(
            f"At most {settings.CHAT_ATTACHMENTS_MAX} attachments per message."
        )
    found = {u.id: u for u in Upload.objects.filter(owner=user, id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:  # another's upload reads as one that does not exist
        raise NotFound(f"No upload of yours with id {missing[0][:40]!r}.")
    return [found[i] for i in dict.fromkeys(ids)]


def readable_upload(user, upload_id: str) -> Upload | None:
    """The upload if `user` may fetch it now; None answers every other case
    (no such file, not allowed, message deleted, anonymous) the same way."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    upload = Upload.objects.filter(id=upload_id).first()
    if upload is None:
        return None
    uses = Attachment.objects.filter(upload=upload)
    if not uses.exists():  # not posted yet: its owner's alone
        return upload if upload.owner_id == user.pk else None
    live_uses = uses.filter(
        room__in=access.visible_rooms(user),
        seq__in=Message.objects.filter(
            room=OuterRef("room"), kind=Message.Kind.MESSAGE, deleted_at=None
        ).values("seq"),
    )
    return upload if live_uses.exists() else None


def purgeable(unattached_for: timedelta = timedelta(days=1)) -> QuerySet[Upload]:
    """Uploads no live message carries: every message that had them was
    deleted, or they were never attached and are older than
    `unattached_for` (time enough for the post they were made for)."""
    live = Attachment.objects.filter(upload=OuterRef("pk")).filter(
        Exists(
            Message.objects.filter(
                room=OuterRef("room"),
                seq=OuterRef("seq"),
                kind=Message.Kind.MESSAGE,
                deleted_at=None,
            )
        )
    )
    used = Attachment.objects.filter(upload=OuterRef("pk"))
    cutoff = timezone.now() - unattached_for
    return (
        Upload.objects.alias(live=Exists(live), used=Exists(used))
        .filter(live=False)
        .filter(Q(used=True) | Q(created_at__lt=cutoff))
    )
