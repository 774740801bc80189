"""One error model: every error code and close code is named once, in
chat/protocol.py, and the page, clients and docs take them from there."""

import re
from pathlib import Path

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat.protocol import HTTP_STATUS, CloseCode, ErrorCode, constants

ROOT = Path(__file__).resolve().parents[2]


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_docs_tables_list_exactly_the_named_codes():
    """docs/protocol.md's error and close code tables and docs/api.md's status
    table agree with ErrorCode, CloseCode and HTTP_STATUS: no code documented
    that the code does not name, none named that is not documented."""
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    api = (ROOT / "docs" / "api.md").read_text()
    socket_codes = re.findall(r"^\| `(\w+)` \|", _section(protocol, "Errors"), re.M)
    http_rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \|", api, re.M)
    close_codes = re.findall(r"^\| (\d{4}) \|", _section(protocol, "Close codes"), re.M)
    named = {code.value for code in ErrorCode}
    assert set(socket_codes) <= named
    assert {code for _, code in http_rows} <= named
    assert set(socket_codes) | {code for _, code in http_rows} == named
    for status, code in http_rows:
        assert HTTP_STATUS[ErrorCode(code)] == int(status), code
    assert sorted(map(int, close_codes)) == sorted(CloseCode)


def test_every_error_code_has_an_http_status():
    assert set(HTTP_STATUS) == set(ErrorCode)


_CLOSE_LITERAL = re.compile(r"close\(\s*(?:code\s*=\s*)?\d{4}")
_CODE_LITERAL = re.compile(
    r"(?:PostRefused|FrameError|ApiError|error_frame)\(\s*[\"'](\w+)[\"']"
)


def test_no_copies_of_the_codes_in_the_server_or_examples():
    """Close codes and error codes are used by name (CloseCode.X, ErrorCode.X)
    in the server, and examples/ reads them from /api/v1/protocol.json."""
    copies = []
    for path in sorted((ROOT / "chat").rglob("*.py")):
        if "tests" in path.parts or path.name == "protocol.py":
            continue
        text = path.read_text()
        copies += [f"{path}: {m.group(0)}" for m in _CLOSE_LITERAL.finditer(text)]
        copies += [f"{path}: {m.group(0)}" for m in _CODE_LITERAL.finditer(text)]
    for path in sorted((ROOT / "examples").rglob("*.py")):
        text = path.read_text()
        copies += [
            f"{path}: {code.value}"
            for code in CloseCode
            if re.search(rf"\b{code.value}\b", text)
        ]
    assert copies == []


@pytest.mark.django_db
def test_room_page_carries_the_codes_as_a_json_script():
    """The room page has the codes as <script id="chat-protocol">, the object
    constants() makes and /api/v1/protocol.json carries as x-constants."""
    client = Client()
    client.force_login(get_user_model().objects.create_user("alice"))
    page = client.get("/chat/lobby/").content.decode()
    found = re.search(
        r'<script id="chat-protocol" type="application/json">(.*?)</script>',
        page,
        re.S,
    )
    assert found, "no chat-protocol script on the room page"
    codes = orjson.loads(found[1])
    assert codes == constants()
    assert codes["close_codes"]["REVOKED"] == 4403
    assert codes["error_codes"]["RATE_LIMITED"] == "rate_limited"
