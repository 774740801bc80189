"""Rooms and their members: create, join, invite, remove, leave, topic, DMs.

Every membership or topic change is an event of the room's log (`member`,
`topic`: PROTOCOL section 2): it takes the room's next seq in the
transaction that makes the change (the seq is taken first, under the room
row's lock, so a refusal found afterwards rolls it back: no gap) and is
published after commit. A user who loses access is told on every process:
`chat.removed` to the room's group (the hubs close that user's v1 sockets
there, 4403) and a `removed` frame to the user's group (v2 sockets).

Joining a public room by opening it (v1) or posting to it is implicit and
silent: the membership is recorded (for read positions and the room list),
no event is made, so v1 rooms number their messages as before. An explicit
join (join_public, PUT .../members/<me>) is a `member` event.
"""

import hashlib
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from chat.domain import access
from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.models import Membership, Room
from chat.protocol.events import removed_frame, room_frame
from chat.realtime.hub import (
    publish_event,
    publish_on_commit,
    publish_removed,
    publish_user,
)
from chat.realtime.state import throttle
from chat.services.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooMany,
    no_room,
)
from chat.services.reads import summary
from chat.store.actions import get_room, insert_event, record_joins, take_seq

DM_PREFIX = "dm-"  # server-made names; refused for rooms users name
DM_MAX_USERS = 9
TOPIC_MAX = 250


class _Unchanged(Exception):
    """Nothing to change: roll back the seq just taken, make no event."""


# --- lookups ---


def _user_named(username: object) -> Any:
    if not isinstance(username, str) or not username:
        raise BadRequest("A username must be a non-empty string.")
    if len(username) > 150 or "\x00" in username:  # never a username
        raise NotFound(f"No user named {username[:150]!r}.")
    user = (
        get_user_model()
        .objects.filter(username__iexact=username, is_active=True)
        .first()
    )
    if user is None:
        raise NotFound(f"No user named {username[:150]!r}.")
    return user


def readable(user, name: str) -> Room:
    """The room if `user` may read it, else the one not_found answer."""
    room = access.readable_room(user, name) if isinstance(name, str) else None
    if room is None:
        raise no_room(name)
    return room


def _canonical_new_name(name) -> str:
    try:
        canonical = canonical_room(name)
    except InvalidRoomName as exc:
        raise BadRequest(str(exc)) from None
    if canonical.startswith(DM_PREFIX):
        raise BadRequest(
            f"Names starting with {DM_PREFIX!r} are kept for direct messages."
        )
    return canonical


def clean_topic(topic: object) -> str:
    if not isinstance(topic, str):
        raise BadRequest('"topic" must be a string.')
    topic = " ".join(topic.split())  # one line
    if any(unicodedata.category(c) == "Cc" for c in topic):
        raise BadRequest("A topic may not contain control characters.")
    if len(topic) > TOPIC_MAX:
        raise BadRequest(
            f"The topic is {len(topic)} characters long; the limit is {TOPIC_MAX}."
        )
    return topic


# --- events ---


def _member_event(room: Room, seq: int, actor, member, op: str) -> dict:
    return insert_event(
        room,
        seq,
        actor,
        "member",
        data={"username": member.get_username(), "op": op, "by": actor.get_username()},
    )


def _announce_join(frame: dict, member, room: Room) -> None:
    new = summary(member, room)
    assert new is not None  # a member now, in this transaction
    publish_on_commit(
        (publish_event, frame),
        (publish_user, member.pk, room_frame(new)),
    )


def _announce_loss(frame: dict, member, room: Room) -> None:
    # The removal first: the hub closes the member's sockets before the
    # member event could reach them.
    publish_on_commit(
        (publish_removed, room.name, member.pk),
        (publish_user, member.pk, removed_frame(room.name)),
        (publish_event, frame),
    )


# --- implicit joins (v1, posting) ---


ROOM_WINDOW = 3600.0  # seconds: CHAT_ROOMS_PER_HOUR counts rooms made in it


def _may_create(user) -> bool:
    """Whether `user` may make one more room now (any kind, any door: the
    API, the page, a v1 open of a new name, a new DM); counted per user on
    the shared state, so it holds across processes (docs/security.md)."""
    key = f"rooms:user:{user.pk}"
    if throttle.wait_seconds({key: settings.CHAT_ROOMS_PER_HOUR}):
        return False
    throttle.add([key], ROOM_WINDOW)
    return True


