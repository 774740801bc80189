"""The rough edges of issue 19, each as a person meets it, and the
installable app: favicon, manifest, a service worker caching static files
only."""

import re

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

import httpx

from testing.wsclient import ChatClient

from .conftest import PASSWORD, create_users
from .test_page import PHONE, log_in_to_room, open_page, send

AT_NEWEST = """() => {
    const log = document.getElementById("chat-log");
    return log.scrollHeight - log.scrollTop - log.clientHeight < 2;
}"""
LONG_PASTE = "\n".join(f"pasted line {n}" for n in range(1, 13))


async def room_with_lines(deployment, browser, count: int = 40):
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    server = d.server()
    bob = await ChatClient.connect(server.ws, "lobby", tokens["bob"])
    for n in range(1, count + 1):
        await bob.post(f"line {n}", client_id=f"line-{n}")
    for _ in range(count):
        await bob.next("ack")
    await bob.close()
    page = await open_page(browser, server)
    await log_in_to_room(page, server, "alice", "lobby")
    await expect(page.locator("#messages li.msg")).to_have_count(count)
    await page.wait_for_function(AT_NEWEST)
    return server, page


async def test_log_stays_at_newest_line_after_a_long_paste(deployment, browser):
    """Pasting a long text grows the box and shrinks the log: the newest line
    stays in view, with no "New messages" button."""
    _, page = await room_with_lines(deployment, browser)
    box = page.get_by_label("Message #lobby")
    height = await box.evaluate("box => box.offsetHeight")
    await box.fill(LONG_PASTE)
    await page.wait_for_function(
        "h => document.getElementById('chat-message-input').offsetHeight > h + 50",
        arg=height,
    )
    await page.wait_for_function(AT_NEWEST, timeout=3_000)
    await expect(page.locator("#jump-latest")).to_be_hidden()


async def test_log_stays_at_newest_line_after_a_refused_post(
    deployment, browser, artifacts
):
    """A "Not sent" error under the composer, and the refused text back in the
    box, leave the newest line in view, with no "New messages" button.

    (In Chromium 156 the seed page passes this one too: removing the pending
    line clamps the scroll; the paste test above is the one that caught the
    seed's bug. Kept: it is the other way the issue saw the log move.)"""
    _, page = await room_with_lines(deployment, browser)
    await send(page, "y" * 4001)
    await expect(page.locator("#composer-error")).to_contain_text("Not sent")
    await page.wait_for_function(AT_NEWEST, timeout=3_000)
    await expect(page.locator("#messages li.msg").last).to_be_in_viewport()
    await expect(page.locator("#jump-latest")).to_be_hidden()

    await page.screenshot(path=artifacts / "room-refused-at-newest.png")


async def test_phone_header_online_count_reads_as_one_phrase(deployment, browser):
    """At phone width the "2 online" button shows the number and the word one
    space apart (no flex gap plus a no-break space between them)."""
    d = deployment()
    create_users(d, "alice", "bob")
    server = d.server()
    alice = await open_page(browser, server, viewport=PHONE)
    bob = await open_page(browser, server, viewport=PHONE)
    await log_in_to_room(alice, server, "alice", "lobby")
    await log_in_to_room(bob, server, "bob", "lobby")
    toggle = alice.locator("#online-toggle")
    await expect(toggle).to_have_text("2 online")
    gap, font_size = await toggle.evaluate(
        """toggle => {
            const chars = [];
            const walker = document.createTreeWalker(toggle, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode;
                for (let i = 0; i < node.data.length; i++) chars.push([node, i]);
            }
            const text = chars.map(([node, i]) => node.data[i]).join("");
            const match = /(\\d)(\\s*)o/.exec(text);
            const box = ([node, i]) => {
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                return range.getBoundingClientRect();
            };
            const digit = box(chars[match.index]);
            const letter = box(chars[match.index + 1 + match[2].length]);
            return [letter.left - digit.right, parseFloat(getComputedStyle(toggle).fontSize)];
        }"""
    )
    assert 0 < gap <= 0.4 * font_size, f"{gap}px between the number and the word"


