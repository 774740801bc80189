import os
import sqlite3
import subprocess

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Back the database up to FILE while the servers run. SQLite: the "
        "online backup API (a consistent copy, writers wait only briefly). "
        "PostgreSQL: pg_dump --format=custom (restore with pg_restore). "
        'docs/deploy.md, "Backups", says how to restore.'
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"] == "django.db.backends.sqlite3":
            if os.path.exists(file):
                raise CommandError(f"{file} exists: back up to a new file.")
            source = sqlite3.connect(db["NAME"], timeout=20)
            target = sqlite3.connect(file)
            try:
                with target:
                    source.backup(target, pages=1024)  # steps: writers get turns
            finally:
                target.close()
                source.close()
        elif db["ENGINE"] == "django.db.backends.postgresql":
            env = {**os.environ}
            if db.get("PASSWORD"):
                env["PGPASSWORD"] = db["PASSWORD"]
            command = ["pg_dump", "--format=custom", "--no-owner", "--file", file]
            for flag, key in (
                ("--host", "HOST"),
                ("--port", "PORT"),
                ("--username", "USER"),
            ):
                if db.get(key):
                    command += [flag, str(db[key])]
            command.append(db["NAME"])
            try:
                result = subprocess.run(
                    command, env=env, capture_output=True, text=True
                )
            except FileNotFoundError:
                raise CommandError(
                    "pg_dump not found: install the PostgreSQL client "
                    "(apt-get install postgresql-client)."
                ) from None
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No backup for {db['ENGINE']}: use its own tools.")
        self.stdout.write(f"backed up to {file}")
