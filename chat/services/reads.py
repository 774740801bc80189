"""Room summaries, unread and mention counts, read positions.

Unread = message events with seq > the member's last_read_seq, not deleted,
not the member's own; mentions = those of them that mention the member
(`@name`, `@room`, `@all`: chat.store.mentions). Both are COUNTED from the log,
never kept as counters that could drift, in one query for all of a user's
rooms (bench/unread.py measures it; docs/performance.md, "Unread counts").

Unread is not counted row by row: every message has its room's next ordinal
(Message.msg_no, taken with the seq under the room row's lock; other events
carry the count so far), so the messages past a read position R number
room.last_msg_no - the msg_no at seq R (one index probe), less the deleted
ones past R (few: the partial index chat_message_deleted) and one's own live
ones past R (chat_message_own). Mentions are few rows: counted from
chat_mention (room, seq). _SUMMARIES_SQL has the details.
"""

from django.db import connection
from django.db.models import Count, Q

from chat.domain import access
from chat.models import Membership, Mention, Message, Room
from chat.protocol.events import iso_ts, read_frame, room_frame
from chat.realtime.hub import publish_on_commit, publish_user
from chat.services.errors import BadRequest, no_room
from chat.store.actions import message_frames

# Every summary of a user (or of one room: `{room}`), with its counts, in one
# statement that SQLite and PostgreSQL both plan as one index probe or range
# per subquery and room. Written out, not built with the ORM: building and
# compiling the four correlated subqueries cost twice as much as running them
# (docs/performance.md, "Unread counts"). The kind and deleted_at terms are
# literals so that they match the partial indexes' conditions.
#  - read: the count of message events up to R = the msg_no of event R (of
#    the newest event before it, should R ever be missing; 0 for R = 0);
#  - deleted: deleted messages past R (chat_message_deleted, few rows);
#  - own: one's own live messages past R (chat_message_own);
#  - mentions: chat_mention rows past R naming the user or everyone, not by
#    the user (a row names its author, and a deleted message's rows are gone,
#    chat.store.mentions.forget), one per message.
_SUMMARIES_SQL = """
SELECT r.id, r.name, r.kind, r.topic, r.last_seq, m.last_read_seq,
  r.last_msg_no
  - COALESCE((SELECT e.msg_no FROM chat_message e
      WHERE e.room_id = m.room_id AND e.seq <= m.last_read_seq
      ORDER BY e.seq DESC LIMIT 1), 0)
  - (SELECT COUNT(*) FROM chat_message d
      WHERE d.room_id = m.room_id AND d.seq > m.last_read_seq
      AND d.kind = 'message' AND d.deleted_at IS NOT NULL)
  - (SELECT COUNT(*) FROM chat_message o
      WHERE o.room_id = m.room_id AND o.user_id = m.user_id
      AND o.seq > m.last_read_seq AND o.kind = 'message' AND o.deleted_at IS NULL),
  (SELECT COUNT(DISTINCT n.seq) FROM chat_mention n
      WHERE n.room_id = m.room_id AND n.seq > m.last_read_seq
      AND (n.user_id = m.user_id OR n.user_id IS NULL)
      AND (n.author_id IS NULL OR n.author_id <> m.user_id)),
  m.notify
FROM chat_membership m JOIN chat_room r ON r.id = m.room_id
WHERE m.user_id = %s {room}
ORDER BY r.last_seq DESC, r.name
"""
_KEYS = (
    "room_id",
    "room",
    "kind",
    "topic",
    "last_seq",
    "last_read_seq",
    "unread",
    "mentions",
    "notify",
)


def _with_counts(user_id: int, room_id: int | None = None) -> list[dict]:
    """Each membership's summary fields and counts (and its room_id)."""
    sql = _SUMMARIES_SQL.format(room="" if room_id is None else "AND m.room_id = %s")
    params = [user_id] if room_id is None else [user_id, room_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(_KEYS, row)) for row in cursor.fetchall()]


def _summary(row: dict, members: list[str] | None) -> dict:
    """`row`: from _with_counts."""
    summary = {key: row[key] for key in _KEYS[1:]}
    if members is not None:
        summary["members"] = members
    return summary


