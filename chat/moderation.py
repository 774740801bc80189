"""What a moderator does to messages, called from the admin (chat/admin.py).

Deactivating a user and revoking tokens close sockets through chat/signals.py;
locking a room needs no event (store_post reads Room.locked under the lock).
"""

import logging

from asgiref.sync import async_to_sync
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .broadcast import publish_deleted
from .logfmt import log_event
from .models import Message

log = logging.getLogger("chat.moderation")


def record(user, action: str, objects: QuerySet | list) -> None:
    """Audit a moderator's action: one admin LogEntry per object (the admin's
    "Recent actions" and each object's history) and one `moderation` log
    line. `objects`: a queryset or a list of model instances."""
    rows = list(objects)
    if not rows:
        return
    model = type(rows[0])
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=rows,
        action_flag=CHANGE,
        change_message=action,
    )
    log_event(
        log,
        "moderation",
        action=action,
        by=user.get_username(),
        model=model._meta.label_lower,
        ids=",".join(str(row.pk) for row in rows),
    )


async def _publish_tombstones(deleted: list[tuple[str, int]]) -> None:
    for room, seq in deleted:
        await publish_deleted(room, seq)


def delete_messages(messages: QuerySet) -> int:
    """Soft-delete `messages` (those not deleted yet); return how many.

    The rows stay, so seqs keep their numbers and history shows them with
    "deleted": true and no text. Members see a tombstone frame live, published
    after the transaction commits. Synchronous: call it from a view or thread.
    """
    with transaction.atomic():
        rows = list(
            messages.filter(deleted_at__isnull=True).values_list(
                "pk", "room__name", "seq"
            )
        )
        Message.objects.filter(
            pk__in=[pk for pk, _, _ in rows], deleted_at__isnull=True
        ).update(deleted_at=timezone.now())
        deleted = [(room, seq) for _, room, seq in rows]
        if deleted:
            transaction.on_commit(lambda: async_to_sync(_publish_tombstones)(deleted))
    return len(deleted)
