"""Where a message is stored, and where history is read.

Synchronous ORM code; async callers reach it through database_sync_to_async.
Nothing here touches the channel layer: callers publish with
`chat.broadcast` after these functions return, i.e. after commit.
"""

from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from .events import iso_ts, message_frame, tombstone
from .models import Message, Room
from .protocol import ErrorCode
from .recent import Snapshot

_MESSAGE_FIELDS = ("seq", "user__username", "text", "created_at", "deleted_at")


class PostRefused(Exception):
    """The post was refused for a reason the client should hear (code, detail)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _frame(room: str, row: dict) -> dict:
    frame = message_frame(
        seq=row["seq"],
        room=room,
        username=row["user__username"],
        text=row["text"],
        ts=iso_ts(row["created_at"]),
    )
    return frame if row["deleted_at"] is None else tombstone(frame)


def _frames(room: str, queryset) -> list[dict]:
    return [_frame(room, row) for row in queryset.values(*_MESSAGE_FIELDS)]


def get_room(name: str) -> Room:
    """The room of that canonical name, created on first use."""
    room = Room.objects.filter(name=name).first()
    if room is None:
        room, _ = Room.objects.get_or_create(name=name)
    return room


def _existing_post(user, client_id: str) -> dict | None:
    row = (
        Message.objects.filter(user=user, client_id=client_id)
        .select_related("room")
        .values("room__name", *_MESSAGE_FIELDS)
        .first()
    )
    return _frame(row["room__name"], row) if row else None


# Taking the next number and the room row's write lock in one statement: the
# UPDATE locks the row until commit, so a second poster (any process) waits
# here and then reads the first one's number. SQLite (3.35+) and PostgreSQL
# both support RETURNING.
_NEXT_SEQ_SQL = (
    "UPDATE chat_room SET last_seq = last_seq + 1, last_message_at = %s "
    "WHERE id = %s RETURNING last_seq"
)


def store_post(
    room_name: str, user, text: str, client_id: str | None
) -> tuple[dict, bool]:
    """Store a post; return (its message frame, whether it is new).

    Precondition: no transaction is open (durable atomic): the post is
    committed when this returns, so the caller may acknowledge and publish.
    A repeated (user, client_id) returns the stored message and False; the
    unique constraint decides races between processes.
    """
    if client_id is not None:
        existing = _existing_post(user, client_id)
        if existing is not None:
            return existing, False
    room = get_room(room_name)
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(_NEXT_SEQ_SQL, [now, room.pk])
                (seq,) = cursor.fetchone()
            locked = Room.objects.values_list("locked", flat=True).get(pk=room.pk)
            if locked:
                raise PostRefused(
                    ErrorCode.FORBIDDEN, f"Room {room_name!r} is locked: read only."
                )
            Message.objects.create(
                room=room,
                seq=seq,
                user=user,
                text=text,
                client_id=client_id,
                created_at=now,
            )
    except IntegrityError:
        # Another process stored the same client_id first; the rollback gave
        # back our seq, so no gap is left behind.
        if client_id is not None:
            existing = _existing_post(user, client_id)
            if existing is not None:
                return existing, False
        raise
    frame = message_frame(
        seq=seq, room=room_name, username=user.get_username(), text=text, ts=iso_ts(now)
    )
    return frame, True


@dataclass(frozen=True, slots=True)
class PostRequest:
    """One post waiting to be stored (the arguments of store_post)."""

    room: str
    user: AbstractBaseUser
    text: str
    client_id: str | None


# The batch form of _NEXT_SEQ_SQL: k numbers at once, and no number at all for
# a locked room (no row comes back), so a refusal leaves no gap. By name, so
# that a batch needs no query to find its rooms first.
_NEXT_SEQS_SQL = (
    "UPDATE chat_room SET last_seq = last_seq + %s, last_message_at = %s "
    "WHERE name = %s AND NOT locked RETURNING id, last_seq"
)


def _insert_messages_sql() -> str:
    """INSERT of one message row, for executemany.

    bulk_create builds a Message instance per row and compiles the INSERT on
    every call: 60% of the database thread's time under load
    (docs/performance.md, S2), against one C loop here.
    """
    meta = Message._meta
    quote = connection.ops.quote_name
    columns = [cast(Field, meta.get_field(name)).column for name in _INSERT_FIELDS]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


_INSERT_FIELDS = ("room", "seq", "user", "text", "client_id", "created_at")


def store_posts(requests: list[PostRequest]) -> list[tuple[dict, bool] | Exception]:
    """Store several posts in one transaction; one result per request, in order:
    (message frame, is new) as store_post returns, or the exception it raises.

    Precondition: no transaction is open. Every post is committed when this
    returns. Seqs are taken under each room row's lock (the UPDATE), in the
    order of `requests`, so one socket's posts keep their order. A repeated
    (user, client_id) is stored once: within the batch it is seen here; one
    already stored (a client's retry, rare) makes the unique constraint fail
    the batch, which is then rolled back (its seqs with it) and each post
    stored on its own with store_post, which answers a repeat.
    """
    results: list = [None] * len(requests)
    first_of: dict[tuple[int, str | None], int] = {}  # (user, client_id) -> index
    todo: list[int] = []
    for i, req in enumerate(requests):
        if req.client_id is not None:
            key = (req.user.pk, req.client_id)
            if key in first_of:
                continue  # filled in from the first one below
            first_of[key] = i
        todo.append(i)
    try:
        _store_new(requests, todo, results)
    except IntegrityError:
        for i in todo:
            req = requests[i]
            try:
                results[i] = store_post(req.room, req.user, req.text, req.client_id)
            except Exception as exc:
                results[i] = exc
    for i, req in enumerate(requests):
        if results[i] is None:  # a repeat of an earlier client_id in this batch
            first = results[first_of[(req.user.pk, req.client_id)]]
            results[i] = first if isinstance(first, Exception) else (first[0], False)
    return results


def _store_new(requests: list[PostRequest], todo: list[int], results: list) -> None:
    by_room: dict[str, list[int]] = {}
    for i in todo:
        by_room.setdefault(requests[i].room, []).append(i)
    rows: list[tuple] = []
    frames: dict[int, dict] = {}
    with transaction.atomic(durable=True):
        now = timezone.now()
        ts = iso_ts(now)
        stored_now = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            # Room rows are locked in name order: two processes batching the
            # same rooms in different orders would otherwise deadlock.
            for name, indexes in sorted(by_room.items()):
                found = _next_seqs(cursor, name, len(indexes), stored_now)
                if found is None:
                    refusal = PostRefused(
                        ErrorCode.FORBIDDEN, f"Room {name!r} is locked: read only."
                    )
                    for i in indexes:
                        results[i] = refusal
                    continue
                room_id, seq = found[0], found[1] - len(indexes)
                for i in indexes:
                    seq += 1
                    req = requests[i]
                    rows.append(
                        (room_id, seq, req.user.pk, req.text, req.client_id, stored_now)
                    )
                    frames[i] = message_frame(
                        seq=seq,
                        room=name,
                        username=req.user.get_username(),
                        text=req.text,
                        ts=ts,
                    )
            if rows:
                cursor.executemany(_insert_messages_sql(), rows)
    for i, frame in frames.items():
        results[i] = (frame, True)


def _next_seqs(cursor, name: str, count: int, now) -> tuple[int, int] | None:
    """(room id, its new last_seq) after taking `count` seqs, or None if the
    room is locked. A room used for the first time is created."""
    cursor.execute(_NEXT_SEQS_SQL, [count, now, name])
    found = cursor.fetchone()
    if found is None and not get_room(name).locked:
        cursor.execute(_NEXT_SEQS_SQL, [count, now, name])
        found = cursor.fetchone()
    return found


def _latest(
    room: Room, limit: int, before: int | None = None
) -> tuple[list[dict], bool]:
    queryset = Message.objects.filter(room=room)
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    newest_first = _frames(room.name, queryset.order_by("-seq")[: limit + 1])
    has_more = len(newest_first) > limit
    return newest_first[:limit][::-1], has_more


def connect_snapshot(room_name: str, since: int | None) -> Snapshot:
    """History for a connecting socket (docs/protocol.md, "History and resume").

    The room's last_seq is read BEFORE the messages: every seq up to it is
    committed, and the message query returns all of those past `since`, so
    last_seq = max(both) leaves no gap between history and live frames.
    """
    room = get_room(room_name)
    last_seq = room.last_seq
    resume_max = settings.CHAT_RESUME_MAX
    if since is not None and since <= last_seq:
        queryset = Message.objects.filter(room=room, seq__gt=since).order_by("seq")
        messages = _frames(room_name, queryset[: resume_max + 1])
        if len(messages) <= resume_max:
            if messages:
                last_seq = max(last_seq, messages[-1]["seq"])
            return Snapshot(last_seq, messages, complete=True, has_more=since > 0)
    # No `since`, too far behind, or a `since` from the future (the room was
    # reset): the latest page, complete=False when older messages exist or the
    # client's view cannot be continued.
    messages, has_more = _latest(room, settings.CHAT_HISTORY_ON_CONNECT)
    if messages:
        last_seq = max(last_seq, messages[-1]["seq"])
    complete = not has_more and since is None
    return Snapshot(
        last_seq, messages, complete=complete, has_more=has_more, latest=True
    )


def history_page(
    room_name: str, before: int | None, limit: int
) -> tuple[list[dict], bool]:
    """Messages with seq < before (all, when None), the newest `limit`, oldest first."""
    return _latest(get_room(room_name), limit, before)


def messages_after(
    room_name: str, after: int, upto: int | None, limit: int
) -> list[dict]:
    """Messages with after < seq <= upto (no upper bound when None), oldest first."""
    queryset = Message.objects.filter(room__name=room_name, seq__gt=after)
    if upto is not None:
        queryset = queryset.filter(seq__lte=upto)
    return _frames(room_name, queryset.order_by("seq")[:limit])
