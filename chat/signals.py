"""Close the sockets of a user who logged out, was deactivated, changed
password or lost a token, and every socket of a deleted room, on every
process, once the change is committed."""

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from accounts.deleted import DELETED_USERNAME
from accounts.models import ApiToken
from chat.models import Message, Room
from chat.protocol.events import removed_frame
from chat.realtime.hub import publish_removed, publish_revoke, publish_user


def _revoke_on_commit(user_id: int, credential: str | None = None) -> None:
    transaction.on_commit(lambda: async_to_sync(publish_revoke)(user_id, credential))


@receiver(user_logged_out)
def close_logged_out_sockets(sender, request, user, **kwargs) -> None:
    if user is not None and request is not None and request.session.session_key:
        _revoke_on_commit(user.pk, f"session:{request.session.session_key}")


@receiver(post_save, sender=get_user_model())
def close_deactivated_user_sockets(sender, instance, created, **kwargs) -> None:
    if not created and not instance.is_active:
        _revoke_on_commit(instance.pk)


@receiver(post_delete, sender=ApiToken)
def close_revoked_token_sockets(sender, instance, **kwargs) -> None:
    _revoke_on_commit(instance.user_id, f"token:{instance.pk}")


@receiver(pre_delete, sender=Room)
def close_deleted_room_sockets(sender, instance, **kwargs) -> None:
    """Every socket of a deleted room closes (v1: 4403), and each member's
    sockets get `removed` (v2), once the deletion commits."""
    name = instance.name
    members = list(instance.memberships.values_list("user_id", flat=True))

    async def publish() -> None:
        await publish_removed(name, None)
        for user_id in members:
            await publish_user(user_id, removed_frame(name))

    transaction.on_commit(lambda: async_to_sync(publish)())


@receiver(post_save, sender=get_user_model())
def end_access_on_password_change(sender, instance, created, **kwargs) -> None:
    """A new password (set_password, then save) ends every socket and token of
    the user; other browsers' sessions end at their next request (Django's
    session auth hash). `_password` is set by set_password only, not by the
    hasher upgrade at login, which re-saves the same password."""
    if created or getattr(instance, "_password", None) is None:
        return
    # Each deletion sends post_delete (close_revoked_token_sockets).
    ApiToken.objects.filter(user=instance).delete()
    _revoke_on_commit(instance.pk)


@receiver(pre_delete, sender=get_user_model())
def keep_deleted_users_messages(sender, instance, **kwargs) -> None:
    """Its messages pass to "[deleted]" (Message.user on_delete): their
    client ids go first, which could collide with another deleted user's.
    Its sockets close (4403)."""
    if instance.get_username() == DELETED_USERNAME:
        raise ProtectedError(
            f"{DELETED_USERNAME!r} holds deleted users' messages; it stays.", set()
        )
    Message.objects.filter(user=instance, client_id__isnull=False).update(
        client_id=None
    )
    _revoke_on_commit(instance.pk)
