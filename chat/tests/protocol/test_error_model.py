"""One error model: every error code and close code is named once, in
chat/protocol/v1.py, and the page, clients and docs take them from there."""

import ast
import re
from pathlib import Path

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat.protocol.v1 import HTTP_STATUS, ChatError, CloseCode, ErrorCode, constants

ROOT = Path(__file__).resolve().parents[3]


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
    in the server, and examples/ takes them from chat_client (ErrorCode)."""
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


def test_each_code_has_one_status_and_every_refusal_carries_it():
    """ChatError's status is its code's, for the base class and every
    subclass (services, uploads, the rate limit), and a refusal without a
    detail cannot be made."""
    from chat.services import errors as service_errors
    from chat.services.posting import RateLimited
    from chat.services.uploads import TooLarge

    for code in ErrorCode:
        error = ChatError(code, "Why.")
        assert (error.status, error.as_dict()) == (
            HTTP_STATUS[code],
            {"code": code.value, "detail": "Why."},
        )
    fixed = [
        service_errors.NotFound,
        service_errors.Forbidden,
        service_errors.Conflict,
        service_errors.TooMany,
        service_errors.BadRequest,
        TooLarge,
    ]
    for kind in fixed:
        error = kind("Why.")
        assert isinstance(error, ChatError)
        assert error.status == HTTP_STATUS[kind.default_code] == HTTP_STATUS[error.code]
    assert RateLimited().status == 429 and RateLimited().detail
    for empty in ("", "  "):
        with pytest.raises(ValueError):
            ChatError(ErrorCode.FORBIDDEN, empty)


def test_the_server_closes_only_with_named_codes():
    """Every close the server makes (a consumer's close(code=...), an ASGI
    `websocket.close` message) names its code from CloseCode: no literal."""
    unnamed = []
    for path in _python_files("chat", "accounts", "config"):
        for node in ast.walk(ast.parse(path.read_text())):
            codes = []
            if isinstance(node, ast.Call) and _name(node.func) == "close":
                codes += [k.value for k in node.keywords if k.arg == "code"]
                codes += node.args[:1]
            elif isinstance(node, ast.Dict):
                pairs = dict(zip(map(_literal, node.keys), node.values, strict=True))
                if _literal(pairs.get("type")) == "websocket.close":
                    codes += [pairs["code"]] if "code" in pairs else []
            for code in codes:
                parts = list(ast.walk(code))
                literal = any(isinstance(_literal(part), int) for part in parts)
                unknown = any(
                    isinstance(part, ast.Attribute)
                    and _name(part.value) == "CloseCode"
                    and part.attr not in CloseCode.__members__
                    for part in parts
                )
                if literal or unknown:  # a CloseCode member, or a passed-on code
                    unnamed.append(f"{path}:{code.lineno}: {ast.unparse(code)}")
    assert unnamed == []


def test_client_codes_module_is_generated_from_the_server():
    """clients/python/chat_client/codes.py is what `manage.py
    chat_client_codes` writes from chat/protocol/v1.py (no hand-kept copy)."""
    from chat.management.commands.chat_client_codes import TARGET, client_module

    assert TARGET.read_text() == client_module()


def _name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _literal(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _python_files(*folders: str) -> list[Path]:
    return [
        path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not {"tests", "migrations"} & set(path.parts)
        and path.name not in ("protocol.py", "codes.py")
    ]


_CLOSE_VALUES = {code.value for code in CloseCode}
_ERROR_VALUES = {code.value for code in ErrorCode}
_CLOSE_IN_TEXT = re.compile(r"\b(" + "|".join(map(str, sorted(_CLOSE_VALUES))) + r")\b")


def python_copies(text: str) -> list[str]:
    """The close codes (numbers) and error codes (strings) written out in
    Python code; docstrings and comments are not code."""
    tree = ast.parse(text)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        )
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            if value in _CLOSE_VALUES:
                found.append(f"{node.lineno}: {value}")
        elif isinstance(value, str):
            if value in _ERROR_VALUES or _CLOSE_IN_TEXT.search(value):
                found.append(f"{node.lineno}: {value!r}")
    return found


_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.S)
_JS_STRING = re.compile(r"([\"'`])((?:\\.|(?!\1).)*)\1")


def js_copies(text: str) -> list[str]:
    """The same for the page's JavaScript: a close code as a number, an error
    code as a string."""
    code = _JS_COMMENT.sub("", text)
    found = [m[0] for m in _CLOSE_IN_TEXT.finditer(_JS_STRING.sub('""', code))]
    found += [m[0] for m in _JS_STRING.finditer(code) if m[2] in _ERROR_VALUES]
    return found


def test_the_page_and_the_client_library_hold_no_copies_of_the_codes():
    """The page's JavaScript reads the codes from json_script `chat-protocol`,
    the client library and examples/ from chat_client.codes: neither writes a
    close code (4403, 1008...) or an error code ('rate_limited'...) itself."""
    copies = []
    static = ROOT / "chat" / "static" / "chat"
    for path in sorted(static.rglob("*.js")):
        if "vendor" not in path.parts:
            copies += [f"{path}: {c}" for c in js_copies(path.read_text())]
    for path in _python_files("clients", "examples"):
        copies += [f"{path}: {c}" for c in python_copies(path.read_text())]
    assert copies == []


def test_the_copy_finders_find_copies():
    """The finders above are not blind: each finds a planted copy."""
    assert python_copies("if code == 4403:\n    pass\n") == ["1: 4403"]
    assert python_copies('x = exc.code == "rate_limited"\n') == ["1: 'rate_limited'"]
    assert python_copies('"""Close 4403, say."""\nx = 1  # 1008\n') == []
    assert js_copies("if (code === 4008) stop(); // 1008\n") == ["4008"]
    assert js_copies("if (f.code === 'not_found') return;\n") == ["'not_found'"]
    assert js_copies("setTimeout(go, 4000); // 4403 in a comment\n") == []
