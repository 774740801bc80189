"""Accessibility, audited by a tool none of us wrote: axe-core in Chromium on
every view of the page, in the light and the dark theme, at desktop and phone
width; plus keyboard, screen-reader announcements and reduced motion.

Each audited view is also saved as a screenshot (artifacts/<view>-<theme>.png)
and the audit's findings per view in artifacts/axe-<theme>.json.
"""

import json
import re

import pytest

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

from testing.wsclient import ChatClient

from .conftest import create_users
from .test_page import DESKTOP, PHONE, log_in_to_room, send

BLOCKING = {"serious", "critical"}


def seed_room(d) -> None:
    """lobby with lines of two people, one deleted, so every kind of line shows."""
    d.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from chat.store.actions import store_post\n"
        "from chat.models import Message\n"
        "User = get_user_model()\n"
        "alice, bob = User.objects.get(username='alice'), User.objects.get(username='bob')\n"
        "store_post('lobby', bob, 'Morning! Is the release still on for Friday?', None)\n"
        "store_post('lobby', alice, 'Yes, the notes are in the wiki.', None)\n"
        "store_post('lobby', bob, 'oops, wrong room', None)\n"
        "store_post('lobby', bob, 'Great, thanks. I will read them after lunch.', None)\n"
        "Message.objects.filter(seq=3).update(deleted_at=timezone.now())",
    )


async def new_page(browser, theme: str, viewport=DESKTOP, **options):
    context = await browser.new_context(
        viewport=viewport, color_scheme=theme, **options
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_every_view_passes_axe_in_both_themes(
    deployment, browser, axe, artifacts, theme
):
    """axe-core finds no serious or critical violation on the sign-up page
    (with errors), a room (with an error under the composer), the settings
    panel, the index, the room switcher dialog, and at phone width the room
    with its online panel open; the system's colour scheme picks the theme."""
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    seed_room(d)
    server = d.server()
    findings: dict[str, list] = {}

    async def audit(page, view: str, full_page: bool = False) -> None:
        await page.screenshot(
            path=artifacts / f"{view}-{theme}.png", full_page=full_page
        )
        findings[view] = await axe(page)

    bob = await ChatClient.connect(server.ws, "lobby", tokens["bob"])
    page = await new_page(browser, theme)
    await page.goto(f"{server.http}/accounts/signup/")
    await page.get_by_label("Username").fill("carol")
    await page.get_by_label("Password:", exact=True).fill("123")
    await page.get_by_label("Password confirmation").fill("123")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator(".errorlist").first).to_be_visible()
    await audit(page, "signup-errors", full_page=True)

    await log_in_to_room(page, server, "alice", "lobby")
    # The theme follows the system: the page's background is the theme's.
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == (
        "rgb(244, 245, 247)" if theme == "light" else "rgb(15, 19, 26)"
    )
    await expect(page.locator("#messages li.msg")).to_have_count(4)
    await expect(page.locator("#online-list .online-name")).to_have_count(2)
    await audit(page, "room")

    await send(page, "x" * 4001)
    await expect(page.locator("#composer-error")).to_be_visible()
    await audit(page, "room-refused")
    await page.get_by_label(re.compile("^Message #")).fill("")

    await page.locator("#prefs summary").click()
    await expect(page.locator("#prefs-form")).to_be_visible()
    await audit(page, "settings")
    await page.keyboard.press("Escape")

    await page.goto(f"{server.http}/chat/")
    await expect(page.locator("#room-list li", has_text="lobby")).to_be_visible()
    await audit(page, "index")

    await page.keyboard.press("Control+k")
    await expect(page.locator("#switcher .switcher-room")).to_have_text(["#lobby"])
    await audit(page, "switcher")
    await page.keyboard.press("Escape")

    phone = await new_page(browser, theme, viewport=PHONE)
    await log_in_to_room(phone, server, "alice", "lobby")
    await expect(phone.locator("#messages li.msg")).to_have_count(4)
    await audit(phone, "room-phone")
    await phone.get_by_role("button", name=re.compile("online$")).click()
    await expect(phone.locator("#online-panel")).to_be_visible()
    await audit(phone, "online-panel-phone")
    await bob.close()

    (artifacts / f"axe-{theme}.json").write_text(json.dumps(findings, indent=2))
    summary = {
        view: sorted(f"{v['impact']}: {v['id']}" for v in found)
        for view, found in findings.items()
    }
    print(f"axe-core, {theme} theme:", json.dumps(summary, indent=2))
    blocking = {
        view: [v for v in found if v["impact"] in BLOCKING]
        for view, found in findings.items()
    }
    assert blocking == {view: [] for view in findings}


