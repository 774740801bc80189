"""Where a room's events are stored, and where history is read.

Every row of chat_message is an event of its room's log (PROTOCOL section 2):
a message, or a change (edited, deleted, reaction, member, topic) that took
the room's next seq in the transaction that made it. Posts enter through
store_posts (the hot path: one UPDATE per room for the seqs, one executemany
INSERT); other events through take_seq + insert_event, called by
chat.services inside their transaction. Resume and gap fill
(connect_snapshot, messages_after) return every event; history pages only
message events, each in its current state.

Synchronous ORM code; async callers reach it through chat.store.db (store_posts and
record_joins on the one write thread, the reads on the pool).
Nothing here touches the channel layer: callers publish with
`chat.realtime.hub` after these functions return, i.e. after commit.
"""

from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import Field, Q, Subquery
from django.utils import timezone

from chat.models import Message, Room
from chat.protocol.events import event_frame, iso_ts, message_frame, tombstone
from chat.protocol.v1 import ChatError, ErrorCode
from chat.store import mentions
from chat.store.attachments import attach as attach_uploads
from chat.store.recent import Snapshot

_MESSAGE_FIELDS = (
    "seq",
    "user__username",
    "text",
    "created_at",
    "deleted_at",
    "kind",
    "target",
    "data",
    "edited_at",
    "reply_to",
)


def _frame(room: str, row: dict) -> dict:
    """The frame of one stored event; a message in its current state."""
    ts = iso_ts(row["created_at"])
    kind = row["kind"]
    data = row["data"]
    if kind != "message":
        fields = dict(data) if data else {}
        if row["target"] is not None:
            fields["target"] = row["target"]
        if kind == "edited":
            fields["message"] = row["text"]  # emptied once the target is deleted
        # A member event's `username` is the member; `by` is who did it.
        username = fields.pop("username", row["user__username"])
        return event_frame(
            kind, seq=row["seq"], room=room, ts=ts, username=username, **fields
        )
    frame = message_frame(
        seq=row["seq"],
        room=room,
        username=row["user__username"],
        text=row["text"],
        ts=ts,
    )
    if row["reply_to"] is not None:
        frame["reply_to"] = row["reply_to"]
    if data:
        frame.update(data)  # mentions, mentions_room, reactions, replies, last_reply
    if row["edited_at"] is not None:
        frame["edited_at"] = iso_ts(row["edited_at"])
    return frame if row["deleted_at"] is None else tombstone(frame)


def _frames(room: str, queryset) -> list[dict]:
    return [_frame(room, row) for row in queryset.values(*_MESSAGE_FIELDS)]


def message_frames(room: str, queryset) -> list[dict]:
    """The frames of the events in `queryset` (of one room), in its order."""
    return _frames(room, queryset)


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


# One seq for an event other than a post, and the room row's write lock with
# it until commit: events of a room are made one at a time, in seq order.
# SQLite (3.35+) and PostgreSQL both support RETURNING.
_NEXT_SEQ_SQL = (
    "UPDATE chat_room SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq"
)


