"""The chat page in a real Chromium against a real server process.

Each test drives what a person does (sign up, log in, type, press Enter,
scroll, lose the server) and asserts what the screen shows.
"""

import re
from typing import Any

try:
    from playwright.async_api import Page, expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    Page = expect = None  # type: ignore[misc,assignment]

from testing.wsclient import ChatClient

from .conftest import PASSWORD, create_users

DESKTOP = {"width": 1100, "height": 720}
PHONE: Any = {"width": 375, "height": 740}  # a ViewportSize
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold?</b>'
READ_LINES = """els => els.map(e => [
    Number(e.dataset.seq),
    e.querySelector('.author').textContent,
    e.querySelector('.text').textContent,
])"""


async def open_page(browser, server, viewport=DESKTOP) -> Page:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def log_in_to_room(page: Page, server, username: str, room: str) -> None:
    """Open the room logged out: the page sends us to log in, then back."""
    await page.goto(f"{server.http}/chat/{room}/")
    await expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/chat/"))
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.http}/chat/{room}/")
    await connected(page)


async def connected(page: Page, timeout: float = 15_000) -> None:
    await expect(page.locator("#conn-status")).to_have_attribute(
        "data-state", "online", timeout=timeout
    )


async def send(page: Page, text: str) -> None:
    box = page.get_by_label(re.compile("^Message #"))
    await box.fill(text)
    await box.press("Enter")


async def lines(page: Page) -> list[list]:
    """[seq, username, text] of every line shown, top to bottom."""
    return await page.locator("#messages li.msg").evaluate_all(READ_LINES)