async def test_keyboard_escape_closes_panels_and_returns_focus(deployment, browser):
    """Esc closes the settings panel and the phone's online panel, and the
    focus goes back to the control that opened each."""
    d = deployment()
    create_users(d, "alice")
    server = d.server()
    page = await new_page(browser, "light", viewport=PHONE)
    await log_in_to_room(page, server, "alice", "lobby")

    toggle = page.locator("#online-toggle")
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#online-panel")).to_be_visible()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("Escape")
    await expect(page.locator("#online-panel")).to_be_hidden()
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await expect(toggle).to_be_focused()

    summary = page.locator("#prefs summary")
    await summary.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#prefs-form")).to_be_visible()
    await page.get_by_label("Dark").focus()
    await page.keyboard.press("Escape")
    await expect(page.locator("#prefs-form")).to_be_hidden()
    await expect(summary).to_be_focused()


async def test_new_messages_are_announced_once_per_burst(deployment, browser):
    """A screen reader hears one polite summary for a burst of lines ("3 new
    messages from bob"), the line itself for a single one, and nothing for
    one's own lines; the log is not itself a live region (it would read every
    line)."""
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    server = d.server()
    page = await new_page(browser, "light")
    await log_in_to_room(page, server, "alice", "lobby")
    announcer = page.locator("#announcer")
    await expect(announcer).to_have_attribute("aria-live", "polite")
    await expect(page.locator("#chat-log")).to_have_attribute("aria-live", "off")
    # Every text the announcer is given, in order.
    await page.evaluate(
        """() => {
            window.__said = [];
            new MutationObserver(() => window.__said.push(
                document.getElementById("announcer").textContent
            )).observe(document.getElementById("announcer"), {childList: true});
        }"""
    )

    bob = await ChatClient.connect(server.ws, "lobby", tokens["bob"])
    for n in (1, 2, 3):
        await bob.post(f"line {n}")
        await bob.next("message")
    await expect(announcer).to_have_text("3 new messages from bob")
    await send(page, "mine")
    await expect(page.locator("#messages li.msg")).to_have_count(4)
    await bob.post("just this")
    await expect(announcer).to_have_text("bob: just this")
    assert await page.evaluate("window.__said") == [
        "3 new messages from bob",
        "bob: just this",
    ]
    await bob.close()


async def test_reduced_motion_turns_transitions_off(deployment, browser):
    """With prefers-reduced-motion, the page's transitions take no time."""
    d = deployment()
    server = d.server()
    durations = {}
    for motion in ("no-preference", "reduce"):
        page = await new_page(browser, "light", reduced_motion=motion)
        await page.goto(f"{server.http}/chat/")
        durations[motion] = await page.evaluate(
            "getComputedStyle(document.querySelector('.primary')).transitionDuration"
        )
    assert durations["no-preference"].startswith("0.15s")
    assert all(float(d[:-1]) < 0.001 for d in durations["reduce"].split(", "))


async def test_ctrl_k_switches_rooms_from_the_keyboard(deployment, browser):
    """Ctrl+K opens the room switcher with the focus in its box; typing
    filters the active rooms; Enter goes to the room; Esc closes it and the
    focus goes back where it was."""
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    server = d.server()
    for room in ("lobby", "dev", "design"):
        bob = await ChatClient.connect(server.ws, room, tokens["bob"])
        await bob.post(f"hello {room}")
        await bob.next("message")
        await bob.close()
    page = await new_page(browser, "dark")
    await log_in_to_room(page, server, "alice", "lobby")
    box = page.get_by_label(re.compile("^Message #"))
    await box.focus()

    await page.keyboard.press("Control+k")
    switcher = page.get_by_role("dialog", name="Go to a room")
    await expect(switcher).to_be_visible()
    await expect(page.get_by_label("Room name")).to_be_focused()
    await expect(switcher.locator(".switcher-room")).to_have_count(3)
    await page.keyboard.type("de")
    # Most recently active first, as on the index.
    await expect(switcher.locator(".switcher-room")).to_have_text(["#design", "#dev"])
    await page.keyboard.press("Escape")
    await expect(switcher).to_be_hidden()
    await expect(box).to_be_focused()

    await page.keyboard.press("Control+k")
    await page.keyboard.type("desi")
    await expect(switcher.locator(".switcher-room")).to_have_text(["#design"])
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{server.http}/chat/design/")
    await expect(page.locator("#messages li.msg .text")).to_have_text(["hello design"])
