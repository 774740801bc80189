"""Calling the REST API in process (Django's AsyncClient) as a given user:
shared by the API's test files (test_api*.py)."""


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


async def call(api, user, method: str, path: str, body=None, **headers):
    """`method` /api/v1`path` as `user` (by token), with a JSON body if any."""
    kwargs = {"headers": {**bearer(user), **headers}}
    if body is not None:
        kwargs |= {"data": body, "content_type": "application/json"}
    return await getattr(api, method.lower())(f"/api/v1{path}", **kwargs)


async def post(api, user, room, body, **headers):
    return await call(api, user, "POST", f"/rooms/{room}/messages", body, **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["detail"], body
    return body
