from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.deleted import deleted_user_id

SET_DELETED = models.SET(deleted_user_id)


class Room(models.Model):
    name = models.CharField(max_length=64, unique=True)  # canonical, lowercase
    # The seq of the room's newest message. Incremented in the transaction
    # that inserts the message, under this row's lock (see actions.store_post).
    last_seq = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    locked = models.BooleanField(
        default=False, help_text="A locked room can be read but not posted to."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:room", args=[self.name])


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # Per-room, 1, 2, 3, ... with no gap. The global auto-increment `id` is NOT
    # a resume cursor: ids are taken when a transaction inserts, not when it
    # commits, so a reader can see id 12 before id 11 commits and would skip
    # 11 forever. seq is assigned under the room row's lock, so seq k is always
    # committed before seq k+1 exists (see actions.store_post).
    seq = models.BigIntegerField()
    user = models.ForeignKey(  # a deleted user's messages stay: accounts/deleted.py
        settings.AUTH_USER_MODEL, on_delete=SET_DELETED, related_name="chat_messages"
    )
    text = models.TextField()
    client_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "seq"], name="chat_message_room_seq"
            ),
            # A post is stored at most once per (user, client_id): enforced by
            # the database, not only checked, so two processes racing on a
            # retried post cannot both store it.
            models.UniqueConstraint(
                fields=["user", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_user_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room.name}#{self.seq}"
