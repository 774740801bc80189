"""Moderation as people do it: a moderator in the Django admin, a member on
the chat page, both in a real Chromium against a real server process."""

import re

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

from testing.wsclient import ChatClient

from .conftest import PASSWORD, create_users
from .test_page import lines, log_in_to_room, open_page


async def test_admin_deletion_shows_a_tombstone_live(deployment, browser, artifacts):
    """A moderator deletes a message in the admin; the member's open page
    replaces it with "message deleted" at once, without a reload, and the
    messages around it stay; the next message (after the deletion's own seq)
    follows without a resync."""
    d = deployment()
    tokens = create_users(d, "bob", "alice")
    d.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.create_superuser("
        f"'root', password={PASSWORD!r})",
    )
    server = d.server()
    alice = await ChatClient.connect(server.ws, "lobby", tokens["alice"])
    for text in ("first", "spam spam", "third"):
        await alice.post(text)
        await alice.next("message")

    member = await open_page(browser, server)
    await log_in_to_room(member, server, "bob", "lobby")
    await expect(member.locator("#messages li.msg")).to_have_count(3)
    # Opening the room joined it (its `member` event took seq 4).
    await expect(
        member.locator('#sidebar .nav-item[data-room="lobby"]')
    ).to_be_visible()
    reopened = []  # sockets the page opens from here on (a resync would)
    member.on("websocket", lambda ws: reopened.append(ws.url))

    moderator = await open_page(browser, server)
    await moderator.goto(f"{server.http}/admin/chat/message/")
    await moderator.get_by_label("Username").fill("root")
    await moderator.get_by_label("Password").fill(PASSWORD)
    await moderator.get_by_role("button", name="Log in").click()
    await expect(moderator).to_have_url(re.compile(r"/admin/chat/message/$"))
    row = moderator.locator("#result_list tbody tr", has_text="spam spam")
    await row.locator("input.action-select").check()
    await moderator.locator("select[name=action]").select_option("delete_for_everyone")
    await moderator.get_by_role("button", name="Go").click()
    await expect(moderator.locator(".messagelist")).to_contain_text("Deleted 1 message")

    spam = member.locator('#messages li.msg[data-seq="2"]')
    await expect(spam).to_have_class(re.compile(r"\bdeleted\b"))
    await expect(spam.locator(".text")).to_have_text("message deleted")
    assert [line[2] for line in await lines(member)] == [
        "first",
        "message deleted",
        "third",
    ]
    deleted = await alice.next("deleted")  # an event of its own: seq 5
    assert {k: deleted[k] for k in ("type", "room", "seq", "target")} == {
        "type": "deleted",
        "room": "lobby",
        "seq": 5,
        "target": 2,
    }
    # The page counted the deletion's seq: the next line is no gap to it.
    await alice.post("after")
    await expect(member.locator("#messages li.msg")).to_have_count(4)
    assert reopened == []
    await member.screenshot(path=artifacts / "moderation-tombstone.png")
    await alice.close()
