"""Template context for every page."""

from django.http import HttpRequest

from .protocol import constants

_CONSTANTS = constants()


def protocol(request: HttpRequest) -> dict:
    """`chat_protocol`: the error and close codes, for the page's JSON script
    `{{ chat_protocol|json_script:"chat-protocol" }}` (chat/protocol.py)."""
    return {"chat_protocol": _CONSTANTS}
