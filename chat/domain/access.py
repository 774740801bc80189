"""The one access rule: who may see which room (PROTOCOL section 1).

- A public room can be read by any (active, logged-in) user.
- A private room or DM only by its members; to anyone else it is a room that
  does not exist: every caller answers both cases the same way (v1 handshake
  403, HTTP 404 `not_found`, v2 error `not_found`), so a non-member learns
  nothing.
- Staff may moderate any room (`can_moderate`), but do not see private rooms
  and DMs they are not members of.

Every entry point asks these functions: the v1 and v2 sockets, the HTTP API,
the pages and room lists, (later) search and uploads. Synchronous ORM code:
async callers reach them through chat.store.db (reads on the pool). Nothing here changes
anything; joining and leaving are chat.services.rooms.
"""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.models import Membership, Room


def is_active_user(user) -> bool:
    """Logged in and not deactivated."""
    return user is not None and user.is_authenticated and user.is_active


def may_see_profiles(user) -> bool:
    """Display names and avatars (chat.services.profiles): any active,
    logged-in user sees any active user's. They stand beside usernames,
    which are public within the server already (public rooms, DMs by
    username), and a user chooses to publish them; nobody logged out sees
    them (docs/security.md)."""
    return is_active_user(user)


_ROOM_NAMED_SQL = "SELECT * FROM chat_room WHERE name = %s"
_READABLE_SQL = (
    "SELECT r.*, EXISTS (SELECT 1 FROM chat_membership m"
    " WHERE m.room_id = r.id AND m.user_id = %s) AS member"
    " FROM chat_room r WHERE r.name = %s"
)
_IS_MEMBER_SQL = (
    "SELECT 1 FROM chat_membership WHERE room_id = %s AND user_id = %s LIMIT 1"
)


def room_named(name: str) -> Room | None:
    """The room of that name (any case), whoever asks; None when there is no
    such room or the name breaks the naming rule. Not an access check."""
    try:
        canonical = canonical_room(name)
    except InvalidRoomName:
        return None
    # Raw SQL: every HTTP call and read frame asks this, and compiling the
    # ORM's query cost more than running it (bench.unread, read against post).
    found = list(Room.objects.raw(_ROOM_NAMED_SQL, [canonical]))
    return found[0] if found else None


def can_read(user, room: Room) -> bool:
    """Whether `user` may see `room` (the rule itself)."""
    if not is_active_user(user):
        return False
    return room.kind == Room.Kind.PUBLIC or is_member(user, room)


def readable_room(user, name: str) -> Room | None:
    """The room `name` if `user` may read it; None for a room that does not
    exist AND for one the user may not see (answer both the same way).
    can_read's rule, with the room and the membership read in one query."""
    if not is_active_user(user):
        return None
    try:
        canonical = canonical_room(name)
    except InvalidRoomName:
        return None
    found = list(Room.objects.raw(_READABLE_SQL, [user.pk, canonical]))
    if not found:
        return None
    room = found[0]
    if room.kind == Room.Kind.PUBLIC or room.member:  # type: ignore[attr-defined]
        return room
    return None


def membership(user, room: Room) -> Membership | None:
    if not is_active_user(user):
        return None
    return Membership.objects.filter(room=room, user=user).first()


def is_member(user, room: Room) -> bool:
    if not is_active_user(user):
        return False
    with connection.cursor() as cursor:  # (raw: as room_named)
        cursor.execute(_IS_MEMBER_SQL, [room.pk, user.pk])
        return cursor.fetchone() is not None


def can_moderate(user, room: Room) -> bool:
    """Staff, or an owner of the room: may delete others' messages, remove
    members."""
    if not is_active_user(user):
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        room=room, user=user, role=Membership.Role.OWNER
    ).exists()


def rooms_of(user) -> QuerySet[Room]:
    """The rooms `user` is a member of (every kind)."""
    if not is_active_user(user):
        return Room.objects.none()
    return Room.objects.filter(memberships__user=user)


def visible_rooms(user) -> QuerySet[Room]:
    """What a room list may show `user`: public rooms and the user's own
    rooms (private rooms, DMs). Nothing for an anonymous user."""
    if not is_active_user(user):
        return Room.objects.none()
    mine = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(Q(kind=Room.Kind.PUBLIC) | Exists(mine))


def lost_access(pairs: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Of the (room name, user id) pairs of open sockets, those whose user is
    no longer a member (left, removed, the room deleted). The reconcile loop
    closes them when no `chat.removed` event reached this process.

    Asks only for the pairs themselves (per room, its users), a few rooms per
    query, so the answer is at most one row per pair.
    """
    by_room: dict[str, set[int]] = {}
    for room, user_id in pairs:
        by_room.setdefault(room, set()).add(user_id)
    rooms = sorted(by_room)
    kept: set[tuple[str, int]] = set()
    for start in range(0, len(rooms), _ROOMS_PER_QUERY):
        match = Q()
        for room in rooms[start : start + _ROOMS_PER_QUERY]:
            match |= Q(room__name=room, user_id__in=by_room[room])
        kept.update(
            Membership.objects.filter(match).values_list("room__name", "user_id")
        )
    return pairs - kept


_ROOMS_PER_QUERY = 50