async def test_sign_up_enter_room_and_live_room_list(deployment, browser, artifacts):
    """A visitor signs up, is told why 'café room' is not a room name, enters
    'Lobby' (as lobby); a logged-out visitor's index lists no rooms; once
    logged in, it shows lobby with 1 online and its activity, live, and the
    room link opens the room."""
    d = deployment()
    create_users(d, "bob")
    server = d.server()

    alice = await open_page(browser, server)
    await alice.goto(f"{server.http}/chat/")
    await alice.get_by_role("link", name="Sign up").click()
    await alice.get_by_label("Username").fill("alice")
    await alice.get_by_label("Password:", exact=True).fill(PASSWORD)
    await alice.get_by_label("Password confirmation").fill(PASSWORD)
    await alice.get_by_role("button", name="Sign up").click()
    await expect(alice.locator(".account .me")).to_have_text("alice")

    room_box = alice.get_by_label("Enter or create a room")
    await expect(alice.locator("#room-form[data-ready]")).to_have_count(1)
    await room_box.fill("café room")
    await room_box.press("Enter")
    error = alice.locator("#room-name-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("not a valid room name")
    await expect(alice).to_have_url(f"{server.http}/chat/")

    await room_box.fill("Lobby")
    await alice.get_by_role("button", name="Go").click()
    await expect(alice).to_have_url(f"{server.http}/chat/lobby/")
    await connected(alice)

    visitor = await open_page(browser, server)
    await visitor.goto(f"{server.http}/chat/")
    await expect(visitor.locator("#room-list li.room-item")).to_have_count(0)
    await visitor.get_by_role("link", name="Log in").click()
    await visitor.get_by_label("Username").fill("bob")
    await visitor.get_by_label("Password").fill(PASSWORD)
    await visitor.get_by_role("button", name="Log in").click()
    await visitor.goto(f"{server.http}/chat/")
    lobby = visitor.locator("#room-list li", has_text="lobby")
    await expect(lobby.locator(".room-online")).to_have_text("1 online", timeout=10_000)
    await expect(lobby.locator(".room-activity")).to_have_text("no messages yet")
    await send(alice, "first!")
    await expect(lobby.locator(".room-activity")).to_have_text(
        "just now", timeout=10_000
    )
    await visitor.screenshot(path=artifacts / "index.png", full_page=True)

    await lobby.get_by_role("link").click()
    await expect(visitor).to_have_url(f"{server.http}/chat/lobby/")
    await expect(visitor.locator("#messages li.msg .text")).to_have_text(["first!"])

    await visitor.get_by_role("button", name="Log out").click()
    await expect(visitor).to_have_url(f"{server.http}/chat/")
    await expect(visitor.get_by_role("link", name="Log in")).to_be_visible()


async def test_two_users_chat_safely_and_reload_keeps_history(
    deployment, browser, artifacts
):
    """alice and bob each see the other's line under the right name, see who
    is online and who is typing; a message of HTML shows as text and runs
    nothing; an over-long one is refused with the reason and its text kept;
    a reload shows the same history."""
    d = deployment()
    create_users(d, "alice", "bob")
    server = d.server()
    alice = await open_page(browser, server)
    bob = await open_page(browser, server)
    await log_in_to_room(alice, server, "alice", "lobby")
    await log_in_to_room(bob, server, "bob", "lobby")

    for page in (alice, bob):
        await expect(page.locator("#online-list .online-name")).to_have_text(
            ["alice", "bob"]
        )

    await alice.get_by_label("Message #lobby").fill("hello bob")
    await expect(bob.locator("#typing")).to_have_text("alice is typing…")
    await alice.get_by_label("Message #lobby").press("Enter")
    await expect(bob.locator("#typing")).to_have_text("")
    await expect(bob.locator("#messages li.msg").last).to_contain_text("hello bob")

    # Shift+Enter is a new line inside the message; the button sends too.
    box = bob.get_by_label("Message #lobby")
    await box.type("hi alice")
    await box.press("Shift+Enter")
    await box.type("how are you?")
    await bob.get_by_role("button", name="Send").click()

    await send(alice, XSS)
    await expect(alice.locator("#messages li.msg")).to_have_count(3)
    # The room's log starts with its creation (a member event), so the first
    # message's seq is what it is; the next ones follow it without a gap.
    first = (await lines(alice))[0][0]
    expected = [
        [first, "alice", "hello bob"],
        [first + 1, "bob", "hi alice\nhow are you?"],
        [first + 2, "alice", XSS],
    ]
    for page in (alice, bob):
        await expect(page.locator("#messages li.msg")).to_have_count(3)
        assert await lines(page) == expected
        await expect(page.locator("#messages li.msg time[datetime]")).to_have_count(3)
        assert (
            await page.locator("#messages img, #messages script, #messages b").count()
            == 0
        )
        assert await page.evaluate("window.__xss") is None
    await expect(alice.locator("#messages li.msg.own")).to_have_count(2)
    await expect(bob.locator("#messages li.msg.own")).to_have_count(1)
    await expect(alice.locator("#pending li")).to_have_count(0)
    await alice.screenshot(path=artifacts / "room.png")

    too_long = "x" * 4001
    await send(alice, too_long)
    error = alice.locator("#composer-error")
    await expect(error).to_contain_text("the limit is 4000")
    await expect(alice.get_by_label("Message #lobby")).to_have_value(too_long)
    await alice.screenshot(path=artifacts / "room-refused.png")
    await expect(alice.locator("#pending li")).to_have_count(0)
    # Refused means not stored: the next post takes the next seq (no gap) and
    # is the only new line.
    await send(bob, "still here")
    await expect(alice.locator("#messages li.msg")).to_have_count(4)
    assert (await lines(alice))[-1] == [first + 3, "bob", "still here"]

    await bob.set_viewport_size(PHONE)
    await bob.reload()
    await connected(bob)
    await expect(bob.locator("#messages li.msg")).to_have_count(4)
    assert await lines(bob) == [*expected, [first + 3, "bob", "still here"]]
    await bob.screenshot(path=artifacts / "room-phone.png")


async def test_server_restart_resumes_without_loss_or_duplicates(
    deployment, browser, artifacts
):
    """The server restarts while two pages are open: both reconnect and resume;
    a line typed while it was down is sent once after the reconnect; a line
    posted while the pages were away arrives; each line shows exactly once."""
    d = deployment()
    carol_token = create_users(d, "alice", "bob", "carol")["carol"]
    server = d.server()
    alice = await open_page(browser, server)
    bob = await open_page(browser, server)
    await log_in_to_room(alice, server, "alice", "ops")
    await log_in_to_room(bob, server, "bob", "ops")
    await send(alice, "before 1")
    await send(bob, "before 2")
    for page in (alice, bob):
        await expect(page.locator("#messages li.msg")).to_have_count(2)

    server.stop()
    for page in (alice, bob):
        await expect(page.locator("#conn-status")).to_have_attribute(
            "data-state", "waiting"
        )
    await send(alice, "typed while down")
    queued = alice.locator("#pending li")
    await expect(queued).to_have_count(1)
    await expect(queued.locator(".status")).to_have_text("Waiting for connection…")
    await alice.screenshot(path=artifacts / "room-offline.png")

    restarted = d.server(port=server.port)
    carol = await ChatClient.connect(restarted.ws, "ops", carol_token)
    await carol.post("while you were away")
    await carol.next("message")

    for page in (alice, bob):
        await connected(page)
        await expect(page.locator("#messages li.msg")).to_have_count(4, timeout=10_000)
    await expect(queued).to_have_count(0)
    shown = {name: await lines(page) for name, page in (("alice", alice), ("bob", bob))}
    assert shown["alice"] == shown["bob"]
    seqs = [seq for seq, _, _ in shown["alice"]]
    assert seqs == list(range(seqs[0], seqs[0] + 4))  # no gap, none twice
    assert sorted(text for _, _, text in shown["alice"]) == sorted(
        ["before 1", "before 2", "typed while down", "while you were away"]
    )
    # Stored once on the server too: a fresh reader sees the same four lines.
    await carol.close()
    reader = await ChatClient.connect(restarted.ws, "ops", carol_token)
    assert [m["seq"] for m in reader.history["messages"]] == seqs
    await reader.close()


async def test_scrolling_up_loads_older_messages(deployment, browser, artifacts):
    """A room of 120 lines opens on the latest 50; scrolling up twice brings
    the rest, each once, in order, and then the start of the room."""
    d = deployment()
    carol_token = create_users(d, "alice", "carol")["carol"]
    server = d.server()
    carol = await ChatClient.connect(server.ws, "archive", carol_token)
    for n in range(1, 121):
        await carol.post(f"line {n}", client_id=f"line-{n}")
    for _ in range(120):
        await carol.next("ack")
    await carol.close()

    alice = await open_page(browser, server)
    await log_in_to_room(alice, server, "alice", "archive")
    shown = alice.locator("#messages li.msg")
    await expect(shown).to_have_count(50)
    await expect(shown.last).to_contain_text("line 120")

    scroll_to_top = "log => { log.scrollTop = 0; }"
    await alice.locator("#chat-log").evaluate(scroll_to_top)
    await expect(shown).to_have_count(100)
    await alice.locator("#chat-log").evaluate(scroll_to_top)
    await expect(shown).to_have_count(120)
    await expect(alice.locator("#log-start")).to_be_visible()
    seen = await lines(alice)
    assert [seq for seq, _, _ in seen] == list(range(1, 121))
    assert [text for _, _, text in seen] == [f"line {n}" for n in range(1, 121)]
    await alice.locator("#chat-log").evaluate(scroll_to_top)
    await alice.locator("#messages li.msg").nth(2).hover()
    await alice.screenshot(path=artifacts / "room-history-start.png")


async def test_resume_too_far_behind_reloads_the_view(deployment, browser):
    """A page that missed more than CHAT_RESUME_MAX lines gets complete=false
    on resume and reloads its view: every line once, none left out between
    the old view and the new lines; a deleted line says "message deleted"."""
    d = deployment(CHAT_RESUME_MAX=2, CHAT_HISTORY_ON_CONNECT=3)
    create_users(d, "alice")
    server = d.server()
    alice = await open_page(browser, server)
    await log_in_to_room(alice, server, "alice", "news")
    await send(alice, "one")
    await send(alice, "two")
    await expect(alice.locator("#messages li.msg")).to_have_count(2)

    server.stop()
    await expect(alice.locator("#conn-status")).to_have_attribute(
        "data-state", "waiting"
    )
    # Four lines stored while the page is away (more than CHAT_RESUME_MAX),
    # the second of them deleted by a moderator.
    d.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from chat.store.actions import store_post\n"
        "from chat.models import Message\n"
        "alice = get_user_model().objects.get(username='alice')\n"
        "for text in ['three', 'four', 'five', 'six']:\n"
        "    store_post('news', alice, text, None)\n"
        "Message.objects.filter(text='four').update(deleted_at=timezone.now())",
    )
    d.server(port=server.port)
    await connected(alice)
    # The reloaded view shows the latest page (4-6); the log is not full, so
    # the page pages back by itself (1-3). Appending 4-6 to the old view
    # instead would leave 3 out.
    await expect(alice.locator("#messages li.msg")).to_have_count(6)
    first = (await lines(alice))[0][0]  # after the room's own creation event
    assert await lines(alice) == [
        [first, "alice", "one"],
        [first + 1, "alice", "two"],
        [first + 2, "alice", "three"],
        [first + 3, "alice", "message deleted"],
        [first + 4, "alice", "five"],
        [first + 5, "alice", "six"],
    ]
    await expect(alice.locator("#messages li.deleted")).to_have_count(1)