def _members(room_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {pk: [] for pk in room_ids}
    rows = (
        Membership.objects.filter(room_id__in=room_ids)
        .order_by("user__username")
        .values_list("room_id", "user__username")
    )
    for room_id, username in rows:
        names[room_id].append(username)
    return names


def summaries(user) -> list[dict]:
    """The v2 summary of every room `user` is a member of (hello, GET
    /api/v1/rooms), most recently active first."""
    if not access.is_active_user(user):
        return []
    memberships = _with_counts(user.pk)
    listed = [m["room_id"] for m in memberships if m["kind"] != Room.Kind.PUBLIC]
    members = _members(listed) if listed else {}
    return [_summary(m, members.get(m["room_id"])) for m in memberships]


def summary(user, room: Room) -> dict | None:
    """The v2 summary of `room` for `user`; None if not a member."""
    found = _with_counts(user.pk, room.pk)
    if not found:
        return None
    membership = found[0]
    members = None
    if room.kind != Room.Kind.PUBLIC:
        members = _members([room.pk])[room.pk]
    return _summary(membership, members)


def room_details(user, name: str) -> dict:
    """A readable room: its summary when `user` is a member (with "member":
    true), else the public facts; `members` for private rooms and DMs."""
    room = access.readable_room(user, name)
    if room is None:
        raise no_room(name)
    details = summary(user, room)
    if details is not None:
        return {**details, "member": True}
    return {
        "room": room.name,
        "kind": room.kind,
        "topic": room.topic,
        "last_seq": room.last_seq,
        "member": False,
    }


def public_rooms(limit: int = 200) -> list[dict]:
    """Public rooms to discover: name, topic, member count, last activity."""
    rows = (
        Room.objects.filter(kind=Room.Kind.PUBLIC)
        .annotate(member_count=Count("memberships"))
        .order_by("-last_message_at", "name")
        .values("name", "topic", "member_count", "last_message_at")[:limit]
    )
    return [
        {
            "room": row["name"],
            "topic": row["topic"],
            "members": row["member_count"],
            "last_message_at": (
                iso_ts(row["last_message_at"]) if row["last_message_at"] else None
            ),
        }
        for row in rows
    ]


_MOVE_READ_SQL = (
    "UPDATE chat_membership SET last_read_seq = %s"
    " WHERE room_id = %s AND user_id = %s AND last_read_seq <> %s"
)
_MOVE_READ_FORWARD_SQL = (
    "UPDATE chat_membership SET last_read_seq = %s"
    " WHERE room_id = %s AND user_id = %s AND last_read_seq < %s"
)


def mark_read(user, name: str, seq: int, force: bool = False) -> dict:
    """Move `user`'s read position in room `name` to `seq` (at most the room's
    last seq): forward only, unless `force` (mark unread). Returns the new
    summary; when it moved, the user's sockets get `read` and `room` frames.
    Reading a public room makes the user a member (silently)."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise BadRequest('"seq" must be a non-negative integer.')
    room = access.readable_room(user, name)
    if room is None:
        raise no_room(name)
    seq = min(seq, room.last_seq)
    # Raw SQL, as the access rule's reads: the ORM's compiling was most of
    # a read frame's cost (bench.unread: a read against a post).
    with connection.cursor() as cursor:
        cursor.execute(
            _MOVE_READ_SQL if force else _MOVE_READ_FORWARD_SQL,
            [seq, room.pk, user.pk, seq],
        )
        changed = cursor.rowcount
    new = summary(user, room)
    if new is None and room.kind == Room.Kind.PUBLIC:
        # Not a member yet (checked only now: a read frame costs no more
        # queries than it must, issue 13.4): a read makes one, at `seq`.
        _, created = Membership.objects.get_or_create(
            room=room, user=user, defaults={"last_read_seq": seq}
        )
        changed = created and seq > 0
        new = summary(user, room)
    if new is None:  # left meanwhile
        raise no_room(name)
    if changed:
        publish_on_commit(
            (
                publish_user,
                user.pk,
                read_frame(room=room.name, seq=new["last_read_seq"]),
            ),
            (publish_user, user.pk, room_frame(new)),
        )
    return new


def set_notify(user, name: str, level: str) -> dict:
    """A member's notification level: all, mentions or none."""
    if level not in Membership.Notify.values:
        raise BadRequest('"notify" must be "all", "mentions" or "none".')
    room = access.readable_room(user, name)
    if room is None or not Membership.objects.filter(room=room, user=user).update(
        notify=level
    ):
        raise no_room(name)
    new = summary(user, room)
    if new is None:  # left meanwhile
        raise no_room(name)
    publish_on_commit((publish_user, user.pk, room_frame(new)))
    return new


def mentions_of(user, limit: int = 50) -> list[dict]:
    """Recent messages that mention `user` (by name or @room) in rooms the
    user is a member of, not deleted, not the user's own, newest first (the
    "mentions" view). Message frames in their current state."""
    ids = list(
        Mention.objects.filter(
            Q(user=user) | Q(user=None), room__memberships__user=user
        )
        .exclude(author=user)
        .order_by("-message_id")
        .values_list("message_id", flat=True)
        .distinct()[:limit]
    )
    by_room: dict[str, list[int]] = {}
    for pk, name in Message.objects.filter(pk__in=ids).values_list("pk", "room__name"):
        by_room.setdefault(name, []).append(pk)
    frames: dict[int, dict] = {}
    for name, pks in by_room.items():
        queryset = Message.objects.filter(pk__in=pks).order_by("pk")
        frames.update(zip(sorted(pks), message_frames(name, queryset)))
    return [frames[pk] for pk in ids if pk in frames]
