"""A room's messages over HTTP: read (pages, threads, a forward cursor), post,
edit, delete, react.

Every call asks the one access rule (chat.domain.access via chat.services): a private
room or DM answers a non-member exactly as a room that does not exist (404
not_found, the same detail). A post goes through chat.services.posting like a
WebSocket post (rate limit, validation, dedup, seq, broadcast); edits,
deletions and reactions through chat.services.messages, which append their
event to the room's log. Edits, reactions and history reads take a token of
the user's rate limit, as over the socket.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router
from ninja.responses import Status

from chat.domain import access
from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.protocol.v1 import ChatError, ErrorCode, parse_post
from chat.services import messages as message_service
from chat.services import posting, uploads
from chat.services import rooms as room_service
from chat.services.errors import NotFound, no_room
from chat.store import actions, db

router = Router(tags=["messages"])


@db.reads
def _page(user, name: str, query: schemas.PageQuery, limit: int) -> dict:
    room = access.readable_room(user, name)
    if room is None:
        raise no_room(name)
    found, has_more = actions.history_page(
        room.name,
        query.before,
        limit,
        after=query.after,
        thread=query.thread,
        around=query.around,
    )
    return {"room": room.name, "messages": found, "has_more": has_more}


@router.api_operation(
    schemas.GET,
    "/rooms/{room}/messages",
    response={200: schemas.MessagePage} | schemas.refusals(400, 404, 429),
    exclude_unset=True,
    summary="A page of a room's messages, oldest first.",
)
async def list_messages(
    request: HttpRequest, path: Path[schemas.RoomPath], query: Query[schemas.PageQuery]
):
    """Without `after`: the newest `limit` messages with seq < before (all,
    without `before`); page back by passing the first seq you got as the next
    `before`. With `after`: the oldest `limit` messages with seq > after (and
    < before, when given); page forward by passing the last seq you got as
    the next `after`. `thread`: only that root and its replies. `around`:
    `limit` messages centred on that seq (a permalink), `has_more` for older
    ones. Otherwise `has_more` says whether more exist past the page. Messages carry their current
    state (edits, deletions, reactions)."""
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    limit = settings.CHAT_HISTORY_ON_CONNECT if query.limit is None else query.limit
    if limit > page_max:
        raise ChatError(
            ErrorCode.BAD_FRAME, f'"limit" must be an integer from 1 to {page_max}.'
        )
    await posting.take_token(caller(request))
    return await _page(caller(request), path.room, query, limit)


@db.writes
def _postable(user, name: str) -> str:
    """The canonical name of the room `user` may post to. As opening it on the
    v1 socket: a room that does not exist yet is made (public), a public room
    makes the user a member; a private room or DM of others is not_found."""
    try:
        room = room_service.open_v1_room(user, canonical_room(name))
    except InvalidRoomName:
        room = None
    if room is None:
        raise no_room(name)
    return room.name


@router.post(
    "/rooms/{room}/messages",
    response={201: schemas.Message, 200: schemas.Message}
    | schemas.refusals(400, 403, 404, 413, 429),
    exclude_unset=True,
    summary="Post a message, stored and broadcast exactly like a WebSocket post.",
)
async def post_message(
    request: HttpRequest, path: Path[schemas.RoomPath], body: schemas.Post
):
    """Same seq, rate limit, dedup and validation as a WebSocket post. 201:
    stored; 200: a repeated client_id, the message stored the first time.
    `reply_to`: in the thread of that message. Posting to a public room makes
    you a member; to a room that does not exist yet creates it (public)."""
    frame = parse_post({"message": body.message, "client_id": body.client_id})
    room = await _postable(caller(request), path.room)
    files: tuple = ()
    if body.attachments:
        owned = db.reads(uploads.owned_uploads)
        files = tuple(await owned(caller(request), body.attachments))
    message, created = await posting.post_message(
        caller(request),
        room,
        frame.text,
        frame.client_id,
        reply_to=body.reply_to,
        attachments=files,
    )
    return Status(201 if created else 200, message)


def _current(name: str, seq: int) -> dict:
    """Message `seq` as it now reads (after a service checked access to it)."""
    room = canonical_room(name)
    message = message_service.current(room, seq)
    if message is None:  # deleted meanwhile: still a tombstone, so not reached
        raise NotFound(f"No message {seq} in room {room!r}.")
    return message


@db.writes
def _edit(user, name: str, seq: int, text: str) -> dict:
    message_service.edit_message(user, name, seq, text)
    return _current(name, seq)


@router.patch(
    "/rooms/{room}/messages/{seq}",
    response={200: schemas.Message} | schemas.refusals(400, 403, 404, 413, 429),
    exclude_unset=True,
    summary="Edit your message.",
)
async def edit_message(
    request: HttpRequest, path: Path[schemas.MessagePath], body: schemas.Edit
):
    """Only its author edits a message; the text is checked as a post. The
    room gets an `edited` event (none when the text is the same). Answers the
    message as it now reads."""
    await posting.take_token(caller(request))
    return await _edit(caller(request), path.room, path.seq, body.message)


@router.delete(
    "/rooms/{room}/messages/{seq}",
    response={204: None} | schemas.refusals(400, 403, 404),
    summary="Delete a message (a tombstone: it keeps its seq).",
)
async def delete_message(request: HttpRequest, path: Path[schemas.MessagePath]):
    """By its author, the room's owners or staff. The room gets a `deleted`
    event; deleting it again changes nothing (204 both times)."""
    await db.writes(message_service.delete_message)(
        caller(request), path.room, path.seq
    )
    return HttpResponse(status=204)


@db.writes
def _react(user, name: str, seq: int, emoji: str, on: bool) -> dict:
    message_service.react(user, name, seq, emoji, on)
    return _current(name, seq)


async def _reaction(request: HttpRequest, path: schemas.ReactionPath, on: bool):
    await posting.take_token(caller(request))
    return await _react(caller(request), path.room, path.seq, path.emoji, on)


@router.put(
    "/rooms/{room}/messages/{seq}/reactions/{emoji}",
    response={200: schemas.Message} | schemas.refusals(400, 403, 404, 429),
    exclude_unset=True,
    summary="React to a message with an emoji (idempotent).",
)
async def add_reaction(request: HttpRequest, path: Path[schemas.ReactionPath]):
    """The room gets a `reaction` event with the full list of users (none
    when you had reacted so already). Answers the message as it now reads."""
    return await _reaction(request, path, True)


@router.delete(
    "/rooms/{room}/messages/{seq}/reactions/{emoji}",
    response={200: schemas.Message} | schemas.refusals(400, 403, 404, 429),
    exclude_unset=True,
    summary="Take back your reaction (idempotent).",
)
async def remove_reaction(request: HttpRequest, path: Path[schemas.ReactionPath]):
    """The room gets a `reaction` event (none when you had not reacted so).
    Answers the message as it now reads."""
    return await _reaction(request, path, False)


@db.reads
def _edits(user, name: str, seq: int) -> list[dict]:
    return message_service.edit_history(user, name, seq)


@router.api_operation(
    ["GET", "HEAD"],
    "/rooms/{room}/messages/{seq}/edits",
    response={200: schemas.EditHistory} | schemas.refusals(400, 403, 404),
    summary="A message's earlier texts, oldest first (the room's owners and staff).",
)
async def list_edits(request: HttpRequest, path: Path[schemas.MessagePath]):
    """The texts a message had before each edit, for moderation: only the
    room's owners and staff (403 for other members; 404 for a room you may
    not see, as for one that does not exist)."""
    edits = await _edits(caller(request), path.room, path.seq)
    return {"edits": edits}
