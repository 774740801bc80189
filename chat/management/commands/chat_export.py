from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.models import Room
from chat.services import dataio


class Command(BaseCommand):
    help = (
        "Write the chat's data as JSON lines (one row per line, every column), "
        "streaming: everything (default; with password hashes, for a move or a "
        "backup), one --room (its messages and their authors), or one --user's "
        "data (its account without password, its messages and rows). "
        "`chat_import` reads it back."
    )

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--room", help="one room and its messages")
        scope.add_argument("--user", help="one user's data (a data-access request)")
        parser.add_argument(
            "-o", "--output", default="-", help="file to write (default: stdout)"
        )

    def handle(self, *args, room=None, user=None, output="-", **options):
        found_room = found_user = None
        if room is not None:
            try:
                found_room = Room.objects.get(name=canonical_room(room))
            except (InvalidRoomName, Room.DoesNotExist):
                raise CommandError(f"No room named {room!r}.") from None
        if user is not None:
            User = get_user_model()
            try:
                found_user = User.objects.get(username=user)
            except User.DoesNotExist:
                raise CommandError(f"No user named {user!r}.") from None
        if output == "-":
            count = dataio.export(_Raw(self.stdout), found_room, found_user)
        else:
            with open(output, "w", encoding="utf-8") as out:
                count = dataio.export(out, found_room, found_user)
        self.stderr.write(f"exported {count} rows")


class _Raw:
    """self.stdout as a plain stream (OutputWrapper adds a newline per write)."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")
