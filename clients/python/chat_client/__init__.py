"""A Python client for the chat server: bots and scripts, asyncio, typed.

- `ChatClient`: the version 2 socket, one per user; exactly-once in-order
  events per room, resume, reconnect, posts retried until acknowledged.
- `RestClient`: the HTTP API; `login()` turns a password into a token.
- `ChatError`: every refusal, with the server's `code` and `detail`;
  `ErrorCode` and `CloseCode` name the codes (generated from the server's).

See docs/clients.md in the server's repository for a bot in 20 lines.
"""

from . import events
from .codes import CloseCode, ErrorCode
from .errors import AccessEnded, ChatError
from .events import Event, Message
from .realtime import ChatClient, SeqStore
from .rest import RestClient, login

__all__ = [
    "AccessEnded",
    "ChatClient",
    "ChatError",
    "CloseCode",
    "ErrorCode",
    "Event",
    "Message",
    "RestClient",
    "SeqStore",
    "events",
    "login",
]
