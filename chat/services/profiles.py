"""Display names and avatars (issue 19.5): what the page shows beside a
username.

Who sees them: any active, logged-in user, of any active user
(chat.domain.access.may_see_profiles; docs/security.md says why). A display name is
text, at most 64 characters, no control or formatting characters
(accounts.models.clean_display_name); "" means the username alone. An avatar
is a 128 px square PNG made from an upload by the uploads pipeline
(chat.services.uploads.avatar_png: sniffed, upright, no EXIF), stored under
a name of 96 random bits that is also its URL's version, so it can be cached
for good and a new one is a new URL. Synchronous ORM, Pillow and storage
code: async callers run it in a thread.
"""

import re
import secrets

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from accounts.models import InvalidDisplayName, Preference, clean_display_name
from chat.domain import access
from chat.services import uploads
from chat.services.errors import BadRequest

NAMES_MAX = 100  # usernames per lookup
NAMES_MAX_CHARS = 1000  # ... and characters, so the URL stays short
_VERSION_RE = re.compile(r"^avatars/([A-Za-z0-9_-]{16})\.png$")


def _version(stored_name: str) -> str | None:
    match = _VERSION_RE.match(stored_name or "")
    return match.group(1) if match else None


def avatar_url(username: str, stored_name: str) -> str | None:
    version = _version(stored_name)
    if version is None:
        return None
    return reverse("chat:avatar", args=[username, version])


def describe(username: str, pref: Preference | None) -> dict:
    """{username, display_name, avatar_url}: the API's and the page's shape."""
    return {
        "username": username,
        "display_name": pref.display_name if pref else "",
        "avatar_url": avatar_url(username, pref.avatar.name) if pref else None,
    }


def profiles(viewer, names: list[str]) -> list[dict]:
    """The profiles of the active users among `names` (unknown or inactive
    ones are left out), in the order asked; [] for a viewer who may not see
    profiles."""
    if not access.may_see_profiles(viewer):
        return []
    if len(names) > NAMES_MAX:
        raise BadRequest(f"At most {NAMES_MAX} usernames per request.")
    wanted = list(dict.fromkeys(n for n in names if n))
    User = get_user_model()
    field = User.USERNAME_FIELD
    users = User.objects.filter(**{f"{field}__in": wanted}, is_active=True)
    found = {getattr(u, field): u.pk for u in users}
    prefs = Preference.objects.in_bulk([pk for pk in found.values()])
    return [describe(name, prefs.get(found[name])) for name in wanted if name in found]


def own(user) -> dict:
    return describe(user.get_username(), Preference.objects.filter(user=user).first())


def set_display_name(user, value) -> dict:
    """Store the user's display name, cleaned; refuses saying what is wrong."""
    try:
        cleaned = clean_display_name(value)
    except InvalidDisplayName as exc:
        raise BadRequest(str(exc)) from None
    Preference.objects.update_or_create(user=user, defaults={"display_name": cleaned})
    return own(user)


def set_avatar(user, uploaded: UploadedFile) -> dict:
    """Make and store the user's avatar from an uploaded picture (refused,
    saying why, unless it is an image within the upload limit); the old file
    is deleted once the new one is in place."""
    data = uploads.avatar_png(uploaded)
    pref, _ = Preference.objects.get_or_create(user=user)
    old = pref.avatar.name
    pref.avatar.save(f"{secrets.token_urlsafe(12)}.png", ContentFile(data), save=False)
    pref.save(update_fields=["avatar"])
    if old:
        pref.avatar.storage.delete(old)
    return own(user)


def clear_avatar(user) -> dict:
    pref = Preference.objects.filter(user=user).first()
    if pref is not None and pref.avatar.name:
        old = pref.avatar.name
        pref.avatar = ""
        pref.save(update_fields=["avatar"])
        pref.avatar.storage.delete(old)
    return own(user)


def readable_avatar(viewer, username: str, version: str):
    """The stored avatar file of `username` at `version`, if `viewer` may see
    it; None for every other case (anonymous, no such user or version)."""
    if not access.may_see_profiles(viewer):
        return None
    User = get_user_model()
    pref = (
        Preference.objects.filter(
            **{f"user__{User.USERNAME_FIELD}": username}, user__is_active=True
        )
        .exclude(avatar="")
        .first()
    )
    if pref is None or _version(pref.avatar.name) != version:
        return None
    return pref.avatar