async def test_sign_up_errors_show_under_their_own_field(deployment, browser):
    """A weak password's error shows under Password, not under Password
    confirmation; a mismatch shows under the confirmation."""
    d = deployment()
    server = d.server()
    page = await open_page(browser, server)
    await page.goto(f"{server.http}/accounts/signup/")

    def errors_of(field_id: str):
        return page.locator(f"div:has(> #{field_id}) .errorlist")

    await page.get_by_label("Username").fill("carol")
    await page.get_by_label("Password:", exact=True).fill("123")
    await page.get_by_label("Password confirmation").fill("123")
    await page.get_by_role("button", name="Sign up").click()
    await expect(errors_of("id_password1")).to_contain_text("too short")
    await expect(errors_of("id_password2")).to_have_count(0)
    await expect(page.locator("#id_password1")).to_have_attribute(
        "aria-invalid", "true"
    )

    await page.get_by_label("Password:", exact=True).fill(PASSWORD)
    await page.get_by_label("Password confirmation").fill(PASSWORD + "!")
    await page.get_by_role("button", name="Sign up").click()
    await expect(errors_of("id_password2")).to_contain_text("didn’t match")
    await expect(errors_of("id_password1")).to_have_count(0)


async def test_favicon_is_served_and_no_page_asks_for_a_missing_file(
    deployment, browser
):
    """/favicon.ico answers with an icon; the index, log-in and room pages
    load with no 4xx or 5xx for any file they use."""
    d = deployment()
    create_users(d, "alice")
    server = d.server()
    async with httpx.AsyncClient(base_url=server.http) as http:
        icon = await http.get("/favicon.ico", follow_redirects=True)
        assert icon.status_code == 200
        assert icon.headers["content-type"] in (
            "image/x-icon",
            "image/vnd.microsoft.icon",
        )
        assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = await open_page(browser, server)
    failed: list[str] = []

    def note_failure(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", note_failure)
    await page.goto(f"{server.http}/chat/")
    await log_in_to_room(page, server, "alice", "lobby")
    await page.wait_for_load_state("networkidle")
    assert failed == []
    icons = await page.locator("link[rel=icon]").evaluate_all(
        "links => links.map(l => l.href)"
    )
    assert any(href.endswith("favicon.ico") for href in icons)


async def test_installable_app_caches_static_files_only(deployment, browser):
    """The manifest names the app, its start page and icons (which load); a
    service worker takes the page and its cache holds only /static/ files,
    never a page, the room list, the API or the socket."""
    d = deployment()
    create_users(d, "alice")
    server = d.server()
    async with httpx.AsyncClient(base_url=server.http) as http:
        manifest = (await http.get("/manifest.webmanifest")).json()
        assert manifest["start_url"] == "/chat/"
        assert manifest["display"] == "standalone"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            assert (await http.get(icon["src"])).status_code == 200
        worker = await http.get("/sw.js")
        assert worker.headers["content-type"].startswith("text/javascript")

    page = await open_page(browser, server)
    await log_in_to_room(page, server, "alice", "lobby")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await send(page, "hello")
    await expect(page.locator("#messages li.msg")).to_have_count(1)
    await page.goto(f"{server.http}/chat/")
    await expect(page.locator("#room-list li", has_text="lobby")).to_be_visible()
    await page.evaluate("fetch('/chat/rooms.json').then(r => r.json())")
    cached = await page.evaluate(
        """async () => {
            const urls = [];
            for (const key of await caches.keys()) {
                const cache = await caches.open(key);
                for (const request of await cache.keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    paths = [re.sub(r"^https?://[^/]+", "", url) for url in cached]
    assert "/static/chat/app.js" in paths and "/static/chat/chat.css" in paths
    assert [p for p in paths if not p.startswith("/static/")] == []
