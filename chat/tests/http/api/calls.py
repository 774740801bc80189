"""Calling the REST API in process as a given user, over the real ASGI
application (httpx's ASGITransport): shared by test_rooms.py and
test_messages.py (in this folder).

Not Django's AsyncClient: it hands the application a WSGI-style (Latin-1)
path, so a non-ASCII segment such as a reaction's emoji arrives garbled;
ASGI servers (and httpx) pass the decoded UTF-8 path, as here.
"""

import httpx


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


def asgi_client() -> httpx.AsyncClient:
    from config.asgi import application

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )


async def call(api: httpx.AsyncClient, user, method: str, path: str, body=None):
    """`method` /api/v1`path` as `user` (by token), with a JSON body if any."""
    return await api.request(method, f"/api/v1{path}", json=body, headers=bearer(user))


async def post(api: httpx.AsyncClient, user, room: str, body):
    return await call(api, user, "POST", f"/rooms/{room}/messages", body)
