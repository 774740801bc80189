"""Changes to messages: edit, delete, react; the edit history.

Each change updates the target message row (its current state: text and
edited_at, deleted_at, data["reactions"]) AND appends its event (`edited`,
`deleted`, `reaction`) with the room's next seq, in one transaction; the
event is published after commit. The seq is taken first, under the room
row's lock, so every change to a room's messages is serialised and a refusal
found afterwards rolls it back (no gap). Nothing changed: no event, None.

Posts and replies are chat.services.posting (the batched hot path, actions.store_posts).
Rate limits are the caller's: take the user's token first (chat.services.posting).
"""

import emoji
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.domain import access
from chat.models import Message, MessageEdit, Room
from chat.protocol.events import iso_ts
from chat.protocol.v1 import parse_post
from chat.realtime.hub import publish_event, publish_on_commit
from chat.services.errors import BadRequest, Forbidden, NotFound, no_room
from chat.store import mentions
from chat.store.actions import insert_event, message_frames, take_seq


class _Unchanged(Exception):
    pass


def _room(user, name: str) -> Room:
    room = access.readable_room(user, name) if isinstance(name, str) else None
    if room is None:
        raise no_room(name)
    return room


def _message(room: Room, seq: object, *, deleted: bool = False) -> Message:
    """The message `seq` of `room` (not deleted, unless `deleted`)."""
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise BadRequest('"seq" must be an integer.')
    # (A seq past a bigint matches nothing: Django answers such a lookup
    # without asking the database.)
    messages = Message.objects.filter(room=room, seq=seq, kind=Message.Kind.MESSAGE)
    found = (messages if deleted else messages.filter(deleted_at=None)).first()
    if found is None:
        raise NotFound(f"No message {seq} in room {room.name!r}.")
    return found


def _target(room: Room, seq: object) -> Message:
    """The message `seq` of `room`, not deleted (call under the room's lock)."""
    return _message(room, seq)


def _change(room: Room, change) -> dict | None:
    """Run change(seq) in a transaction after taking the room's next seq;
    publish the event it returns after commit."""
    try:
        with transaction.atomic():
            frame = change(take_seq(room))
            publish_on_commit((publish_event, frame))
    except _Unchanged:
        return None
    return frame


def edit_message(user, name: str, seq: int, text: str) -> dict | None:
    """The author replaces a message's text (validated as a post); the old
    text is kept (MessageEdit); mentions are re-parsed. The `edited` frame."""
    text = parse_post({"message": text}).text  # ChatError: empty, too_long...
    room = _room(user, name)

    def change(event_seq: int) -> dict:
        message = _target(room, seq)
        if message.user_id != user.pk:
            raise Forbidden("Only its author may edit a message.")
        window = settings.CHAT_EDIT_WINDOW
        now = timezone.now()
        if window and (now - message.created_at).total_seconds() > window:
            raise Forbidden(
                f"A message can be edited for {window:g} seconds after it was sent."
            )
        if message.text == text:
            raise _Unchanged
        MessageEdit.objects.create(message=message, text=message.text, edited_at=now)
        fields = mentions.replace(message, text)
        message.text = text
        message.edited_at = now
        message.save(update_fields=["text", "edited_at", "data"])
        return insert_event(
            room,
            event_seq,
            user,
            "edited",
            target=seq,
            text=text,
            data={"edited_at": iso_ts(now), **fields},
        )

    return _change(room, change)


def delete_message(user, name: str, seq: int) -> dict | None:
    """The author, the room's owners or staff delete a message: a tombstone
    keeps its seq. The `deleted` frame; None if it was deleted already."""
    room = _room(user, name)

    def change(event_seq: int) -> dict:
        message = _message(room, seq, deleted=True)
        own = message.user_id == user.pk and settings.CHAT_DELETE_OWN
        if not own and not access.can_moderate(user, room):
            raise Forbidden(
                "Only its author, the room's owners and staff may delete a message."
            )
        if message.deleted_at is not None:
            raise _Unchanged
        return _tombstone(room, message, user, event_seq)

    return _change(room, change)


def _tombstone(room: Room, message: Message, by, event_seq: int) -> dict:
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    mentions.forget(message)
    # An `edited` event replayed on resume must not bring the text back.
    Message.objects.filter(
        room=room, kind=Message.Kind.EDITED, target=message.seq
    ).update(text="")
    return insert_event(room, event_seq, by, "deleted", target=message.seq)


def moderate_delete(message_ids: list[int], by) -> int:
    """Staff (the admin) delete messages in any room; how many were deleted."""
    count = 0
    for pk, room_id in Message.objects.filter(
        pk__in=message_ids, kind=Message.Kind.MESSAGE, deleted_at=None
    ).values_list("pk", "room_id"):
        room = Room.objects.get(pk=room_id)

        def change(event_seq: int, pk=pk, room=room) -> dict:
            message = Message.objects.get(pk=pk)
            if message.deleted_at is not None:
                raise _Unchanged
            return _tombstone(room, message, by or message.user, event_seq)

        count += _change(room, change) is not None
    return count


def react(user, name: str, seq: int, emoji_text: str, on: bool = True) -> dict | None:
    """Add (`on`) or take back a reaction: one emoji (a single grapheme of the
    Unicode emoji set). The `reaction` frame with the full list of users;
    None when nothing changed (idempotent)."""
    if not isinstance(emoji_text, str) or not emoji.is_emoji(emoji_text):
        raise BadRequest("A reaction is a single emoji.")
    if not isinstance(on, bool):
        raise BadRequest('"on" must be true or false.')
    room = _room(user, name)
    username = user.get_username()

    def change(event_seq: int) -> dict:
        message = _target(room, seq)
        data = dict(message.data or {})
        reactions = {
            key: list(users) for key, users in data.get("reactions", {}).items()
        }
        users = reactions.get(emoji_text, [])
        if on == (username in users):
            raise _Unchanged
        if on:
            if (
                emoji_text not in reactions
                and len(reactions) >= settings.CHAT_MAX_REACTIONS
            ):
                raise Forbidden(
                    f"A message carries at most {settings.CHAT_MAX_REACTIONS} "
                    "different emoji."
                )
            users = users + [username]
        else:
            users = [name_ for name_ in users if name_ != username]
        if users:
            reactions[emoji_text] = users
        else:
            reactions.pop(emoji_text, None)
        if reactions:
            data["reactions"] = reactions
        else:
            data.pop("reactions", None)
        message.data = data or None
        message.save(update_fields=["data"])
        return insert_event(
            room,
            event_seq,
            user,
            "reaction",
            target=seq,
            data={"emoji": emoji_text, "users": users},
        )

    return _change(room, change)


def edit_history(user, name: str, seq: int) -> list[dict]:
    """A message's earlier texts, oldest first: for the room's owners and staff."""
    room = _room(user, name)
    if not access.can_moderate(user, room):
        raise Forbidden("Only the room's owners and staff may see edit history.")
    message = _message(room, seq, deleted=True)
    return [
        {"message": text, "edited_at": iso_ts(at)}
        for text, at in message.edits.values_list("text", "edited_at")
    ]


def current(room_name: str, seq: int) -> dict | None:
    """Message `seq` of a room in its current state (no access check)."""
    frames = message_frames(
        room_name,
        Message.objects.filter(
            room__name=room_name, seq=seq, kind=Message.Kind.MESSAGE
        ),
    )
    return frames[0] if frames else None
