"""Deleting a user keeps its messages: they pass to one "[deleted]" user.

A room's seqs stay gap-free (every message row stays), and the author is
gone: chat.models.Message.user is on_delete=SET(deleted_user_id). The
deleted user's client ids are cleared first (chat/signals.py), as two users'
ids could collide once they share an author.

"[deleted]" is outside the sign-up rule (accounts.forms.USERNAME_RE), so no
one can sign up as it; it has no usable password and is inactive.
"""

from django.contrib.auth import get_user_model

DELETED_USERNAME = "[deleted]"


def deleted_user_id() -> int:
    """The pk of the "[deleted]" user, created on first use."""
    User = get_user_model()
    user = User.objects.filter(username=DELETED_USERNAME).first()
    if user is None:
        user = User(username=DELETED_USERNAME, is_active=False)
        user.set_unusable_password()
        user.save()
    return user.pk
