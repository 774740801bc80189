"""What a moderator does to messages, called from the admin (chat/admin.py).

Deactivating a user and revoking tokens close sockets through chat/signals.py;
locking a room needs no event (store_posts reads Room.locked under the lock).
A deletion is a `deleted` event of the room's log (chat.services.messages).
"""

import logging

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet

from chat.logfmt import log_event
from chat.services.messages import moderate_delete

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


def delete_messages(messages: QuerySet, by=None) -> int:
    """Soft-delete `messages` (those not deleted yet); return how many.

    The rows stay, so seqs keep their numbers and history shows them with
    "deleted": true and no text. Each deletion is a `deleted` event with its
    own seq and `target`, published after its transaction commits
    (`by`: the moderator; the author when None). Synchronous: call it from a
    view or thread.
    """
    return moderate_delete(list(messages.values_list("pk", flat=True)), by)