def take_seq(room: Room) -> int:
    """The room's next seq, taken under its row's lock.

    Precondition: inside transaction.atomic(); the lock is held until it
    ends, so the caller checks and changes the room's state after this call
    (a refusal raised then rolls the seq back: no gap).
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQ_SQL, [room.pk])
        (seq,) = cursor.fetchone()
    return seq


def insert_event(
    room: Room,
    seq: int,
    user,
    kind: str,
    *,
    target: int | None = None,
    data: dict | None = None,
    text: str = "",
) -> dict:
    """Store event `seq` (from take_seq, same transaction); return its frame.

    Not a message: it takes no msg_no and carries the room's count so far,
    read in the statement, under the lock take_seq took."""
    now = timezone.now()
    Message.objects.create(
        room=room,
        seq=seq,
        user=user,
        text=text,
        created_at=now,
        kind=kind,
        target=target,
        data=data,
        msg_no=Subquery(Room.objects.filter(pk=room.pk).values("last_msg_no")),
    )
    row = {
        "seq": seq,
        "user__username": user.get_username(),
        "text": text,
        "created_at": now,
        "deleted_at": None,
        "kind": kind,
        "target": target,
        "data": data,
        "edited_at": None,
        "reply_to": None,
    }
    return _frame(room.name, row)


def store_post(
    room_name: str,
    user,
    text: str,
    client_id: str | None,
    reply_to: int | None = None,
    attachments: tuple = (),
) -> tuple[dict, bool]:
    """Store a post; return (its message frame, whether it is new).

    Precondition: no transaction is open (durable atomic): the post is
    committed when this returns, so the caller may acknowledge and publish.
    A repeated (user, client_id) returns the stored message and False; the
    unique constraint decides races between processes. Raises ChatError
    (a locked room, a reply to no message).
    """
    if client_id is not None:
        existing = _existing_post(user, client_id)
        if existing is not None:
            return existing, False
    results: list = [None]
    try:
        _store_new(
            [PostRequest(room_name, user, text, client_id, reply_to, attachments)],
            [0],
            results,
        )
    except IntegrityError:
        # Another process stored the same client_id first; the rollback gave
        # back our seq, so no gap is left behind.
        if client_id is not None:
            existing = _existing_post(user, client_id)
            if existing is not None:
                return existing, False
        raise
    if isinstance(results[0], Exception):
        raise results[0]
    return results[0]


@dataclass(frozen=True, slots=True)
class PostRequest:
    """One post waiting to be stored (the arguments of store_post)."""

    room: str
    user: AbstractBaseUser
    text: str
    client_id: str | None
    reply_to: int | None = None  # a message's seq; stored as its thread root
    attachments: tuple = ()  # Upload rows the poster owns (services.uploads)


# The batch form of _NEXT_SEQ_SQL: k numbers at once, and no number at all for
# a locked room (no row comes back), so a refusal leaves no gap. By name, so
# that a batch needs no query to find its rooms first.
# Every post is a message event: it takes the room's next msg_no too (the
# ordinal unread counts subtract: models.Message.msg_no), under the same lock.
_NEXT_SEQS_SQL = (
    "UPDATE chat_room SET last_seq = last_seq + %s, last_msg_no = last_msg_no + %s, "
    "last_message_at = %s WHERE name = %s AND NOT locked "
    "RETURNING id, last_seq, last_msg_no"
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


_INSERT_FIELDS = (
    "room",
    "seq",
    "user",
    "text",
    "client_id",
    "created_at",
    "reply_to",
    "msg_no",
)


def store_posts(requests: list[PostRequest]) -> list[tuple[dict, bool] | Exception]:
    """Store several posts in one transaction; one result per request, in order:
    (message frame, is new) as store_post returns, or the exception it raises.

    Precondition: no transaction is open. Every post is committed when this
    returns. Seqs are taken under each room row's lock (the UPDATE), in the
    order of `requests`, so one socket's posts keep their order. A repeated
    (user, client_id) is stored once: within the batch it is seen here; one
    already stored (a client's retry, rare) makes the unique constraint fail
    the batch, which is then rolled back (its seqs with it) and each post
    stored on its own with store_post, which answers a repeat. Any other
    post the database refuses is isolated the same way (it gets a
    ChatError "bad_frame"); only an unreachable database fails them all.
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
    except (OperationalError, InterfaceError):
        raise  # the database is unreachable: the whole batch fails, retried
    except DatabaseError:
        # One post the database refuses (a repeated client_id, or data it
        # cannot store) must not fail the others: each is stored on its own.
        for i in todo:
            req = requests[i]
            try:
                results[i] = store_post(
                    req.room,
                    req.user,
                    req.text,
                    req.client_id,
                    req.reply_to,
                    req.attachments,
                )
            except (OperationalError, InterfaceError) as exc:
                results[i] = exc
            except DatabaseError as exc:
                results[i] = ChatError(
                    ErrorCode.BAD_FRAME,
                    f"The database refused this post: {exc}"[:200],
                )
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
    # Rare extras, done after the INSERT and only for the posts that need
    # them, so a plain post costs nothing more: (room id, seq, frame, text,
    # author id).
    mentioning: list[tuple[int, int, dict, str, int]] = []
    replies: list[tuple[int, int, int]] = []  # (room id, root, reply seq)
    attaching: list[tuple[int, int, dict, tuple]] = []
    with transaction.atomic(durable=True):
        now = timezone.now()
        ts = iso_ts(now)
        stored_now = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            # Room rows are locked in name order: two processes batching the
            # same rooms in different orders would otherwise deadlock.
            for name, indexes in sorted(by_room.items()):
                roots: dict[int, int] = {}
                if any(requests[i].reply_to is not None for i in indexes):
                    indexes = _refuse_orphans(name, requests, indexes, results, roots)
                    if not indexes:
                        continue
                found = _next_seqs(cursor, name, len(indexes), stored_now)
                if found is None:
                    refusal = ChatError(
                        ErrorCode.FORBIDDEN, f"Room {name!r} is locked: read only."
                    )
                    for i in indexes:
                        results[i] = refusal
                    continue
                room_id, seq = found[0], found[1] - len(indexes)
                msg_no = found[2] - len(indexes)
                for i in indexes:
                    seq += 1
                    msg_no += 1
                    req = requests[i]
                    root = None if req.reply_to is None else roots[req.reply_to]
                    rows.append(
                        (
                            room_id,
                            seq,
                            req.user.pk,
                            req.text,
                            req.client_id,
                            stored_now,
                            root,
                            msg_no,
                        )
                    )
                    frame = frames[i] = message_frame(
                        seq=seq,
                        room=name,
                        username=req.user.get_username(),
                        text=req.text,
                        ts=ts,
                    )
                    if root is not None:
                        frame["reply_to"] = root
                        replies.append((room_id, root, seq))
                    if "@" in req.text:
                        mentioning.append((room_id, seq, frame, req.text, req.user.pk))
                    if req.attachments:
                        attaching.append((room_id, seq, frame, req.attachments))
            if rows:
                cursor.executemany(_insert_messages_sql(), rows)
        if mentioning:
            mentions.store(mentioning)
        for room_id, seq, frame, uploads in attaching:
            frame["attachments"] = attach_uploads(room_id, seq, list(uploads))
        if replies:
            _count_replies(replies)
    for i, frame in frames.items():
        results[i] = (frame, True)


def _refuse_orphans(
    name: str, requests: list, indexes: list[int], results: list, roots: dict
) -> list[int]:
    """Fill `roots` (reply_to -> its thread root) for the replies among
    `indexes`; refuse those whose message is not in the room; return the rest.
    A reply to a reply joins its root's thread."""
    wanted = {requests[i].reply_to for i in indexes} - {None}
    for seq, reply_to in Message.objects.filter(
        room__name=name, seq__in=wanted, kind=Message.Kind.MESSAGE, deleted_at=None
    ).values_list("seq", "reply_to"):
        roots[seq] = reply_to if reply_to is not None else seq
    kept = []
    for i in indexes:
        reply_to = requests[i].reply_to
        if reply_to is None or reply_to in roots:
            kept.append(i)
        else:
            results[i] = ChatError(
                ErrorCode.NOT_FOUND,
                f"No message {reply_to} in room {name!r} to reply to.",
            )
    return kept


def _count_replies(replies: list[tuple[int, int, int]]) -> None:
    """Each thread root carries its reply count and newest reply (under the
    room row's lock: the caller's transaction took the seqs)."""
    counts: dict[tuple[int, int], list[int]] = {}
    for room_id, root, seq in replies:
        entry = counts.setdefault((room_id, root), [0, 0])
        entry[0] += 1
        entry[1] = max(entry[1], seq)
    for (room_id, root), (count, last) in counts.items():
        pk, data = Message.objects.values_list("pk", "data").get(
            room_id=room_id, seq=root
        )
        data = dict(data or {})
        data["replies"] = data.get("replies", 0) + count
        data["last_reply"] = last
        Message.objects.filter(pk=pk).update(data=data)


def _next_seqs(cursor, name: str, count: int, now) -> tuple[int, int, int] | None:
    """(room id, its new last_seq, its new last_msg_no) after taking `count`
    seqs and msg_nos, or None if the room is locked. A room used for the first
    time is created."""
    cursor.execute(_NEXT_SEQS_SQL, [count, count, now, name])
    found = cursor.fetchone()
    if found is None and not get_room(name).locked:
        cursor.execute(_NEXT_SEQS_SQL, [count, count, now, name])
        found = cursor.fetchone()
    return found


# msg_no recomputed from the log (models.Message.msg_no): each event's count
# of message events up to it, by a window over the room's (room, seq) index.
# Rows that already hold the right number are left alone.
_NUMBER_SQL = (
    "UPDATE chat_message SET msg_no = counted.n FROM ("
    "SELECT id, SUM(CASE WHEN kind = 'message' THEN 1 ELSE 0 END) "
    "OVER (ORDER BY seq) AS n FROM chat_message WHERE room_id = %s"
    ") AS counted WHERE chat_message.id = counted.id "
    "AND (chat_message.msg_no IS NULL OR chat_message.msg_no <> counted.n)"
)
_LAST_MSG_NO_SQL = (
    "UPDATE chat_room SET last_msg_no = (SELECT COUNT(*) FROM chat_message "
    "WHERE room_id = %s AND kind = 'message') WHERE id = %s"
)


def number_messages(room_ids) -> None:
    """Recompute msg_no and last_msg_no of these rooms from their logs (after
    an import of rows that lack them; migration 0007 fills old rows the same
    way). One transaction per room, under its row's lock."""
    for room_id in room_ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LAST_MSG_NO_SQL, [room_id, room_id])  # takes the lock
            cursor.execute(_NUMBER_SQL, [room_id])


