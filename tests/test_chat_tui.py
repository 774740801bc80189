"""chat-tui driven headless (Textual's pilot, 80×24) against a real server:
log in, switch room, send, receive, reconnect after a server restart."""

import stat

import pytest

from chat_client import ChatClient, RestClient
from chat_client.events import Message

pytest.importorskip("textual", reason="chat-tui needs textual (clients/python[tui])")

from chat_tui.app import ChatApp, config_path  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def screen_text(app: ChatApp) -> str:
    """What the log, the sidebar, the title and the status bar show."""
    from textual.widgets import RichLog

    log = app.query_one("#log", RichLog)
    lines = [strip.text for strip in log.lines]
    sidebar = [
        str(label.render())
        for item in app.query("ListItem")
        for label in item.query("Label")
    ]
    title = str(app.query_one("#room-title").render())
    return "\n".join([title, *sidebar, *lines, app.status_text])


async def wait_for(pilot, app: ChatApp, text: str, tries: int = 300) -> str:
    """Let the app run until `text` is on screen (each pause is one frame)."""
    for _ in range(tries):
        shown = screen_text(app)
        if text in shown:
            return shown
        await pilot.pause(0.05)
    raise AssertionError(f"{text!r} never shown; screen:\n{screen_text(app)}")


async def test_log_in_switch_send_receive_and_survive_restart(
    deployment, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    d = deployment()
    d.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as g;"
        "g().objects.create_user('carol', password='a-long-password-1')",
    )
    (bob_token,) = d.tokens("bob")
    server = d.server()
    async with RestClient(server.http, bob_token) as api:
        for name in ("general", "random"):
            await api.create_room(name, "public")
    async with RestClient(server.http, bob_token) as api:
        await api.post("random", "older message in random")

    app = ChatApp(server.http)
    async with app.run_test(size=(80, 24)) as pilot:
        # Log in: username, Enter, password, Enter.
        await pilot.click("#username")
        await pilot.press(*"carol", "enter", *"a-long-password-1", "enter")
        token_file = config_path()
        await wait_for(pilot, app, "connected as carol")
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

        # Join both rooms with commands, then switch with Ctrl+P/Ctrl+N.
        for name in ("general", "random"):
            await pilot.press(*f"/join {name}", "enter")
            await wait_for(pilot, app, f"# {name}")
        await wait_for(pilot, app, "older message in random")
        await pilot.press("ctrl+p")
        await wait_for(pilot, app, "# general")

        # Send from the terminal; a socket user sees it.
        async with ChatClient(server.http, bob_token, rooms=["general"]) as bob:
            await pilot.press(*"hello from the terminal", "enter")
            while True:
                event = await bob.next_event(15)
                if isinstance(event, Message) and event.username == "carol":
                    assert event.text == "hello from the terminal"
                    break
            await bob.post("general", "hi carol")
        await wait_for(pilot, app, "hi carol")

        # The server restarts; the status bar says so, and messages posted
        # meanwhile arrive once the client is back.
        port = server.port
        server.stop()
        await wait_for(pilot, app, "reconnecting")
        server = d.server(port=port)
        await wait_for(pilot, app, "connected as carol")
        async with RestClient(server.http, bob_token) as api:
            await api.post("general", "after the restart")
        shown = await wait_for(pilot, app, "after the restart")
        assert shown.count("hi carol") == 1  # nothing shown twice
        app.save_screenshot(str(tmp_path / "chat-tui.svg"))
