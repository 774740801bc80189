"""CHAT_LOG_FORMAT on a real server: every line of its log (uvicorn's,
Django's and the chat's) is pure logfmt, or one JSON object."""

import json
import re

import httpx

from testing.wsclient import ChatClient

# key=value pairs, values bare or double-quoted with \-escapes, nothing else.
LOGFMT = re.compile(r'^(?:[a-z_]+=(?:"(?:[^"\\]|\\.)*"|[^\s"=]+)(?: |$))+$')


async def exercise(d) -> str:
    (token,) = d.tokens("alice")
    server = d.server(UVICORN_LOG_LEVEL="info")
    client = await ChatClient.connect(server.ws, "lobby", token)
    await client.post('say "hi"\nthere', client_id="c-1")
    await client.next("ack")
    await client.close()
    httpx.get(f"{server.http}/no-such-page")
    server.stop()
    return server.log_path.read_text()


async def test_logfmt_lines_are_pure_logfmt(deployment):
    log = await exercise(deployment(CHAT_LOG_FORMAT="logfmt"))
    lines = [line for line in log.splitlines() if line]
    assert any("logger=uvicorn.error" in line for line in lines)  # uvicorn's too
    assert any(
        re.match(
            r"ts=\S+Z level=info logger=chat.consumers event=connect room=lobby", ln
        )
        for ln in lines
    ), log
    for line in lines:
        assert LOGFMT.match(line), line


async def test_json_lines_carry_the_event_fields(deployment):
    log = await exercise(deployment(CHAT_LOG_FORMAT="json"))
    records = [json.loads(line) for line in log.splitlines() if line]
    assert all({"ts", "level", "logger"} <= set(r) for r in records)
    connect = [r for r in records if r.get("event") == "connect"]
    assert connect and connect[0]["room"] == "lobby" and connect[0]["user"] == "alice"
    assert any(r["logger"].startswith("uvicorn") and "msg" in r for r in records)