def _too_many_rooms() -> TooMany:
    return TooMany(
        f"You made {settings.CHAT_ROOMS_PER_HOUR} rooms in the last hour, the "
        "most allowed; try again later, or use one you have."
    )


def v1_room_access(user, name: str) -> tuple[Room | None, bool]:
    """The v1 handshake's access check: (the room `name` (canonical) if `user`
    may open it, else None: refuse exactly as for a bad name, 403; whether
    the user must still be made a member, which the caller records).

    A room that does not exist is created public (the seed's rooms-on-first-
    use), except a DM name; opening a public room makes the user a member.
    No write for a member opening a room again (the common case).
    """
    if not access.is_active_user(user):
        return None, False
    mine = Membership.objects.filter(room=OuterRef("pk"), user=user)
    found = Room.objects.filter(name=name).annotate(member=Exists(mine)).first()
    if found is not None and found.member:
        return found, False
    if found is None and (name.startswith(DM_PREFIX) or not _may_create(user)):
        return None, False  # (over CHAT_ROOMS_PER_HOUR: refused like a bad name)
    room = found or get_room(name)
    if room.kind != Room.Kind.PUBLIC:
        return None, False
    return room, True


def v1_rooms_access(requests: list[tuple[Any, str]]) -> list[tuple[Room | None, bool]]:
    """v1_room_access for the handshakes of a moment, in two queries for all
    (chat.store.batching): the rooms by name, and which of those users are members
    already. One answer per (user, name), in order, the same as
    v1_room_access gives; a room to create goes through it alone (rare)."""
    names = {name for _, name in requests}
    rooms = {room.name: room for room in Room.objects.filter(name__in=names)}
    users = {user.pk for user, _ in requests}
    members = set(
        Membership.objects.filter(
            room__in=list(rooms.values()), user_id__in=users
        ).values_list("room_id", "user_id")
    )
    answers: list[tuple[Room | None, bool]] = []
    for user, name in requests:
        room = rooms.get(name)
        if not access.is_active_user(user):
            answers.append((None, False))
        elif room is None:
            answers.append(v1_room_access(user, name))  # to be made, or refused
        elif (room.pk, user.pk) in members:
            answers.append((room, False))
        else:
            answers.append((room if room.kind == Room.Kind.PUBLIC else None, True))
    return [(room, join and room is not None) for room, join in answers]


def open_v1_room(user, name: str) -> Room | None:
    """v1_room_access, and the membership recorded at once (one caller)."""
    room, join = v1_room_access(user, name)
    if room is not None and join:
        record_joins([(room.pk, user.pk)])
    return room


def postable_room(user, name: str) -> Room:
    """The room `user` may post to (v2, HTTP): a readable one; a public one
    makes the user a member (silently). Else not_found."""
    room = readable(user, name)
    if room.kind == Room.Kind.PUBLIC:
        Membership.objects.get_or_create(
            room=room, user=user, defaults={"last_read_seq": room.last_seq}
        )
    return room


# --- explicit changes ---


def create_room(user, name: str, kind: str = "public", topic: str = "") -> Room:
    """A new public or private room owned by `user` (its `member` event: seq 1).
    A taken name is `conflict`, whoever holds it."""
    canonical = _canonical_new_name(name)
    if kind not in (Room.Kind.PUBLIC, Room.Kind.PRIVATE):
        raise BadRequest('"kind" must be "public" or "private".')
    topic = clean_topic(topic)
    if Room.objects.filter(name=canonical).exists():
        raise Conflict(f"A room named {canonical!r} already exists.")
    if not _may_create(user):
        raise _too_many_rooms()
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=canonical, kind=kind, topic=topic, created_by=user
            )
            seq = take_seq(room)
            Membership.objects.create(
                room=room, user=user, role=Membership.Role.OWNER, last_read_seq=seq
            )
            frame = _member_event(room, seq, user, user, "join")
            _announce_join(frame, user, room)
    except IntegrityError:
        raise Conflict(f"A room named {canonical!r} already exists.") from None
    room.refresh_from_db()
    return room


def join_public(user, name: str) -> Room:
    """Join a public room (a `member` join event); a member already: nothing."""
    room = readable(user, name)
    if room.kind != Room.Kind.PUBLIC:
        if access.is_member(user, room):
            return room
        raise no_room(name)
    try:
        with transaction.atomic():
            seq = take_seq(room)
            _, created = Membership.objects.get_or_create(
                room=room, user=user, defaults={"last_read_seq": seq}
            )
            if not created:
                raise _Unchanged
            _announce_join(_member_event(room, seq, user, user, "join"), user, room)
    except _Unchanged:
        pass
    return room


