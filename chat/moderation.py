"""What a moderator does to messages, called from the admin (chat/admin.py).

Deactivating a user and revoking tokens close sockets through chat/signals.py;
locking a room needs no event (store_posts reads Room.locked under the lock).
A deletion is a `deleted` event of the room's log (chat.services.messages).
"""

from django.db.models import QuerySet

from .services.messages import moderate_delete


def delete_messages(messages: QuerySet, by=None) -> int:
    """Soft-delete `messages` (those not deleted yet); return how many.

    The rows stay, so seqs keep their numbers and history shows them with
    "deleted": true and no text. Each deletion is a `deleted` event with its
    own seq and `target`, published after its transaction commits
    (`by`: the moderator; the author when None). Synchronous: call it from a
    view or thread.
    """
    return moderate_delete(list(messages.values_list("pk", flat=True)), by)
