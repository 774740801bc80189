"""Room summaries, unread and mention counts, read positions.

Unread = message events with seq > the member's last_read_seq, not deleted,
not the member's own; mentions = those of them that mention the member
(`@name`, `@room`, `@all`: chat.mentions). Both are COUNTED from the log with
indexed queries (the partial index chat_message_unread, chat_mention (room,
seq)), one query for all of a user's rooms, never kept as counters that
could drift (bench/unread.py measures it).
"""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from .. import access
from ..actions import message_frames
from ..broadcast import publish_on_commit, publish_user
from ..events import iso_ts, read_frame, room_frame
from ..models import Membership, Mention, Message, Room
from .errors import BadRequest, no_room


def _count(queryset, distinct: str | None = None):
    # COUNT(*), not COUNT(id): the rows are counted from the index alone
    # (PostgreSQL's index-only scan), never read from the table.
    count = Count(distinct, distinct=True) if distinct else Count("*")
    return Coalesce(
        Subquery(
            queryset.order_by().values("room").annotate(n=count).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _unread():
    return _count(
        Message.objects.filter(
            room=OuterRef("room"),
            seq__gt=OuterRef("last_read_seq"),
            kind=Message.Kind.MESSAGE,
            deleted_at=None,
        ).exclude(user=OuterRef("user"))
    )


def _mentions():
    return _count(
        # No join: a Mention row names its author, and a deleted message's
        # rows are gone (chat.mentions.forget).
        Mention.objects.filter(
            Q(user=OuterRef("user")) | Q(user=None),
            room=OuterRef("room"),
            seq__gt=OuterRef("last_read_seq"),
        ).exclude(author=OuterRef("user")),
        "seq",
    )


def _with_counts(memberships):
    return memberships.select_related("room").annotate(
        unread=_unread(), mention_count=_mentions()
    )


def _summary(membership: Any, members: list[str] | None) -> dict:
    """`membership` carries the `unread` and `mention_count` annotations."""
    room = membership.room
    summary = {
        "room": room.name,
        "kind": room.kind,
        "topic": room.topic,
        "last_seq": room.last_seq,
        "last_read_seq": membership.last_read_seq,
        "unread": membership.unread,
        "mentions": membership.mention_count,
        "notify": membership.notify,
    }
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
    memberships = list(
        _with_counts(Membership.objects.filter(user=user)).order_by(
            "-room__last_seq", "room__name"
        )
    )
    listed = [m.room_id for m in memberships if m.room.kind != Room.Kind.PUBLIC]
    members = _members(listed) if listed else {}
    return [_summary(m, members.get(m.room_id)) for m in memberships]


def summary(user, room: Room) -> dict | None:
    """The v2 summary of `room` for `user`; None if not a member."""
    membership = _with_counts(Membership.objects.filter(user=user, room=room)).first()
    if membership is None:
        return None
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
    if room.kind == Room.Kind.PUBLIC:
        Membership.objects.get_or_create(room=room, user=user)
    seq = min(seq, room.last_seq)
    moved = Membership.objects.filter(room=room, user=user)
    if not force:
        moved = moved.filter(last_read_seq__lt=seq)
    changed = moved.exclude(last_read_seq=seq).update(last_read_seq=seq)
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
