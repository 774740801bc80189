"""Mentions: `@username` of a room's members, `@room` / `@all` for everyone.

Parsed when a message is stored (actions.store_posts, only for a text with
an '@') and when it is edited (services.messages.edit_message); stored as
Mention rows so that unread mention counts are a query
(services.reads), and on the message row's `data` so that frames carry
`mentions` and `mentions_room`. Synchronous ORM code, called inside the
transaction that stores or edits the message.
"""

import re
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Q

from chat.models import Mention, Message

# '@' not preceded by a word character (so "a@b.c" is an address, not a
# mention), then a username's characters; a trailing '.' ends the sentence.
_MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]+)")
_EVERYONE = {"room", "all"}
MAX_NAMES = 50  # names looked up per message; more are ignored


def parse(text: str) -> tuple[set[str], bool]:
    """(lowercased usernames mentioned, whether @room/@all is)."""
    names: set[str] = set()
    everyone = False
    for match in _MENTION_RE.finditer(text):
        name = match.group(1).rstrip(".").lower()
        if name in _EVERYONE:
            everyone = True
        elif name and len(names) < MAX_NAMES:
            names.add(name)
    return names, everyone


def resolve(room_id: int, names: set[str]) -> dict[int, str]:
    """{user id: username} of the room's members among `names` (any case)."""
    if not names:
        return {}
    match = reduce(or_, (Q(username__iexact=name) for name in names))
    return dict(
        get_user_model()
        .objects.filter(match, chat_memberships__room_id=room_id)
        .values_list("pk", "username")
    )


def mention_data(room_id: int, text: str) -> tuple[dict, dict[int, str], bool]:
    """(the frame fields, {user id: username}, @room) for `text` in a room."""
    names, everyone = parse(text)
    users = resolve(room_id, names)
    fields: dict = {}
    if users:
        fields["mentions"] = sorted(users.values())
    if everyone:
        fields["mentions_room"] = True
    return fields, users, everyone


def store(posts: list[tuple[int, int, dict, str, int]]) -> None:
    """For each (room id, seq, frame, text, author id) just inserted: Mention
    rows, the row's data and the frame's `mentions` / `mentions_room`."""
    for room_id, seq, frame, text, author_id in posts:
        fields, users, everyone = mention_data(room_id, text)
        if not fields:
            continue
        message_id = Message.objects.values_list("pk", flat=True).get(
            room_id=room_id, seq=seq
        )
        _write(message_id, room_id, seq, author_id, users, everyone)
        Message.objects.filter(pk=message_id).update(data=fields)
        frame.update(fields)


def replace(message: Message, text: str) -> dict:
    """Re-parse an edited message: its Mention rows follow the new text.
    Returns the frame fields (also merged into message.data, not saved)."""
    Mention.objects.filter(message=message).delete()
    data = dict(message.data or {})
    data.pop("mentions", None)
    data.pop("mentions_room", None)
    fields: dict = {}
    if "@" in text:
        fields, users, everyone = mention_data(message.room_id, text)
        _write(
            message.pk, message.room_id, message.seq, message.user_id, users, everyone
        )
    data.update(fields)
    message.data = data or None
    return fields


def _write(
    message_id: int,
    room_id: int,
    seq: int,
    author_id: int,
    users: dict[int, str],
    everyone: bool,
) -> None:
    common = {
        "message_id": message_id,
        "room_id": room_id,
        "seq": seq,
        "author_id": author_id,
    }
    rows = [Mention(user_id=user_id, **common) for user_id in users]
    if everyone:
        rows.append(Mention(**common))
    Mention.objects.bulk_create(rows)


def forget(message: Message) -> None:
    """A deleted message mentions no one (so counts need no join)."""
    Mention.objects.filter(message=message).delete()
