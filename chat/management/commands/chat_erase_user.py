from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.services import dataio


class Command(BaseCommand):
    help = (
        "Erase a user (GDPR): its messages become tombstones (text gone, seqs "
        "kept, members see them deleted), the account is anonymised "
        "(erased-<id>, no name, e-mail or password, deactivated: its sockets "
        "close), its tokens and sessions are deleted. Export the user's data "
        "first if asked for it: `chat_export --user NAME`."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--yes", action="store_true", help="do it (without: say what would go)"
        )

    def handle(self, *args, username: str, yes: bool, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not yes:
            count = user.chat_messages.filter(deleted_at__isnull=True).count()
            self.stdout.write(
                f"would erase {username!r} (id {user.pk}) and the text of "
                f"{count} messages; run again with --yes to do it"
            )
            return
        new_name, count = dataio.erase_user(user)
        self.stdout.write(f"erased {username!r}: now {new_name!r}, {count} messages")
