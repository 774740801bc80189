"""Close the sockets of a user who logged out, was deactivated or lost a
token, and every socket of a deleted room, on every process, once the change
is committed."""

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken

from .broadcast import publish_removed, publish_revoke
from .models import Room


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


@receiver(post_delete, sender=Room)
def close_deleted_room_sockets(sender, instance, **kwargs) -> None:
    name = instance.name
    transaction.on_commit(lambda: async_to_sync(publish_removed)(name, None))
