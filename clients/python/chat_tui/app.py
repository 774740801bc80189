"""`chat-tui`: the chat in a terminal, on the client library.

Keyboard first, and it fits 80×24: rooms and DMs on the left with their
unread counts, the open room on the right, a line to type in, and a status
bar that says whether the socket is connected. Lines starting with `/` are
commands (`/help` lists them). The token is kept in the user's config
directory (mode 0600), so the password is asked once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, ListItem, ListView, RichLog, Static

from chat_client import ChatClient, ChatError, RestClient, login
from chat_client import events as ev

HELP = (
    "/join ROOM · /dm USER… · /reply SEQ TEXT · /edit SEQ TEXT · /delete SEQ · "
    "/react SEQ EMOJI · /search WORDS · /older · /quit   "
    "Ctrl+N/Ctrl+P: next/previous room"
)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chat-tui" / "config.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    if path.exists():
        return dict(json.loads(path.read_text() or "{}"))
    return {}


def save_config(config: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    os.chmod(path, 0o600)  # also when the file existed with other bits


class LoginScreen(Screen[None]):
    """Username and password once; the token is what is kept."""

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server

    def compose(self) -> ComposeResult:
        with Vertical(id="login"):
            yield Label(f"Log in to {self.server}")
            yield Input(placeholder="username", id="username")
            yield Input(placeholder="password", password=True, id="password")
            yield Label("", id="login-error")

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    async def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        try:
            token = await login(self.server, username, password)
        except (ChatError, OSError) as exc:
            self.query_one("#login-error", Label).update(f"Not logged in: {exc}")
            return
        app = self.app
        assert isinstance(app, ChatApp)
        app.config.update(server=self.server, token=token, username=username)
        save_config(app.config)
        self.dismiss()


class ChatApp(App[None]):
    CSS_PATH = "chat.tcss"
    TITLE = "chat"
    # Ctrl+P is "previous room" here, as in other chat clients.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+n", "room(1)", "Next room", show=False, priority=True),
        Binding("ctrl+p", "room(-1)", "Previous room", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", show=False),
    ]

    def __init__(self, server: str, token: str | None = None) -> None:
        super().__init__()
        self.server = server.rstrip("/")
        self.config = load_config()
        if token:
            self.config.update(server=self.server, token=token)
        self.client: ChatClient | None = None
        self.current: str | None = None
        self.messages: dict[str, dict[int, ev.Message]] = {}
        self.unread: dict[str, int] = {}
        self.online: dict[str, tuple[str, ...]] = {}
        self.status_text = "connecting…"

    # --- layout ---

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ListView(id="rooms")
            with Vertical(id="room"):
                yield Label("", id="room-title")
                yield RichLog(id="log", wrap=True, markup=True, auto_scroll=True)
                yield Label("", id="typing")
                yield Input(placeholder="Message (/help)", id="input")
        yield Static("", id="status")

    async def on_mount(self) -> None:
        if not self.config.get("token") or self.config.get("server") != self.server:
            await self.push_screen(LoginScreen(self.server), self._logged_in)
        else:
            self._logged_in(None)

    def _logged_in(self, _: None) -> None:
        self.client = ChatClient(
            self.server,
            self.config["token"],
            state_file=config_path().with_name("seqs.json"),
        )
        self.run_client()
        self.query_one("#input", Input).focus()

    # --- the client's events ---

    @work(exclusive=True, group="client")
    async def run_client(self) -> None:
        assert self.client is not None
        await self.client.start(wait=False)
        try:
            async for event in self.client.events():
                self.apply(event)
        except ChatError as exc:
            self.set_status(
                f"stopped: {exc.detail} (log in again: delete {config_path()})"
            )

    def apply(self, event: ev.Event) -> None:
        if isinstance(event, ev.Hello):
            for summary in event.rooms:
                self.unread[str(summary["room"])] = int(summary.get("unread", 0))
            self.render_rooms()
            if self.current is None and event.rooms:
                self.open_room(str(event.rooms[0]["room"]))
        elif isinstance(event, ev.Connected):
            self.set_status(
                f"connected as {self.client.username if self.client else '?'}"
            )
        elif isinstance(event, ev.Disconnected):
            self.set_status(f"reconnecting… ({event.reason or event.code})")
        elif isinstance(event, ev.Message):
            self.messages.setdefault(event.room, {})[event.seq] = event
            self.show(event.room, event)
        elif isinstance(event, ev.Edited | ev.Deleted | ev.Reaction):
            self.update_target(event)
        elif isinstance(event, ev.Member | ev.Topic):
            self.show_notice(event.room, self.describe(event))
            if isinstance(event, ev.Topic) and event.room == self.current:
                self.render_title()
        elif isinstance(event, ev.Reset):
            self.messages[event.room] = {m.seq: m for m in event.messages}
            if event.room == self.current:
                self.render_log()
        elif isinstance(event, ev.RoomSummary):
            if event.room != self.current:
                self.unread[event.room] = event.unread
            self.render_rooms()
        elif isinstance(event, ev.Removed):
            self.unread.pop(event.room, None)
            self.messages.pop(event.room, None)
            if self.current == event.room:
                self.current = None
                self.query_one("#log", RichLog).clear()
                self.render_title()
            self.render_rooms()
        elif isinstance(event, ev.Presence):
            self.online[event.room] = event.online
            if event.room == self.current:
                self.render_title()
        elif isinstance(event, ev.Typing):
            if event.room == self.current:
                self.query_one("#typing", Label).update(f"{event.username} is typing…")
                self.set_timer(3, lambda: self.query_one("#typing", Label).update(""))
        elif isinstance(event, ev.ErrorEvent):
            self.show_notice(self.current, f"refused: {event.code}: {event.detail}")

    # --- rendering ---

    def set_status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#status", Static).update(f" {text}  ·  /help")

    def room_names(self) -> list[str]:
        assert self.client is not None
        return sorted(self.client.rooms)

    def render_rooms(self) -> None:
        view = self.query_one("#rooms", ListView)
        view.clear()
        for name in self.room_names():
            count = self.unread.get(name, 0)
            label = f"{'▸ ' if name == self.current else '  '}{name}"
            if count and name != self.current:
                label += f" ({count})"
            view.append(ListItem(Label(escape(label)), name=name))

    def render_title(self) -> None:
        if self.current is None or self.client is None:
            self.query_one("#room-title", Label).update("")
            return
        summary = self.client.rooms.get(self.current, {})
        topic = summary.get("topic") or ""
        online = len(self.online.get(self.current, ()))
        text = f"# {self.current}" + (f" — {topic}" if topic else "")
        if online:
            text += f"  ({online} online)"
        self.query_one("#room-title", Label).update(escape(text))

    def line(self, m: ev.Message) -> str:
        me = self.client.username if self.client else None
        if m.deleted:
            return f"[dim]{m.seq:>4} {escape(m.username)}: (deleted)[/]"
        text = escape(m.text)
        if me and (f"@{me}" in m.text or m.mentions_room or me in m.mentions):
            text = f"[bold yellow]{text}[/]"  # a mention of me
        extra = " [dim](edited)[/]" if m.edited_at else ""
        if m.reply_to:
            extra = f" [dim]↳{m.reply_to}[/]" + extra
        if m.reactions:
            chips = " ".join(f"{e}{len(u)}" for e, u in m.reactions.items() if u)
            extra += f"  {escape(chips)}"
        return f"[dim]{m.seq:>4}[/] [b]{escape(m.username)}[/]: {text}{extra}"

    def render_log(self) -> None:
        log = self.query_one("#log", RichLog)
        log.clear()
        for seq in sorted(self.messages.get(self.current or "", {})):
            log.write(self.line(self.messages[self.current or ""][seq]))

    def show(self, room: str, m: ev.Message) -> None:
        if room == self.current:
            self.query_one("#log", RichLog).write(self.line(m))
            self.mark_read(room, m.seq)
        elif self.client and self.client.username != m.username:
            self.unread[room] = self.unread.get(room, 0) + 1
            self.render_rooms()

    def show_notice(self, room: str | None, text: str) -> None:
        if room == self.current:
            self.query_one("#log", RichLog).write(f"[dim italic]{escape(text)}[/]")

    @staticmethod
    def describe(event: ev.Member | ev.Topic) -> str:
        if isinstance(event, ev.Topic):
            return f"{event.by or 'someone'} set the topic: {event.topic}"
        verbs = {"join": "joined", "leave": "left", "remove": "was removed"}
        return f"{event.username} {verbs.get(event.op, event.op)}"

    def update_target(self, event: ev.Edited | ev.Deleted | ev.Reaction) -> None:
        stored = self.messages.get(event.room, {})
        old = stored.get(event.target)
        if old is None:
            return
        from dataclasses import replace

        if isinstance(event, ev.Edited):
            stored[event.target] = replace(
                old, text=event.text, edited_at=event.edited_at
            )
        elif isinstance(event, ev.Deleted):
            stored[event.target] = replace(old, text="", deleted=True)
        else:
            reactions = dict(old.reactions)
            reactions[event.emoji] = list(event.users)
            stored[event.target] = replace(old, reactions=reactions)
        if event.room == self.current:
            self.render_log()

    def mark_read(self, room: str, seq: int) -> None:
        if self.client is not None and self.client.connected.is_set():
            asyncio.ensure_future(self._quietly(self.client.read(room, seq)))

    @staticmethod
    async def _quietly(call: Any) -> None:
        try:
            await call
        except ChatError:
            pass

    def open_room(self, room: str) -> None:
        self.current = room
        self.unread[room] = 0
        self.render_title()
        self.render_log()
        self.render_rooms()
        newest = max(self.messages.get(room, {}) or [0])
        if newest:
            self.mark_read(room, newest)

    # --- input ---

    @on(ListView.Selected, "#rooms")
    def _selected(self, event: ListView.Selected) -> None:
        if event.item.name:
            self.open_room(event.item.name)
            self.query_one("#input", Input).focus()

    def action_room(self, step: int) -> None:
        names = self.room_names()
        if not names:
            return
        index = names.index(self.current) if self.current in names else -1
        self.open_room(names[(index + step) % len(names)])

    @on(Input.Submitted, "#input")
    async def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:
            return
        try:
            if text.startswith("/"):
                await self.command(text)
            elif self.current is None:
                self.set_status("no room open: /join ROOM")
            else:
                assert self.client is not None
                await self.client.post(self.current, text, timeout=None)
        except ChatError as exc:
            self.show_notice(self.current, f"refused: {exc.code}: {exc.detail}")
        except (ValueError, IndexError):
            self.show_notice(self.current, f"usage: {HELP}")

    @on(Input.Changed, "#input")
    async def _typing(self, event: Input.Changed) -> None:
        if (
            event.value
            and self.current
            and self.client
            and self.client.connected.is_set()
        ):
            await self._quietly(self.client.typing(self.current))

    async def command(self, text: str) -> None:
        assert self.client is not None
        name, _, rest = text[1:].partition(" ")
        room = self.current or ""
        if name == "help":
            self.show_notice(self.current, HELP)
        elif name == "quit":
            self.exit()
        elif name == "join":
            async with self.rest() as api:
                await api.add_member(rest.strip(), self.client.username or "")
            await self.client.follow(rest.strip())
            self.open_room(rest.strip().lower())
        elif name == "dm":
            async with self.rest() as api:
                dm = await api.dm(*rest.split())
            await self.client.follow(str(dm["name"]))
            self.open_room(str(dm["name"]))
        elif name == "reply":
            seq, _, body = rest.partition(" ")
            await self.client.post(room, body, reply_to=int(seq), timeout=None)
        elif name == "edit":
            seq, _, body = rest.partition(" ")
            await self.client.edit(room, int(seq), body)
        elif name == "delete":
            await self.client.delete(room, int(rest))
        elif name == "react":
            seq, _, emoji = rest.partition(" ")
            await self.client.react(room, int(seq), emoji.strip())
        elif name == "older":
            known = self.messages.setdefault(room, {})
            for m in await self.client.history(room, before=min(known or [0]) or None):
                known.setdefault(m.seq, m)
            self.render_log()
        elif name == "search":
            async with self.rest() as api:
                results = await api.search(rest)
            self.show_notice(self.current, f"{len(results)} result(s) for {rest!r}")
            for r in results[:10]:
                self.show_notice(
                    self.current,
                    f"  {r['room']}#{r['seq']} {r['username']}: {r['message']}",
                )
        else:
            self.show_notice(self.current, f"unknown command /{name}: {HELP}")

    def rest(self) -> RestClient:
        return RestClient(self.server, self.config.get("token"))

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-tui", description=__doc__)
    parser.add_argument(
        "--server",
        default=os.environ.get("CHAT_URL", "http://127.0.0.1:8000"),
        help="the chat server (default $CHAT_URL or http://127.0.0.1:8000)",
    )
    parser.add_argument("--token", default=os.environ.get("CHAT_TOKEN"))
    args = parser.parse_args(argv)
    ChatApp(args.server, args.token).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