def _latest(
    room: Room, limit: int, before: int | None = None
) -> tuple[list[dict], bool]:
    """The newest `limit` message events (before `before`), oldest first."""
    queryset = Message.objects.filter(room=room, kind=Message.Kind.MESSAGE)
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    newest_first = _frames(room.name, queryset.order_by("-seq")[: limit + 1])
    has_more = len(newest_first) > limit
    return newest_first[:limit][::-1], has_more


def connect_snapshot(room_name: str, since: int | None) -> Snapshot:
    """History for a connecting socket (docs/protocol.md, "History and resume").

    With `since`: every event past it, in seq order, messages in their current
    state. Without: the newest page of message events; its snapshot also
    carries the other events since that page's first message (`events`), so
    the process's recent page (chat.store.recent) can answer resumes from memory.

    The room's last_seq is read BEFORE the events: every seq up to it is
    committed, and the event query returns all of those past `since`, so
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
    first = messages[0]["seq"] if has_more else 0
    others = _frames(
        room_name,
        Message.objects.filter(room=room, seq__gt=first, seq__lte=last_seq)
        .exclude(kind=Message.Kind.MESSAGE)
        .order_by("seq"),
    )
    return Snapshot(
        last_seq,
        messages,
        complete=complete,
        has_more=has_more,
        latest=True,
        events=others,
    )


def history_page(
    room_name: str,
    before: int | None,
    limit: int,
    *,
    after: int | None = None,
    thread: int | None = None,
    around: int | None = None,
) -> tuple[list[dict], bool]:
    """Message events, oldest first, current state: the newest `limit` with
    seq < before (all, when None); or with `after`, the oldest `limit` past
    it (a forward cursor); or with `around`, `limit` centred on that seq (a
    permalink opened in context; has_more: older ones exist). `thread`: only
    that root and its replies."""
    room = get_room(room_name)
    if around is not None:
        older, has_more = _latest(room, limit // 2, around)
        newer = _frames(
            room_name,
            Message.objects.filter(
                room=room, kind=Message.Kind.MESSAGE, seq__gte=around
            ).order_by("seq")[: limit - len(older)],
        )
        return older + newer, has_more
    if after is None and thread is None:
        return _latest(room, limit, before)
    queryset = Message.objects.filter(room=room, kind=Message.Kind.MESSAGE)
    if thread is not None:
        queryset = queryset.filter(Q(seq=thread) | Q(reply_to=thread))
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    if after is not None:
        rows = _frames(
            room_name, queryset.filter(seq__gt=after).order_by("seq")[: limit + 1]
        )
        return rows[:limit], len(rows) > limit
    newest_first = _frames(room_name, queryset.order_by("-seq")[: limit + 1])
    return newest_first[:limit][::-1], len(newest_first) > limit


def messages_after(
    room_name: str, after: int, upto: int | None, limit: int
) -> list[dict]:
    """Events with after < seq <= upto (no upper bound when None), oldest
    first, messages in their current state (gap fill, reconcile)."""
    queryset = Message.objects.filter(room__name=room_name, seq__gt=after)
    if upto is not None:
        queryset = queryset.filter(seq__lte=upto)
    return _frames(room_name, queryset.order_by("seq")[:limit])


def frames_by_pk(pks: list[int]) -> dict[int, dict]:
    """The current frames of messages by primary key, whatever their rooms,
    in one query (search results span rooms)."""
    rows = Message.objects.filter(pk__in=pks).values(
        "pk", "room__name", *_MESSAGE_FIELDS
    )
    return {row["pk"]: _frame(row["room__name"], row) for row in rows}


def record_joins(pairs: list[tuple[int, int]]) -> list[None]:
    """Users become members of public rooms they opened: (room id, user id)
    pairs, one INSERT for all (a membership that exists already is kept as
    it is). Silent: no `member` event, as the v1 socket always was. One
    result per pair (for chat.store.batching); call it on the writing thread."""
    from chat.models import Membership

    # A new member has read what came before (as in Slack or Zulip, a room's
    # history is not unread to who just joined it): the read position starts
    # at the room's last seq. One SELECT for the batch.
    last_seqs = dict(
        Room.objects.filter(pk__in={room for room, _ in pairs}).values_list(
            "pk", "last_seq"
        )
    )
    Membership.objects.bulk_create(
        [
            Membership(room_id=room, user_id=user, last_read_seq=last_seqs[room])
            for room, user in pairs
            if room in last_seqs
        ],
        ignore_conflicts=True,
    )
    return [None] * len(pairs)
