"""A Python client for the chat server: bots and scripts, asyncio, typed.

- `ChatClient`: the version 2 socket, one per user; exactly-once in-order
  events per room, resume, reconnect, posts retried until acknowledged.
- `RestClient`: the HTTP API; `login()` turns a password into a token.
- `ChatError`: every refusal, with the server's `code` and `detail`.

See docs/clients.md in the server's repository for a bot in 20 lines.
"""

from . import events
from .errors import AccessEnded, ChatError
from .events import Event, Message
from .realtime import ChatClient, SeqStore
from .rest import RestClient, login

__all__ = [
    "AccessEnded",
    "ChatClient",
    "ChatError",
    "Event",
    "Message",
    "RestClient",
    "SeqStore",
    "events",
    "login",
]
