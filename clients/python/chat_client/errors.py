"""The one error the library raises for anything the server refused.

The server answers every refusal with a code and a detail (a frame's `error`,
an HTTP body `{"code","detail"}`); both become a `ChatError` here, so a bot
handles a refused post the same way whichever transport carried it. The codes
are named in codes.py (ErrorCode, CloseCode), generated from the server's.
"""

from __future__ import annotations


class ChatError(Exception):
    """The server refused something: `code` is the protocol's error code."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        room: str | None = None,
        client_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status  # the HTTP status, for REST calls
        self.room = room
        self.client_id = client_id
        self.retry_after = retry_after  # seconds, with a 429


class AccessEnded(ChatError):
    """The server ended this client's access (close 4403, or HTTP 401):
    logged out, token deleted, password changed, deactivated. Reconnecting
    will not help; the client stops."""