def add_member(user, name: str, username: str) -> Room:
    """Join a public room yourself, or add a user to a private room (any
    member may). A DM's members are fixed. A member already: nothing."""
    room = readable(user, name)
    member = _user_named(username)
    if member.pk == user.pk:
        return join_public(user, name)
    if room.kind == Room.Kind.PUBLIC:
        raise Forbidden(
            "Users join a public room themselves; share its name with them."
        )
    if room.kind == Room.Kind.DM:
        raise Forbidden("A DM's members are fixed; open a DM with the new set.")
    try:
        with transaction.atomic():
            seq = take_seq(room)
            _, created = Membership.objects.get_or_create(
                room=room, user=member, defaults={"last_read_seq": seq}
            )
            if not created:
                raise _Unchanged
            frame = _member_event(room, seq, user, member, "join")
            _announce_join(frame, member, room)
    except _Unchanged:
        pass
    return room


def remove_member(user, name: str, username: str) -> None:
    """Remove a member (the room's owners, staff), or leave (yourself)."""
    room = readable(user, name)
    member = _user_named(username)
    if member.pk == user.pk:
        leave(user, name)
        return
    if room.kind == Room.Kind.DM:
        raise Forbidden("A DM's members are fixed.")
    if not access.can_moderate(user, room):
        raise Forbidden("Only the room's owners and staff may remove members.")
    _end_membership(room, user, member, "remove")


def leave(user, name: str) -> None:
    """Leave a room (not a DM: its members are fixed; mute it instead)."""
    room = readable(user, name)
    if room.kind == Room.Kind.DM:
        raise Forbidden("A DM's members are fixed; set its notifications to none.")
    _end_membership(room, user, user, "leave")


def _end_membership(room: Room, actor, member, op: str) -> None:
    try:
        with transaction.atomic():
            seq = take_seq(room)
            deleted, _ = Membership.objects.filter(room=room, user=member).delete()
            if not deleted:
                raise _Unchanged
            _announce_loss(_member_event(room, seq, actor, member, op), member, room)
    except _Unchanged:
        raise NotFound(
            f"{member.get_username()!r} is not a member of {room.name!r}."
        ) from None


def set_topic(user, name: str, topic: str) -> Room:
    """Set the room's topic (any member); a `topic` event, none if unchanged."""
    room = readable(user, name)
    topic = clean_topic(topic)
    if not access.is_member(user, room):
        raise Forbidden(f"Join {room.name!r} to set its topic.")
    try:
        with transaction.atomic():
            seq = take_seq(room)
            if (
                not Room.objects.filter(pk=room.pk)
                .exclude(topic=topic)
                .update(topic=topic)
            ):
                raise _Unchanged
            frame = insert_event(
                room,
                seq,
                user,
                "topic",
                data={"topic": topic, "by": user.get_username()},
            )
            publish_on_commit((publish_event, frame))
    except _Unchanged:
        pass
    room.topic = topic
    return room


def dm_key(user_ids) -> str:
    """The key of a DM between these users: their sorted ids."""
    return ".".join(str(pk) for pk in sorted(set(user_ids)))


def dm_name(key: str) -> str:
    return DM_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:24]


def open_dm(user, usernames: list[str]) -> Room:
    """The DM of `user` and `usernames` (1 to 9 users in all, the caller
    included): the same set always gets the same room, decided by the unique
    `dm_key` (two processes racing to create it end with one room)."""
    if not isinstance(usernames, list) or len(usernames) > 64:
        raise BadRequest('"users" must be a list of usernames.')
    members = {user.pk: user}
    for username in usernames:
        other = _user_named(username)
        members[other.pk] = other
    if len(members) > DM_MAX_USERS:
        raise BadRequest(
            f"A DM has 1 to {DM_MAX_USERS} users, you included; "
            f"this one would have {len(members)}."
        )
    key = dm_key(members)
    room = Room.objects.filter(dm_key=key).first()
    if room is not None:
        return room
    if not _may_create(user):
        raise _too_many_rooms()
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=dm_name(key), kind=Room.Kind.DM, dm_key=key, created_by=user
            )
            for member in members.values():
                seq = take_seq(room)
                Membership.objects.create(room=room, user=member, last_read_seq=seq)
                frame = _member_event(room, seq, user, member, "join")
                _announce_join(frame, member, room)
    except IntegrityError:
        room = Room.objects.get(dm_key=key)  # made by a concurrent request
    return room
