import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.deleted import deleted_user_id

SET_DELETED = models.SET(deleted_user_id)


class Room(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public"  # anyone may find, read and join it
        PRIVATE = "private"  # members only; a member invites
        DM = "dm"  # a fixed set of 1 to 9 users, named by the server

    name = models.CharField(max_length=64, unique=True)  # canonical, lowercase
    # Database defaults: actions.get_room creates rooms on first use, and old
    # rows migrate as public rooms.
    kind = models.CharField(
        max_length=8, choices=Kind.choices, default=Kind.PUBLIC, db_default="public"
    )
    topic = models.CharField(max_length=250, blank=True, default="", db_default="")
    # A DM's sorted member ids ("3.7.12"): unique, so the same set of users
    # always gets the same room, decided by the database (services.rooms.open_dm).
    dm_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The seq of the room's newest message. Incremented in the transaction
    # that inserts the message, under this row's lock (see actions.store_post).
    last_seq = models.BigIntegerField(default=0)
    # How many message events the room has: the msg_no of its newest one,
    # bumped with last_seq under the same lock (unread counts: services.reads).
    # A database default too, for rooms inserted by raw SQL (bench/capacity.py).
    last_msg_no = models.BigIntegerField(default=0, db_default=0)
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
    """One event of a room's log (PROTOCOL section 2): a message, or a change
    (`kind`) that took the room's next seq in the transaction that made it.

    For an edited/deleted/reaction event, `target` is the seq of the message it
    is about, whose row also holds the current state (text, edited_at,
    deleted_at, data["reactions"]). `user` is who made the change.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message"
        EDITED = "edited"
        DELETED = "deleted"
        REACTION = "reaction"
        MEMBER = "member"
        TOPIC = "topic"

    # No index of its own: (room, seq) below leads with it.
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Per-room, 1, 2, 3, ... with no gap. The global auto-increment `id` is NOT
    # a resume cursor: ids are taken when a transaction inserts, not when it
    # commits, so a reader can see id 12 before id 11 commits and would skip
    # 11 forever. seq is assigned under the room row's lock, so seq k is always
    # committed before seq k+1 exists (see actions.store_post).
    seq = models.BigIntegerField()
    # How many message events the room's log holds up to and including this
    # event: on a message, its ordinal among the room's messages (1, 2, 3, ...
    # with no gap, taken with the seq under the room row's lock); an event of
    # another kind takes none and carries the count so far. Never changed once
    # stored, and a function of the log alone (actions.number_messages
    # recomputes it), so the unread count of a read position R is
    # room.last_msg_no - msg_no at seq R - deleted and own messages past R
    # (services.reads): one index probe, not a row per unread message.
    # Null only between an import of an older export and its renumbering.
    msg_no = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(  # a deleted user's messages stay: accounts/deleted.py
        settings.AUTH_USER_MODEL, on_delete=SET_DELETED, related_name="chat_messages"
    )
    text = models.TextField()
    client_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A database default: the hot path's raw INSERT (actions.store_posts)
    # leaves it out.
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.MESSAGE, db_default="message"
    )
    target = models.BigIntegerField(null=True, blank=True)
    # An event's payload (emoji and users, member op, topic, new text); on a
    # message: its mentions and reactions (events.message_frame's extras).
    data = models.JSONField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    reply_to = models.BigIntegerField(null=True, blank=True)  # the thread root's seq

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
        indexes = [
            # Unread counts (services.reads, docs/performance.md "Unread
            # counts"): one's own live messages past a read position, and the
            # deleted ones (few), each counted from its index alone. `kind`
            # and `deleted_at` are constant in each, but SQLite (3.40)
            # re-checks the query's terms on them and would read every row
            # from the table if the index did not hold them (10x slower).
            models.Index(
                fields=["room", "user", "seq", "kind", "deleted_at"],
                condition=Q(kind="message", deleted_at=None),
                name="chat_message_own",
            ),
            models.Index(
                fields=["room", "seq", "kind", "deleted_at"],
                condition=Q(kind="message", deleted_at__isnull=False),
                name="chat_message_deleted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room.name}#{self.seq}"


class Membership(models.Model):
    """A user's place in a room: role, read position, notification level."""

    class Role(models.TextChoices):
        OWNER = "owner"
        MEMBER = "member"

    class Notify(models.TextChoices):
        ALL = "all"
        MENTIONS = "mentions"
        NONE = "none"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_memberships",
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    # Unread = message events past this seq (services.reads): counted from the
    # log, never kept as a counter that could drift.
    last_read_seq = models.BigIntegerField(default=0)
    notify = models.CharField(max_length=8, choices=Notify.choices, default=Notify.ALL)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="chat_member_once")
        ]
        indexes = [models.Index(fields=["user", "room"], name="chat_member_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Mention(models.Model):
    """A message mentions a user (`user`), or everyone (`user` null: @room,
    @all). Rows are written in the post's transaction, only for a text with
    an '@', so mention counts are a query (services.reads.summaries)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seq = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The message's author, so that counting skips one's own messages without
    # a join; a deleted message's mentions are deleted with it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )

    class Meta:
        indexes = [models.Index(fields=["room", "seq"], name="chat_mention_room_seq")]


class MessageEdit(models.Model):
    """The text a message had before an edit (the edit history)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    text = models.TextField()
    edited_at = models.DateTimeField()

    class Meta:
        ordering = ["message", "edited_at"]


def _upload_id() -> str:
    # 128 random bits: an upload's URL cannot be guessed (and is checked
    # against the access rule on every request anyway).
    return secrets.token_urlsafe(16)


def _upload_path(upload: "Upload", filename: str) -> str:
    return f"uploads/{upload.created_at:%Y/%m}/{upload.id}"


class Upload(models.Model):
    """A file a user sent (chat.services.uploads). Served only to users who
    may read a message that carries it, and to its owner until then."""

    id = models.CharField(primary_key=True, max_length=32, default=_upload_id)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="chat_uploads",
    )
    file = models.FileField(upload_to=_upload_path, max_length=200)
    thumbnail = models.FileField(upload_to="thumbnails/", blank=True, max_length=200)
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Attachment(models.Model):
    """Message `seq` of `room` carries `upload`."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="uses")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["upload", "room", "seq"], name="chat_attachment_once"
            )
        ]
        indexes = [models.Index(fields=["room", "seq"], name="chat_attachment_msg")]
