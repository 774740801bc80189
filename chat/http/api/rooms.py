"""Rooms over HTTP: the caller's rooms, public rooms to discover, creating a
room, its details and topic, members (join, invite, leave, remove), DMs, and
the read position.

Thin views over chat.services (rooms, reads), which ask the one access rule
(chat.domain.access): a private room or DM answers a non-member exactly as a room
that does not exist (404 not_found, the same detail), and every change is an
event of the room's log, published after commit, as over the socket.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router
from ninja.responses import Status

from chat.http.api import schemas
from chat.http.api.auth import caller
from chat.services import reads
from chat.services import rooms as room_service
from chat.store import db

router = Router(tags=["rooms"])


@router.api_operation(
    schemas.GET,
    "/rooms",
    response={200: schemas.SummaryList} | schemas.refusals(),
    exclude_unset=True,
    summary="Your rooms, as the socket's summaries (unread and mention counts).",
)
async def list_rooms(request: HttpRequest):
    """Every room you are a member of (public, private, DMs), most recently
    active first."""
    return {"rooms": await db.reads(reads.summaries)(caller(request))}


# Before /rooms/{room}: "public" is this list, not a room's details.
@router.api_operation(
    schemas.GET,
    "/rooms/public",
    response={200: schemas.PublicRoomList} | schemas.refusals(),
    summary="Public rooms to discover and join.",
)
async def list_public_rooms(request: HttpRequest):
    """Name, topic, member count and last activity of the public rooms, most
    recently active first. Join one with PUT /rooms/<room>/members/<you>."""
    return {"rooms": await db.reads(reads.public_rooms)()}


@db.writes
def _create(user, new: schemas.NewRoom) -> dict:
    room = room_service.create_room(user, new.name, new.kind, new.topic)
    return reads.room_details(user, room.name)


@router.post(
    "/rooms",
    response={201: schemas.RoomDetails} | schemas.refusals(400, 409),
    exclude_unset=True,
    summary="Create a public or private room; you are its owner.",
)
async def create_room(request: HttpRequest, body: schemas.NewRoom):
    """201: the new room. A taken name is 409 `conflict`, whoever holds it
    (a private room included); a bad name, or one starting with `dm-`, 400."""
    return Status(201, await _create(caller(request), body))


@router.api_operation(
    schemas.GET,
    "/rooms/{room}",
    response={200: schemas.RoomDetails} | schemas.refusals(404),
    exclude_unset=True,
    summary="A room's details (members for private rooms and DMs).",
)
async def get_room(request: HttpRequest, path: Path[schemas.RoomPath]):
    """Your summary of the room when you are a member; the public facts of a
    public room you are not in."""
    return await db.reads(reads.room_details)(caller(request), path.room)


@db.writes
def _change(user, name: str, change: schemas.RoomChange) -> dict:
    if change.topic is not None:
        room_service.set_topic(user, name, change.topic)
    if change.notify is not None:
        reads.set_notify(user, name, change.notify)
    return reads.room_details(user, name)


@router.patch(
    "/rooms/{room}",
    response={200: schemas.RoomDetails} | schemas.refusals(400, 403, 404),
    exclude_unset=True,
    summary="Set the room's topic (any member), or your notification level.",
)
async def change_room(
    request: HttpRequest, path: Path[schemas.RoomPath], body: schemas.RoomChange
):
    """A new topic is a `topic` event of the room (none when unchanged).
    Fields left out (or null) stay as they are."""
    return await _change(caller(request), path.room, body)


@db.writes
def _add(user, name: str, username: str) -> dict:
    room = room_service.add_member(user, name, username)
    return reads.room_details(user, room.name)


@router.put(
    "/rooms/{room}/members/{username}",
    response={200: schemas.RoomDetails} | schemas.refusals(400, 403, 404),
    exclude_unset=True,
    summary="Join a public room (yourself), or add a user to a private room.",
)
async def add_member(request: HttpRequest, path: Path[schemas.MemberPath]):
    """Any member of a private room may add a user; a public room is joined
    by each user (403 for someone else); a DM's members are fixed (403). A
    member already: nothing changes. A `member` event of the room."""
    return await _add(caller(request), path.room, path.username)


@router.delete(
    "/rooms/{room}/members/{username}",
    response={204: None} | schemas.refusals(400, 403, 404),
    summary="Leave a room (yourself), or remove a member (owners, staff).",
)
async def remove_member(request: HttpRequest, path: Path[schemas.MemberPath]):
    """A `member` event of the room; the one who left or was removed gets
    nothing more from it (its sockets are told at once). 404 when that user is
    not a member; 403 for a DM (its members are fixed)."""
    await db.writes(room_service.remove_member)(
        caller(request), path.room, path.username
    )
    return HttpResponse(status=204)


@db.writes
def _dm(user, usernames: list[str]) -> dict:
    room = room_service.open_dm(user, usernames)
    return reads.room_details(user, room.name)


@router.post(
    "/dms",
    response={200: schemas.RoomDetails} | schemas.refusals(400, 404),
    exclude_unset=True,
    summary="The DM of you and these users (the same room every time).",
)
async def open_dm(request: HttpRequest, body: schemas.NewDm):
    """Made on first use; its name (`dm-…`) is the server's. Post to it as
    to any room. 404: no such (active) user."""
    return await _dm(caller(request), body.users)


@router.post(
    "/rooms/{room}/read",
    response={200: schemas.Summary} | schemas.refusals(400, 404),
    exclude_unset=True,
    summary="Move your read position (forward; back with force).",
)
async def mark_read(
    request: HttpRequest, path: Path[schemas.RoomPath], body: schemas.Read
):
    """Up to the room's last seq. Your other sockets get `read` and `room`
    frames. Answers your new summary of the room."""
    return await db.writes(reads.mark_read)(
        caller(request), path.room, body.seq, body.force
    )
