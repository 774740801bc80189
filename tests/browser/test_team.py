"""The team chat page (issues 12.5, 13.3, 14.5-6, 15) in a real Chromium
against a real server process: the v2 socket, rooms and DMs in the
sidebar, dialogs, unread and notifications, the message lifecycle, search
and uploads. Each test drives what people do and asserts what they see."""

import re

import httpx
import pytest

try:
    from playwright.async_api import FilePayload, Page, expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    FilePayload = Page = expect = None  # type: ignore[misc, assignment]

from .conftest import PASSWORD, create_users

DESKTOP = {"width": 1200, "height": 760}
PHONE = {"width": 375, "height": 740}

# Records every desktop notification the page shows (the real API still
# runs; Playwright's context grants the permission).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({title, body: (options || {}).body || ""});
    }
  }
  Object.defineProperty(Recorded, "permission", {get: () => Real.permission});
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
})();
"""


PAGE_ERRORS: list[str] = []


@pytest.fixture(autouse=True)
def no_page_errors():
    """No test passes with a script error on a page."""
    PAGE_ERRORS.clear()
    yield
    assert PAGE_ERRORS == []


class Api:
    """The HTTP API as a user (bearer token): setting the scene quickly."""

    def __init__(self, server, token: str) -> None:
        self.client = httpx.Client(
            base_url=f"{server.http}/api/v1/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def __call__(self, method: str, path: str, **kwargs) -> dict:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    def post(self, room: str, text: str, **extra) -> dict:
        return self("POST", f"rooms/{room}/messages", json={"message": text, **extra})


async def open_page(browser, viewport=DESKTOP, notifications=False) -> Page:
    context = await browser.new_context(
        viewport=viewport,
        permissions=["notifications"] if notifications else [],
    )
    if notifications:
        await context.add_init_script(RECORD_NOTIFICATIONS)
    # The strict Content-Security-Policy: any violation fails the test.
    await context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.on(
        "console",
        lambda m: PAGE_ERRORS.append(m.text) if "CSP violation" in m.text else None,
    )
    return page


async def log_in(page: Page, server, username: str, room: str) -> None:
    await page.goto(f"{server.http}/accounts/login/?next=/chat/{room}/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.http}/chat/{room}/")
    await online(page)


async def online(page: Page) -> None:
    await expect(page.locator("#conn-status")).to_have_attribute(
        "data-state", "online", timeout=15_000
    )


def nav(page: Page, room: str):
    return page.locator(f'#sidebar .nav-item[data-room="{room}"]')


def log(page: Page, room: str):
    return page.locator(f'.chat-log[data-room="{room}"]')


def line(page: Page, room: str, text: str):
    return log(page, room).locator("li.msg[data-seq]", has_text=text)


async def send(page: Page, text: str) -> None:
    box = page.locator("#chat-message-input")
    await box.fill(text)
    await box.press("Enter")


@pytest.fixture
def team(deployment):
    d = deployment()
    tokens = create_users(d, "alice", "bob", "carol")
    server = d.server()
    apis = {name: Api(server, token) for name, token in tokens.items()}
    apis["alice"]("POST", "rooms", json={"name": "general", "topic": "all of us"})
    for name in ("bob", "carol"):
        apis[name]("PUT", f"rooms/general/members/{name}")
    return server, apis


async def test_private_room_invite_outsider_dm_and_background_rooms(
    team, browser, artifacts, axe
):
    """alice creates a private room and adds bob, who sees it appear in his
    sidebar; carol finds it neither in her list nor in the public rooms and
    gets a 404 by URL; alice opens a DM with bob; bob, reading one room,
    sees the others get unread badges, and switching keeps his draft."""
    server, api = team
    alice = await open_page(browser)
    await log_in(alice, server, "alice", "general")
    await expect(alice.locator("#room-topic")).to_have_text("all of us")
    bob = await open_page(browser)
    await log_in(bob, server, "bob", "general")

    await alice.get_by_role("button", name="New room").click()
    await alice.get_by_label("Name", exact=True).fill("secret")
    await alice.get_by_label("Private: only people added to it").check()
    await alice.get_by_role("button", name="Create").click()
    await expect(alice).to_have_url(f"{server.http}/chat/secret/")
    await expect(nav(alice, "secret")).to_have_attribute("class", re.compile("active"))
    await alice.get_by_role("button", name="Members").click()
    await alice.get_by_label("Add someone by username").fill("bob")
    await alice.get_by_role("button", name="Add", exact=True).click()
    await expect(alice.locator("#member-list")).to_contain_text("bob")
    await expect(nav(bob, "secret")).to_be_visible()  # live, without a reload
    await alice.get_by_role("button", name="Edit topic").click()
    await alice.get_by_label("Topic", exact=True).fill("launch <b>plans</b>")
    await alice.get_by_label("Topic", exact=True).press("Enter")
    await expect(alice.locator("#room-topic")).to_have_text("launch <b>plans</b>")

    # bob types a draft in general, and alice posts in the private room.
    await bob.locator("#chat-message-input").fill("half a thought")
    await send(alice, "the plan is **ready**")
    await expect(nav(bob, "secret").locator(".unread-badge")).to_have_text("1")
    await nav(bob, "secret").click()
    await expect(bob).to_have_url(f"{server.http}/chat/secret/")
    await expect(bob.locator("#room-topic")).to_have_text("launch <b>plans</b>")
    await expect(
        line(bob, "secret", "the plan is ready").locator("strong")
    ).to_have_text("ready")
    await expect(bob.locator("#chat-message-input")).to_have_value("")
    await expect(nav(bob, "secret").locator(".unread-badge")).to_have_count(0)
    await nav(bob, "general").click()
    await expect(bob.locator("#chat-message-input")).to_have_value("half a thought")

    # carol: not in her list, not among public rooms, 404 by URL.
    carol = await open_page(browser)
    await log_in(carol, server, "carol", "general")
    await expect(nav(carol, "general")).to_be_visible()
    await expect(nav(carol, "secret")).to_have_count(0)
    await carol.get_by_role("button", name="Browse").click()
    await expect(carol.locator("#public-rooms")).to_contain_text("#general")
    await expect(carol.locator("#public-rooms")).not_to_contain_text("secret")
    await carol.keyboard.press("Escape")
    response = await carol.goto(f"{server.http}/chat/secret/")
    assert response is not None and response.status == 404

    # A DM: alice opens it by username; bob's sidebar lists it with a badge.
    await alice.get_by_role("button", name="Message…").click()
    await alice.get_by_label("Usernames").fill("bob")
    await alice.get_by_role("button", name="Open").click()
    await expect(alice).to_have_url(re.compile(r"/chat/dm-[^/]+/$"))
    dm = alice.url.rstrip("/").rsplit("/", 1)[1]
    await expect(alice.locator("#room-name")).to_have_text("bob")
    await send(alice, "psst, bob")
    dm_item = bob.locator("#dm-nav .nav-item", has_text="alice")
    await expect(dm_item.locator(".unread-badge")).to_have_text("1")
    # Messages keep arriving in the background while bob reads general.
    api["alice"].post("secret", "second thing")
    await expect(nav(bob, "secret").locator(".unread-badge")).to_have_text("1")
    await expect(line(bob, "general", "")).to_have_count(0)
    await dm_item.click()
    await expect(bob).to_have_url(f"{server.http}/chat/{dm}/")
    await expect(line(bob, dm, "psst, bob")).to_be_visible()
    await bob.screenshot(path=artifacts / "team-dm.png")
    # axe-core: the page with a room, badges and a DM, and with a side panel.
    assert await axe(bob) == []
    await alice.get_by_role("button", name="Members").click()
    assert await axe(alice) == []
    await alice.screenshot(path=artifacts / "team-private-room.png")

    # Keyboard: Alt+Down and Alt+Up walk the sidebar.
    await bob.locator("#chat-message-input").focus()
    order = await bob.locator("#sidebar .nav-item").evaluate_all(
        "items => items.map(i => i.dataset.room)"
    )
    at = order.index(dm)
    if at + 1 < len(order):
        await bob.keyboard.press("Alt+ArrowDown")
        await expect(bob).to_have_url(f"{server.http}/chat/{order[at + 1]}/")
        await bob.keyboard.press("Alt+ArrowUp")
        await expect(bob).to_have_url(f"{server.http}/chat/{dm}/")

    # A name that is no room yet becomes a public room (the index's "Enter
    # or create a room").
    await carol.goto(f"{server.http}/chat/newplace/")
    await online(carol)
    await expect(nav(carol, "newplace")).to_be_visible()
    await send(carol, "first!")
    await expect(line(carol, "newplace", "first!")).to_be_visible()

    # Phone width: the sidebar folds behind the "Rooms" button.
    phone = await open_page(browser, PHONE)
    await log_in(phone, server, "bob", "general")
    await expect(phone.locator("#sidebar")).to_be_hidden()
    await phone.get_by_role("button", name=re.compile("^Rooms")).click()
    await expect(phone.locator("#sidebar")).to_be_visible()
    await phone.screenshot(path=artifacts / "team-phone-sidebar.png")
    assert await axe(phone) == []
    await nav(phone, "secret").click()
    await expect(phone.locator("#sidebar")).to_be_hidden()
    await expect(line(phone, "secret", "second thing")).to_be_visible()

    # The owner removes bob: the room leaves his sidebar on every device,
    # and the open one says why.
    await nav(alice, "secret").click()
    if not await alice.locator("#members-panel").is_visible():
        await alice.get_by_role("button", name="Members").click()
    await alice.get_by_role("button", name="Remove bob").click()
    await expect(alice.locator("#member-list")).not_to_contain_text("bob")
    await expect(nav(bob, "secret")).to_have_count(0)
    await expect(phone.locator("#room-notice")).to_have_text(
        "You are no longer a member of #secret."
    )
    await phone.screenshot(path=artifacts / "team-phone-removed.png")
    await expect(phone.locator("#composer-error")).to_be_hidden()


def summary(api: Api, room: str) -> dict:
    return api("GET", f"rooms/{room}")


async def test_badges_divider_notifications_and_mentions(team, browser, artifacts):
    """bob reads general while alice writes in dev: dev gets an unread and a
    mention badge, the tab title and favicon carry the total, a desktop
    notification says who mentioned him; nothing is marked read until bob
    opens dev, where a divider stands before the first new line and the
    mention is highlighted; then the badges go. Set to "Nothing", dev stays
    quiet."""
    server, api = team
    api["alice"]("POST", "rooms", json={"name": "dev"})
    api["bob"]("PUT", "rooms/dev/members/bob")
    old = api["alice"].post("dev", "old news")
    api["bob"]("POST", "rooms/dev/read", json={"seq": old["seq"]})

    bob = await open_page(browser, notifications=True)
    await log_in(bob, server, "bob", "general")
    await expect(nav(bob, "dev")).to_be_visible()
    api["alice"].post("dev", "first new thing")
    api["alice"].post("dev", "second new thing")
    api["alice"].post("dev", "@bob can you look?")
    badge = nav(bob, "dev").locator(".unread-badge")
    await expect(badge).to_have_text("3")
    await expect(nav(bob, "dev").locator(".mention-badge")).to_have_text("@1")
    await expect(bob).to_have_title("(3) #general · Chat")
    await expect(bob.locator("link#unread-icon")).to_have_attribute("data-count", "3")
    notes = await bob.evaluate("window.__notes")
    assert {
        "title": "alice mentioned you in #dev",
        "body": "@bob can you look?",
    } in notes
    assert {"title": "alice in #dev", "body": "first new thing"} in notes
    # Not read before it was on screen.
    assert summary(api["bob"], "dev")["last_read_seq"] == old["seq"]
    await bob.screenshot(path=artifacts / "team-badges.png")

    await nav(bob, "dev").click()
    dev = log(bob, "dev")
    divider = dev.locator(".unread-divider")
    await expect(divider).to_have_text("New since you left")
    after = await divider.evaluate("d => d.nextElementSibling.textContent")
    assert "first new thing" in after
    before = await divider.evaluate("d => d.previousElementSibling.textContent")
    assert "old news" in before
    await expect(line(bob, "dev", "can you look")).to_have_class(
        re.compile(r"\bmention\b")
    )
    await bob.screenshot(path=artifacts / "team-divider-mention.png")
    await expect(badge).to_have_count(0)
    await expect(bob).to_have_title("#dev · Chat")
    await expect(bob.locator("link#unread-icon")).to_have_count(0)
    assert summary(api["bob"], "dev")["unread"] == 0

    # The room's level: "Nothing" silences it (the badge still counts).
    async with bob.expect_response(lambda r: r.request.method == "PATCH") as patched:
        await bob.get_by_label("Notify me about").select_option("none")
    assert (await patched.value).ok
    assert summary(api["bob"], "dev")["notify"] == "none"
    await nav(bob, "general").click()
    count = len(await bob.evaluate("window.__notes"))
    api["alice"].post("dev", "@bob again?")
    await expect(badge).to_have_text("1")
    assert len(await bob.evaluate("window.__notes")) == count

    # Lines below the fold are not read until they are scrolled to.
    for n in range(39):
        api["alice"].post("dev", f"line {n}")
    await expect(badge).to_have_text("40")
    await nav(bob, "dev").click()
    await expect(badge).not_to_have_text("40")  # the lines on screen are read
    await expect(badge).to_be_visible()  # ... and only those
    unread = int(await badge.text_content())
    assert 0 < unread < 40
    await log(bob, "dev").evaluate("l => { l.scrollTop = l.scrollHeight; }")
    await expect(badge).to_have_count(0)


XSS = [
    "[click me](javascript:window.__xss=1)",
    "[upper](JAVASCRIPT:window.__xss=2)",
    '<img src=x onerror="window.__xss=3">',
    "**<script>window.__xss=4</script>** *nested **deep** _mix_*",
    '<div>\n<iframe src="javascript:window.__xss=5"></iframe>\n</div>',
    "![pic](javascript:window.__xss=6) <javascript:window.__xss=7>",
    '> quoted <a href="javascript:window.__xss=8">a</a>\n\n- one\n- `two`',
    "see https://example.com/x?a=1 and ~~old~~",
]


async def test_message_lifecycle_markdown_and_xss(team, browser, artifacts, axe):
    """Edit inline (Enter saves, "(edited)"), react from the picker and by
    a chip (counts, who), reply in a thread (and also to the room), delete
    (a tombstone); Markdown renders, and hostile input stays inert."""
    server, api = team
    alice = await open_page(browser)
    await log_in(alice, server, "alice", "general")
    bob = await open_page(browser)
    await log_in(bob, server, "bob", "general")

    await send(alice, "first drfat")
    await expect(line(alice, "general", "first drfat")).to_be_visible()
    seq = await line(alice, "general", "first drfat").get_attribute("data-seq")
    mine = log(alice, "general").locator(f'li.msg[data-seq="{seq}"]')
    await mine.hover()
    await mine.get_by_role("button", name="Edit").click()
    box = mine.get_by_label("Edit message")
    await box.fill("first draft, *fixed*")
    await box.press("Enter")
    theirs = line(bob, "general", "first draft, fixed")
    await expect(theirs.locator(".edited")).to_have_text("(edited)")
    await expect(theirs.locator("em")).to_have_text("fixed")
    # Esc cancels an edit.
    await mine.hover()
    await mine.get_by_role("button", name="Edit").click()
    await mine.get_by_label("Edit message").fill("never sent")
    await mine.get_by_label("Edit message").press("Escape")
    await expect(mine.locator(".text")).to_have_text("first draft, fixed")

    await theirs.hover()
    await theirs.get_by_role("button", name="Add reaction").click()
    await bob.get_by_role("button", name="React with 🎉").click()
    chip = mine.locator("button.reaction", has_text="🎉")
    await expect(chip).to_have_text("🎉1")
    await expect(chip).to_have_attribute("title", "bob")
    await chip.click()
    await expect(chip).to_have_text("🎉2")
    await expect(chip).to_have_attribute("aria-pressed", "true")
    await expect(theirs.locator("button.reaction")).to_have_attribute(
        "title", "bob, alice"
    )

    await theirs.hover()
    await theirs.get_by_role("button", name="Reply in thread").click()
    await bob.get_by_label("Your reply").fill("a reply in the thread")
    await bob.get_by_label("Also send to room").check()
    await bob.get_by_role("button", name="Reply", exact=True).click()
    await expect(bob.locator("#thread-messages")).to_contain_text(
        "a reply in the thread"
    )
    await expect(mine.locator(".thread-link")).to_have_text("1 reply")
    echo = line(alice, "general", "in a thread")
    await expect(echo.locator("a")).to_have_attribute(
        "href", re.compile(r"/chat/general/#\d+$")
    )
    await mine.locator(".thread-link").click()
    await expect(alice.locator("#thread-messages")).to_contain_text(
        "a reply in the thread"
    )
    await alice.screenshot(path=artifacts / "team-thread-reactions.png")
    assert await axe(alice) == []  # reactions, a thread panel, Markdown

    await mine.hover()
    await mine.get_by_role("button", name="Delete").click()
    await alice.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    tomb = log(bob, "general").locator("li.msg.deleted")
    await expect(tomb.locator(".text")).to_have_text("message deleted")
    await expect(tomb.locator(".reaction")).to_have_count(0)

    for text in XSS:
        api["alice"].post("general", text)
    await expect(
        line(bob, "general", "~~old~~").or_(line(bob, "general", "see https"))
    ).to_be_visible()
    rendered = await log(bob, "general").evaluate(
        """l => ({
            xss: window.__xss,
            bad: l.querySelectorAll('img:not(.thumb), script, iframe, div.md div, [onerror]').length,
            hrefs: [...l.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.rel]),
            strong: [...l.querySelectorAll('.md strong')].map(s => s.textContent),
            code: [...l.querySelectorAll('.md code')].map(s => s.textContent),
            s: [...l.querySelectorAll('.md s')].map(s => s.textContent),
        })"""
    )
    assert rendered["xss"] is None
    assert rendered["bad"] == 0
    assert rendered["hrefs"] and all(
        href.startswith(("https://", "http://"))
        and rel == "noopener noreferrer nofollow"
        for href, rel in rendered["hrefs"]
    ), rendered["hrefs"]
    assert "<script>window.__xss=4</script>" in rendered["strong"]
    assert "two" in rendered["code"] and "old" in rendered["s"]
    await expect(
        line(bob, "general", '<img src=x onerror="window.__xss=3">')
    ).to_be_visible()
    await bob.screenshot(path=artifacts / "team-markdown-xss.png")


PNG_PASTE = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext("2d");
  g.fillStyle = "#e8590c"; g.fillRect(0, 0, 64, 48);
  const blob = await new Promise(r => canvas.toBlob(r, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "orange.png", {type: "image/png"}));
  const box = document.getElementById("chat-message-input");
  box.focus();
  box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


DROP_TEXT_FILE = """() => {
  const data = new DataTransfer();
  data.items.add(new File(["the plan"], "plan.txt", {type: "text/plain"}));
  const target = document.querySelector(".room-main");
  for (const type of ["dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


async def test_search_jump_and_pasted_image(team, browser, artifacts, axe):
    """bob searches: the hit's words are marked, and a click opens the old
    message in context (older pages loaded); a pasted image is uploaded,
    shown under the box, posted, and shown as a thumbnail to others."""
    server, api = team
    needle = api["alice"].post("general", "the deploy key is in the vault")
    for n in range(60):
        last = api["alice"].post("general", f"filler {n}")
    api["bob"]("POST", "rooms/general/read", json={"seq": last["seq"]})
    bob = await open_page(browser)
    await log_in(bob, server, "bob", "general")
    await expect(line(bob, "general", "filler 59")).to_be_visible()
    await expect(line(bob, "general", "vault")).to_have_count(
        0
    )  # not on the first page

    await bob.get_by_label("Search messages").fill("vault from:alice")
    await bob.get_by_label("Search messages").press("Enter")
    hit = bob.locator("#search-results .search-hit")
    await expect(hit).to_have_count(1)
    await expect(hit.locator("mark")).to_have_text("vault")
    await bob.screenshot(path=artifacts / "team-search.png")
    assert await axe(bob) == []  # search results with <mark>
    await hit.get_by_role("button").click()
    target = line(bob, "general", "the deploy key is in the vault")
    await expect(target).to_have_class(re.compile(r"\btarget\b"))
    await expect(target).to_be_in_viewport()
    assert bob.url.endswith(f"/chat/general/#{needle['seq']}")
    # The permalink opened as a page does the same.
    carol = await open_page(browser)
    await log_in(carol, server, "carol", "general")
    await carol.goto("about:blank")  # a load, not a same-page hash change
    await carol.goto(f"{server.http}/chat/general/#{needle['seq']}")
    target = line(carol, "general", "the deploy key is in the vault")
    await expect(target).to_have_class(re.compile(r"\btarget\b"))
    await expect(target).to_be_in_viewport()
    await carol.context.close()

    alice = await open_page(browser)
    await log_in(alice, server, "alice", "general")
    await alice.evaluate(PNG_PASTE)
    waiting = alice.locator("#attachments-pending li")
    await expect(waiting).to_have_attribute("data-state", "done")
    await expect(waiting.locator("img")).to_have_count(1)
    await alice.locator("#chat-message-input").fill("an orange square")
    await alice.locator("#chat-message-input").press("Enter")
    posted = line(bob, "general", "an orange square")
    # bob is reading older lines: a button offers the new one, no jump.
    await expect(bob.get_by_role("button", name="New messages ↓")).to_be_visible()
    await bob.get_by_role("button", name="New messages ↓").click()
    thumb = posted.locator("img.thumb")
    await expect(thumb).to_have_attribute("alt", "orange.png")
    assert await thumb.evaluate("i => i.complete && i.naturalWidth > 0")
    await expect(waiting).to_have_count(0)
    await posted.scroll_into_view_if_needed()
    await bob.screenshot(path=artifacts / "team-upload.png")

    # Dropping a file on the room, and the button: both wait under the box;
    # a post of files only takes their names; other files are download links.
    await alice.evaluate(DROP_TEXT_FILE)
    await alice.locator("#upload-input").set_input_files(
        files=[FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"n" * 2048)]
    )
    await expect(waiting).to_have_count(2)
    for n in range(2):
        await expect(waiting.nth(n)).to_have_attribute("data-state", "done")
    await alice.get_by_role("button", name="Send").click()
    both = line(bob, "general", "plan.txt, notes.txt")
    await expect(both.locator("a[download]")).to_have_count(2)
    await expect(both.locator("a[download]").nth(1)).to_contain_text(
        "notes.txt (2.0 KB)"
    )


async def test_mentions_view_lists_and_opens_mentions(team, browser):
    """The sidebar's Mentions button lists the messages that name bob (or
    everyone) in his rooms, newest first; a click opens one in context."""
    server, api = team
    first = api["alice"].post("general", "@bob can you look at the release?")
    api["alice"].post("general", "nothing for bob here")
    api["carol"].post("general", "@room lunch at noon")
    bob = await open_page(browser)
    await log_in(bob, server, "bob", "general")
    await bob.get_by_role("button", name="Mentions").click()
    hits = bob.locator("#search-results .search-hit")
    await expect(hits).to_have_count(2)
    await expect(hits.nth(0)).to_contain_text("@room lunch at noon")
    await expect(hits.nth(1)).to_contain_text("@bob can you look at the release?")
    await expect(bob.locator("#search-status")).to_have_text("2 messages mention you")
    await hits.nth(1).get_by_role("button").click()
    target = line(bob, "general", "@bob can you look at the release?")
    await expect(target).to_have_class(re.compile(r"\btarget\b"))
    assert bob.url.endswith(f"/chat/general/#{first['seq']}")


async def test_opening_a_public_room_by_its_url_joins_it(team, browser):
    """carol opens a public room she is not in by its URL: she joins it, and
    it shows in her sidebar, as entering a room always did."""
    server, api = team
    api["bob"]("POST", "rooms", json={"name": "music", "kind": "public"})
    api["bob"].post("music", "anyone for a playlist?")
    carol = await open_page(browser)
    await log_in(carol, server, "carol", "music")
    await expect(line(carol, "music", "anyone for a playlist?")).to_be_visible()
    await expect(nav(carol, "music")).to_be_visible()
    details = api["carol"]("GET", "rooms/music")
    assert "carol" in details.get("members", []) or details.get("member") is True
