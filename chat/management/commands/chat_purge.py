from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chat.services import dataio


class Command(BaseCommand):
    help = (
        "Retention: messages older than --days (default CHAT_RETENTION_DAYS) "
        "become tombstones: text gone, seq kept. Run it daily (deploy/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None)

    def handle(self, *args, days: float | None, **options):
        days = settings.CHAT_RETENTION_DAYS if days is None else days
        if not days or days <= 0:
            raise CommandError(
                "No retention set: CHAT_RETENTION_DAYS is 0 (keep everything). "
                "Set it, or pass --days N."
            )
        count = dataio.purge(days)
        self.stdout.write(f"purged {count} messages older than {days:g} days")
