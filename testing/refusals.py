"""Every refusal says what was wrong: a code and a detail a person can act
on. These assert both, on a socket's error frame and on an HTTP answer."""


def assert_refused(frame: dict, code: str, says: str) -> dict:
    """`frame` is the error frame `code` whose detail says `says`."""
    assert frame["type"] == "error", f"not refused: {frame}"
    assert frame["code"] == code, frame
    assert says.lower() in frame["detail"].lower(), frame
    return frame


def assert_error(response, status: int, code: str, says: str | None = None) -> dict:
    """`response` is the JSON error `code` with `status` (and a detail that
    says `says`, when given; never an empty one); its body."""
    assert response.status_code == status, response.content
    assert response.headers["Content-Type"] == "application/json", response.headers
    body = response.json()
    assert body["code"] == code and body["detail"], body
    if says is not None:
        assert says.lower() in body["detail"].lower(), body
    return body


def assert_error_body(body: dict, code: str, says: str) -> dict:
    """`body` (a refusal's JSON, e.g. a handshake's 403) is `code` with a
    detail that says `says`."""
    assert body["code"] == code and body["detail"], body
    assert says.lower() in body["detail"].lower(), body
    return body
