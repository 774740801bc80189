"""Serving uploaded files: `/chat/files/<id>/` and its thumbnail.

Every request asks chat.services.uploads.readable_upload (the access rule:
a user who may read a live message carrying the file, or its owner before
it is posted). Every other case, anonymous included, is the same 404, so a
URL tells a stranger nothing. The answer can never run in the page's
origin: the type is the sniffed one, `nosniff` stops the browser guessing
another, anything but a plain image is a download, and the CSP sandboxes
whatever is opened anyway.
"""

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from chat.services.profiles import readable_avatar
from chat.services.uploads import readable_upload

_INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _serve(request: HttpRequest, upload_id: str, thumbnail: bool) -> FileResponse:
    upload = readable_upload(request.user, upload_id)
    if upload is None or (thumbnail and not upload.thumbnail):
        raise Http404("No such file.")
    stored = upload.thumbnail if thumbnail else upload.file
    content_type = "image/png" if thumbnail else upload.content_type
    response = FileResponse(
        stored.open("rb"),
        content_type=content_type,
        as_attachment=content_type not in _INLINE,
        filename=upload.name,
    )
    return _guarded(response, "private, max-age=3600")


def _guarded(response: FileResponse, cache: str) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = cache
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_GET
def upload_file(request: HttpRequest, upload_id: str) -> FileResponse:
    return _serve(request, upload_id, thumbnail=False)


@require_GET
def upload_thumbnail(request: HttpRequest, upload_id: str) -> FileResponse:
    return _serve(request, upload_id, thumbnail=True)


@require_GET
def avatar(request: HttpRequest, username: str, version: str) -> FileResponse:
    """A user's avatar (chat.services.profiles): to logged-in users, with the
    files' headers; the version in the URL changes with the picture, so it
    is cached for a year."""
    stored = readable_avatar(request.user, username, version)
    if stored is None:
        raise Http404("No such avatar.")
    response = FileResponse(stored.open("rb"), content_type="image/png")
    return _guarded(response, "private, max-age=31536000, immutable")
