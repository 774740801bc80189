"""Template context for every page."""

from django.http import HttpRequest

from chat.protocol.v1 import constants

_CONSTANTS = constants()


def protocol(request: HttpRequest) -> dict:
    """`chat_protocol`: the error and close codes, for the page's JSON script
    `{{ chat_protocol|json_script:"chat-protocol" }}` (chat/protocol/v1.py)."""
    return {"chat_protocol": _CONSTANTS}
