"""The team chat page (issues 12.5, 13.3, 14.5-6, 15) in a real Chromium
against a real server process: the v2 socket, rooms and DMs in the
sidebar, dialogs, unread and notifications, the message lifecycle, search
and uploads. Each test drives what people do and asserts what they see."""

import re

import httpx
import pytest

try:
    from playwright.async_api import Page, expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    Page = expect = None

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
    page = await context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
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
    return log(page, room).locator("li.msg", has_text=text)


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
    team, browser, artifacts
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

    # bob types a draft in general, and alice posts in the private room.
    await bob.locator("#chat-message-input").fill("half a thought")
    await send(alice, "the plan is **ready**")
    await expect(nav(bob, "secret").locator(".unread-badge")).to_have_text("1")
    await nav(bob, "secret").click()
    await expect(bob).to_have_url(f"{server.http}/chat/secret/")
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
    assert response.status == 404

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
    await alice.screenshot(path=artifacts / "team-private-room.png")

    # Phone width: the sidebar folds behind the "Rooms" button.
    phone = await open_page(browser, PHONE)
    await log_in(phone, server, "bob", "general")
    await expect(phone.locator("#sidebar")).to_be_hidden()
    await phone.get_by_role("button", name=re.compile("^Rooms")).click()
    await expect(phone.locator("#sidebar")).to_be_visible()
    await phone.screenshot(path=artifacts / "team-phone-sidebar.png")
    await nav(phone, "secret").click()
    await expect(phone.locator("#sidebar")).to_be_hidden()
    await expect(line(phone, "secret", "second thing")).to_be_visible()
