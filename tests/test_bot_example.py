"""examples/bot.py, as a user runs it, against a real server."""

import os
import re
import subprocess
import sys

from testing.servers import ROOT
from testing.wsclient import ChatClient


async def test_bot_answers_time(deployment):
    """The example bot joins the room with its token and answers `!time` with
    the UTC time; it ignores other messages."""
    d = deployment()
    bot_token, alice_token = d.tokens("timebot", "alice")
    server = d.server()
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "bot.py")],
        env={
            **os.environ,
            "CHAT_TOKEN": bot_token,
            "CHAT_URL": server.ws,
            "CHAT_ROOM": "lobby",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        alice = await ChatClient.connect(server.ws, "lobby", alice_token)
        online = alice.hello["online"]
        while "timebot" not in online:  # the bot is in the room: presence says so
            online = (await alice.next("presence", timeout=15))["online"]
        await alice.post("hello bot")
        await alice.post("!time")
        answers: list[dict] = []
        while len(answers) < 1:
            frame = await alice.next("message")
            if frame["username"] == "timebot":
                answers.append(frame)
        assert re.fullmatch(
            r"The time is \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answers[0]["message"]
        )
        assert (
            answers[0]["seq"] == 3
        )  # after "hello bot" (1) and "!time" (2): one answer
        await alice.nothing("message", timeout=0.5)
        await alice.close()
    finally:
        bot.terminate()
        output, _ = bot.communicate(timeout=10)
    assert "bot: in room lobby as timebot" in output


async def test_bot_stops_when_its_token_is_deleted(deployment):
    """The bot reads the close codes from /api/v1/protocol.json: deleting its
    token closes its socket with REVOKED, and it stops instead of reconnecting."""
    d = deployment()
    (bot_token,) = d.tokens("timebot")
    server = d.server()
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "bot.py")],
        env={**os.environ, "CHAT_TOKEN": bot_token, "CHAT_URL": server.ws},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert bot.stdout is not None
        assert "bot: in room lobby as timebot" in bot.stdout.readline()
        d.manage(
            "shell",
            "-c",
            "from accounts.models import ApiToken; "
            "[t.delete() for t in ApiToken.objects.filter(user__username='timebot')]",
        )
        output, _ = bot.communicate(timeout=30)
    finally:
        bot.kill()
    assert bot.returncode == 0
    assert "bot: access revoked; stopping" in output
