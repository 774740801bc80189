from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import ApiToken


class Command(BaseCommand):
    help = (
        "Print a new API token for each USERNAME, one per line, for "
        "`Authorization: Bearer <token>`. With --create, missing users are "
        "created (with no password: they use tokens only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="username")
        parser.add_argument(
            "--create", action="store_true", help="create users that do not exist"
        )

    @transaction.atomic
    def handle(self, *args, usernames: list[str], create: bool, **options):
        User = get_user_model()
        for username in usernames:
            try:
                user = User.objects.get(username=username)
            except User.DoesNotExist:
                if not create:
                    raise CommandError(
                        f"No user named {username!r}. Add --create to create it."
                    ) from None
                user = User(username=username)
                user.set_unusable_password()
                user.full_clean(exclude=["password"])
                user.save()
            if not user.is_active:
                raise CommandError(
                    f"User {username!r} is deactivated; no token issued."
                )
            _, token = ApiToken.objects.issue(user)
            self.stdout.write(token)
