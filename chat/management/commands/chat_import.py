import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError

from chat.services import dataio


class Command(BaseCommand):
    help = (
        "Load a `chat_export` file (JSON lines) in one transaction, keeping "
        "every row's key: into an empty database after `migrate` (a move, a "
        "restore), or over the same rows. Nothing is loaded if a row fails."
    )

    stealth_options = ("stdin",)  # another stream than sys.stdin (tests)

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export to load ('-': stdin)")

    def handle(self, *args, file: str, **options):
        try:
            if file == "-":
                count = dataio.import_rows(options.get("stdin") or sys.stdin)
            else:
                with open(file, encoding="utf-8") as stream:
                    count = dataio.import_rows(stream)
        except FileNotFoundError:
            raise CommandError(f"No file {file!r}.") from None
        except IntegrityError as exc:
            raise CommandError(
                f"Nothing imported: a row conflicts with one already here ({exc}). "
                "Import into an empty database (after `manage.py migrate`)."
            ) from None
        except (DatabaseError, ValueError) as exc:  # DeserializationError too
            raise CommandError(f"Nothing imported: {exc}") from None
        self.stderr.write(f"imported {count} rows")
