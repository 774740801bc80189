"""manage.py chat_invite <staff username>: print a one-use sign-up link
(CHAT_SIGNUP=invite)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts.models import Invite


class Command(BaseCommand):
    help = "Print a one-use sign-up link, made by a staff user."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="the staff user the invite is from")
        parser.add_argument(
            "--base-url", default="", help="e.g. https://chat.example.com"
        )

    def handle(self, username: str, base_url: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_staff or not user.is_active:
            raise CommandError(f"{username!r} is not an active staff user.")
        invite = Invite.objects.create(created_by=user)
        self.stdout.write(
            f"{base_url.rstrip('/')}{reverse('signup')}?invite={invite.code}"
        )
