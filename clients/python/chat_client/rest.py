"""The HTTP API (`/api/v1/`), with the same error model as the socket.

Every call returns the server's JSON (dicts and lists, as docs/api.md shows
them) or raises `ChatError` with the server's `code` and `detail`; a 429
carries `retry_after` in seconds. `login()` turns a username and password
into a token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from .errors import AccessEnded, ChatError

JSON = Any


def _error(response: httpx.Response) -> ChatError:
    try:
        body = response.json()
        code, detail = str(body["code"]), str(body["detail"])
    except Exception:
        code = "http_error"
        detail = f"HTTP {response.status_code}: {response.text[:200]}"
    retry = response.headers.get("Retry-After")
    kind = AccessEnded if response.status_code == 401 else ChatError
    return kind(
        code,
        detail,
        status=response.status_code,
        retry_after=float(retry) if retry else None,
    )


class RestClient:
    """`async with RestClient(base_url, token) as api: await api.rooms()`"""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        base = base_url.rstrip("/")
        if base.startswith(("ws://", "wss://")):  # the socket's URL will do
            base = "http" + base.removeprefix("ws")
        self.base_url = base
        self.http = httpx.AsyncClient(
            base_url=f"{self.base_url}/api/v1", headers=headers, timeout=timeout
        )

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: JSON = None,
        params: dict[str, Any] | None = None,
        files: Any = None,
    ) -> JSON:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        response = await self.http.request(
            method, path, json=json, params=params, files=files
        )
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # --- the calls of docs/api.md ---

    async def token(self, username: str, password: str) -> str:
        body = await self.call(
            "POST", "/token", json={"username": username, "password": password}
        )
        return str(body["token"])

    async def rooms(self) -> list[dict[str, Any]]:
        body = await self.call("GET", "/rooms")
        return list(body["rooms"] if isinstance(body, dict) else body)

    async def public_rooms(self) -> list[dict[str, Any]]:
        body = await self.call("GET", "/rooms/public")
        return list(body["rooms"] if isinstance(body, dict) else body)

    async def create_room(
        self, name: str, kind: str = "public", topic: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": name, "kind": kind}
        if topic is not None:
            payload["topic"] = topic
        return dict(await self.call("POST", "/rooms", json=payload))

    async def room(self, room: str) -> dict[str, Any]:
        return dict(await self.call("GET", f"/rooms/{quote(room)}"))

    async def set_topic(self, room: str, topic: str) -> dict[str, Any]:
        return dict(
            await self.call("PATCH", f"/rooms/{quote(room)}", json={"topic": topic})
        )

    async def add_member(self, room: str, username: str) -> JSON:
        return await self.call("PUT", f"/rooms/{quote(room)}/members/{quote(username)}")

    async def remove_member(self, room: str, username: str) -> JSON:
        return await self.call(
            "DELETE", f"/rooms/{quote(room)}/members/{quote(username)}"
        )

    async def dm(self, *usernames: str) -> dict[str, Any]:
        return dict(await self.call("POST", "/dms", json={"users": list(usernames)}))

    async def messages(
        self,
        room: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int | None = None,
        thread: int | None = None,
    ) -> dict[str, Any]:
        params = {"before": before, "after": after, "limit": limit, "thread": thread}
        return dict(
            await self.call("GET", f"/rooms/{quote(room)}/messages", params=params)
        )

    async def post(
        self,
        room: str,
        text: str,
        *,
        client_id: str | None = None,
        reply_to: int | None = None,
        attachments: list[str] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"message": text}
        if client_id is not None:
            payload["client_id"] = client_id
        if reply_to is not None:
            payload["reply_to"] = reply_to
        if attachments:
            payload["attachments"] = attachments
        return dict(
            await self.call("POST", f"/rooms/{quote(room)}/messages", json=payload)
        )

    async def edit(self, room: str, seq: int, text: str) -> JSON:
        return await self.call(
            "PATCH", f"/rooms/{quote(room)}/messages/{seq}", json={"message": text}
        )

    async def delete(self, room: str, seq: int) -> JSON:
        return await self.call("DELETE", f"/rooms/{quote(room)}/messages/{seq}")

    async def react(self, room: str, seq: int, emoji: str, on: bool = True) -> JSON:
        path = f"/rooms/{quote(room)}/messages/{seq}/reactions/{quote(emoji)}"
        return await self.call("PUT" if on else "DELETE", path)

    async def read(self, room: str, seq: int, force: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {"seq": seq}
        if force:
            payload["force"] = True
        return dict(await self.call("POST", f"/rooms/{quote(room)}/read", json=payload))

    async def search(
        self,
        q: str,
        *,
        room: str | None = None,
        sender: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        params = {"q": q, "room": room, "from": sender, "limit": limit}
        body = await self.call("GET", "/search", params=params)
        return list(body["results"])

    async def upload(
        self, name: str, content: bytes, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        files = {"file": (name, content, content_type)}
        return dict(await self.call("POST", "/uploads", files=files))


async def login(base_url: str, username: str, password: str) -> str:
    """A token for `username` (POST /api/v1/token)."""
    async with RestClient(base_url) as api:
        return await api.token(username, password)
