"""Exports, imports, erasure and retention of the chat's data (docs/deploy.md,
"Data"): the code behind `manage.py chat_export`, `chat_import`,
`chat_erase_user` and `chat_purge`.

Exports are Django's JSON-lines serialization ("jsonl": one object per line,
`{"model", "pk", "fields"}`) of every concrete field of the rows, so columns
added later come along without changes here. Rows are read with
`.iterator()` and written as they are read: an export of any size runs in
constant memory. Passwords are only in full exports (`everything`).

Erasure and retention keep every row, so every seq keeps its number (a
client resuming with `since` sees a tombstone, never a gap): the text goes,
the `deleted_at` mark comes, and members see a `deleted` frame live.
"""

import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import IO, Protocol, cast

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from chat.logfmt import log_event
from chat.models import Message, MessageEdit, Room
from chat.services.messages import moderate_delete
from chat.store.actions import number_messages

log = logging.getLogger("chat.moderation")

# The apps whose every model is exported (with the user model).
APPS = ("accounts", "chat")
CHUNK = 2000


def _models() -> list[type[models.Model]]:
    """The user model, then the apps' models, each after what it refers to."""
    user_model = get_user_model()
    app_list = [(apps.get_app_config(label), None) for label in APPS]
    ordered = serializers.sort_dependencies(app_list)
    return [user_model] + [m for m in ordered if m is not user_model]


def _fields(model: type[models.Model], with_password: bool) -> list[str]:
    """Every concrete field but the primary key (serialized as `pk`); the
    user's many-to-many groups and permissions are not chat data."""
    names = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    if model is get_user_model() and not with_password:
        names.remove("password")
    return names


def _foreign_keys_to(model, target) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is target
    ]


def _scoped(room: Room | None, user) -> Iterator[tuple[type, models.QuerySet]]:
    """(model, queryset) of the rows in scope, in import order."""
    user_model = get_user_model()
    if room is None and user is None:
        for model in _models():
            yield model, model._default_manager.order_by("pk")
        return
    rows: list[tuple[type, models.QuerySet]] = []
    for model in _models()[1:]:
        if model is Room:
            continue
        if room is not None:
            keys = _foreign_keys_to(model, Room)
            via = _foreign_keys_to(model, Message)
            query = models.Q(pk__in=[])
            for key in keys:
                query |= models.Q(**{key: room})
            for key in via:
                query |= models.Q(**{f"{key}__room": room})
        else:
            query = models.Q(pk__in=[])
            for key in _foreign_keys_to(model, user_model):
                query |= models.Q(**{key: user})
        rows.append((model, model._default_manager.filter(query).order_by("pk")))
    # The users and rooms those rows refer to, first, so an import can link them.
    user_ids: set[int | None] = set()
    room_ids: set[int | None] = set()
    for model, queryset in rows:
        for key in _foreign_keys_to(model, user_model):
            user_ids.update(queryset.values_list(key, flat=True).distinct())
        for key in _foreign_keys_to(model, Room):
            room_ids.update(queryset.values_list(key, flat=True).distinct())
    if user is not None:
        user_ids.add(user.pk)
    if room is not None:
        room_ids.add(room.pk)
    user_ids.discard(None)
    yield user_model, user_model._default_manager.filter(pk__in=user_ids).order_by("pk")
    yield Room, Room.objects.filter(pk__in=room_ids).order_by("pk")
    yield from rows


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def export(out: Writable, room: Room | None = None, user=None) -> int:
    """Write the rows in scope (everything when neither is given) to `out` as
    JSON lines; return how many."""
    serializer = serializers.get_serializer("jsonl")()
    everything = room is None and user is None
    count = 0
    for model, queryset in _scoped(room, user):
        counted = _counting(queryset.iterator(chunk_size=CHUNK))
        serializer.serialize(
            counted,
            stream=cast(IO[str], out),
            fields=_fields(model, with_password=everything),
        )
        count += counted.count
    return count


class _counting:
    def __init__(self, rows: Iterable) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


@transaction.atomic
def import_rows(stream: IO[str]) -> int:
    """Load an export (JSON lines) in one transaction; return how many rows.

    Rows keep their primary keys: import into an empty database (after
    `migrate`), or over the same rows. Fields this version does not have are
    ignored. Sequences are moved past the imported keys (PostgreSQL)."""
    seen: set[type[models.Model]] = set()
    rooms: set[int] = set()
    count = 0
    for obj in serializers.deserialize(
        "jsonl", stream, ignorenonexistent=True, handle_forward_references=True
    ):
        obj.save()
        seen.add(type(obj.object))
        if isinstance(obj.object, Room):
            rooms.add(obj.object.pk)
        count += 1
    # An export older than Message.msg_no lacks it: the ordinals are a
    # function of the log, so they are recomputed (unchanged when present).
    number_messages(sorted(rooms))
    statements = connection.ops.sequence_reset_sql(no_style(), list(seen))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    return count


def _tombstone(messages: models.QuerySet) -> list[tuple[str, int]]:
    """Delete the messages of `messages` not deleted yet, each as a `deleted`
    event of its room's log (chat.services.messages: a seq of its own,
    published after commit), in chunks, then blank their text and drop their
    edit history, so the words are gone from the database too. The (room,
    seq) of each one."""
    done: list[tuple[str, int]] = []
    pending = messages.filter(kind=Message.Kind.MESSAGE, deleted_at__isnull=True)
    while True:
        chunk = list(pending.values_list("pk", "room__name", "seq")[:CHUNK])
        if not chunk:
            break
        if moderate_delete([pk for pk, _, _ in chunk], None) == 0:
            break  # nothing could be deleted: do not loop
        done.extend((room, seq) for _, room, seq in chunk)
    gone = messages.filter(kind=Message.Kind.MESSAGE, deleted_at__isnull=False)
    MessageEdit.objects.filter(message__in=gone).delete()
    gone.exclude(text="").update(text="")
    return done


def purge(days: float) -> int:
    """Messages older than `days` become tombstones (text gone, seq kept)."""
    cutoff = timezone.now() - timedelta(days=days)
    count = len(_tombstone(Message.objects.filter(created_at__lt=cutoff)))
    log_event(log, "retention", days=days, purged=count)
    return count


def erase_user(user) -> tuple[str, int]:
    """GDPR erasure: the user's messages become tombstones (seqs kept), the
    account is anonymised (`erased-<id>`, no name, e-mail or password,
    inactive: its sockets close), its tokens and sessions are deleted.
    Returns the new username and the number of messages erased."""
    messages = len(_tombstone(Message.objects.filter(user=user)))
    with transaction.atomic():
        user.username = f"erased-{user.pk}"
        for name in ("first_name", "last_name", "email"):
            if hasattr(user, name):
                setattr(user, name, "")
        user.set_unusable_password()
        user.is_active = False
        user.is_staff = user.is_superuser = False
        user.save()  # post_save: every process closes the user's sockets
        user.api_tokens.all().delete()
        _delete_sessions(user.pk)
    log_event(
        log,
        "moderation",
        action="erased",
        by="manage.py",
        model="auth.user",
        ids=user.pk,
        messages=messages,
    )
    return user.username, messages


def _delete_sessions(user_id: int) -> None:
    """Database sessions of the user (the session store keeps no user column)."""
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            session.delete()
