"""Room names and the channel-layer group names built from them.

One rule, used by the URL router, the consumer, the views and the page
(the index page gets the same pattern from the server, in its data block).
"""

import re

ROOM_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidRoomName(ValueError):
    pass


def canonical_room(name: str) -> str:
    """The room's canonical (lowercase) name, or InvalidRoomName."""
    if not isinstance(name, str) or not ROOM_NAME_RE.fullmatch(name):
        raise InvalidRoomName(
            "A room name is 1 to 64 ASCII letters, digits, '-' or '_'."
        )
    return name.lower()


# Channel-layer group names allow ASCII letters, digits, '-', '_' and '.' and
# fewer than 100 characters; room names are a subset, so these always fit.
def room_group(room: str) -> str:
    return f"chat.room.{room}"


# Revocations (logout, deactivation, a deleted token) go to every process,
# which closes the matching sockets it holds. They are rare, so one group
# that each process joins once costs less than a group per user, which made
# every connect subscribe on the layer (a Redis SUBSCRIBE per user).
REVOCATIONS_GROUP = "chat.revocations"


# Per-user frames (room summaries, read positions, removals: PROTOCOL section
# 5) go to the user's group, so they reach every socket of the user on every
# process. User ids are digits, so the name always fits.
def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"
