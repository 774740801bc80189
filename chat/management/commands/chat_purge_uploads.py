"""Remove uploaded files that no live message carries any more.

A deleted message's files stop being served at once (chat.http.files); this
command frees their storage, and that of uploads never posted within a day.
Run it from cron or a systemd timer; `--dry-run` lists what would go.
"""

from django.core.management.base import BaseCommand

from chat.services.uploads import purgeable


class Command(BaseCommand):
    help = "Delete uploads whose messages were all deleted (or never posted)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        count = size = 0
        for upload in purgeable().iterator():
            count += 1
            size += upload.size
            if dry_run:
                self.stdout.write(f"would delete {upload.id} {upload.name!r}")
                continue
            for stored in (upload.file, upload.thumbnail):
                if stored:
                    stored.delete(save=False)
            upload.delete()
        verb = "would free" if dry_run else "freed"
        self.stdout.write(f"{count} upload(s), {verb} {size} bytes")
