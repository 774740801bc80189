"""`manage.py chat_client_codes`: write the Python client library's copy of
the error and close codes (clients/python/chat_client/codes.py), generated
from chat/protocol/v1.py so that the library names each code as the server does
and holds no hand-kept copy. `--check` fails if the file is out of date
(chat/tests/protocol/test_error_model.py checks it too)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chat.protocol.v1 import CloseCode, ErrorCode

TARGET = Path(__file__).resolve().parents[3] / "clients/python/chat_client/codes.py"


def client_module() -> str:
    """The text of chat_client/codes.py."""
    lines = [
        '"""The protocol\'s error and close codes, as the server names them.',
        "",
        "Generated from the server's chat/protocol/v1.py by",
        "`python manage.py chat_client_codes`; do not edit. The same codes are",
        "served as `x-constants` in /api/v1/protocol.json.",
        '"""',
        "",
        "from enum import IntEnum, StrEnum",
        "",
        "",
        "class ErrorCode(StrEnum):",
        '    """The `code` of an error frame or of an HTTP error body."""',
        "",
        *(f'    {code.name} = "{code.value}"' for code in ErrorCode),
        "",
        "",
        "class CloseCode(IntEnum):",
        '    """The codes the server closes a socket with (docs/protocol.md)."""',
        "",
        *(f"    {code.name} = {code.value}" for code in CloseCode),
        "",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Write clients/python/chat_client/codes.py from chat/protocol/v1.py."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file is out of date."
        )

    def handle(self, *args, check: bool, **options):
        text = client_module()
        if check:
            if not TARGET.exists() or TARGET.read_text() != text:
                raise CommandError(
                    f"{TARGET} is out of date: run manage.py chat_client_codes."
                )
            return
        TARGET.write_text(text)
        self.stdout.write(f"wrote {TARGET}")
