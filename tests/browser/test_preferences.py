"""Theme and language as a person meets them: the theme switch is remembered
for the user on the server (another device gets it), the page speaks German
when the browser asks for it (templates, scripts, dates), and a chosen
language wins over the browser's."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

from testing.wsclient import ChatClient

from .conftest import PASSWORD, create_users
from .test_page import DESKTOP, connected, log_in_to_room

DARK_BG = "rgb(15, 19, 26)"
LIGHT_BG = "rgb(244, 245, 247)"


async def device(browser, **options):
    context = await browser.new_context(viewport=DESKTOP, **options)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def background(page) -> str:
    return await page.evaluate("getComputedStyle(document.body).backgroundColor")


async def test_theme_switch_is_remembered_for_the_user(deployment, browser):
    """On a light system, alice switches to Dark: the page turns dark at once
    and stays dark after a reload; on another device (also light) her page is
    dark as soon as she logs in; System follows the system again."""
    d = deployment()
    create_users(d, "alice")
    server = d.server()
    phone = await device(browser, color_scheme="light")
    await log_in_to_room(phone, server, "alice", "lobby")
    assert await background(phone) == LIGHT_BG

    await phone.locator("#prefs summary").click()
    await phone.get_by_label("Dark").check()
    await expect(phone.locator("html")).to_have_attribute("data-theme", "dark")
    assert await background(phone) == DARK_BG
    # Saved on the server: the reload renders it (no flash of light).
    await phone.wait_for_load_state("networkidle")
    await phone.reload()
    await expect(phone.locator("html")).to_have_attribute("data-theme", "dark")

    laptop = await device(browser, color_scheme="light")
    await log_in_to_room(laptop, server, "alice", "lobby")
    await expect(laptop.locator("html")).to_have_attribute("data-theme", "dark")
    assert await background(laptop) == DARK_BG

    await laptop.locator("#prefs summary").click()
    await laptop.get_by_label("System").check()
    await expect(laptop.locator("html")).to_have_attribute("data-theme", "system")
    assert await background(laptop) == LIGHT_BG
    await laptop.emulate_media(color_scheme="dark")
    assert await background(laptop) == DARK_BG


async def test_german_browser_gets_german_pages_scripts_and_dates(
    deployment, browser, artifacts
):
    """A browser asking for German (and in Berlin's time zone) gets the pages,
    the scripts' texts and the dates in German and Berlin time; a user who
    chooses English gets English on every device."""
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    server = d.server()
    page = await device(
        browser, locale="de-DE", timezone_id="Europe/Berlin", color_scheme="dark"
    )
    await page.goto(f"{server.http}/chat/lobby/")
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await page.get_by_label("Benutzername").fill("alice")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page).to_have_url(f"{server.http}/chat/lobby/")
    await connected(page)
    await expect(page.locator("#conn-text")).to_have_text("Verbunden")
    await expect(page.get_by_role("button", name="Senden")).to_be_visible()

    bob = await ChatClient.connect(server.ws, "lobby", tokens["bob"])
    await bob.post("Hallo Alice")
    frame = await bob.next("message")
    line = page.locator("#messages li.msg").last
    await expect(line.locator(".text")).to_have_text("Hallo Alice")
    sent = datetime.fromisoformat(frame["ts"].replace("Z", "+00:00"))
    berlin = sent.astimezone(ZoneInfo("Europe/Berlin"))
    await expect(line.locator("time")).to_have_text(berlin.strftime("%H:%M"))
    weekday = [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ][berlin.weekday()]
    await expect(line.locator("time")).to_have_attribute(
        "title", re.compile(f"^{weekday}, ")
    )
    box = page.get_by_label("Nachricht an #lobby")
    await box.fill("x" * 4001)
    await box.press("Enter")
    await expect(page.locator("#composer-error")).to_have_text(
        "Nicht gesendet: Die Nachricht ist 4001 Zeichen lang; erlaubt sind 4000."
    )
    await page.screenshot(path=artifacts / "room-de-dark.png")
    await bob.close()

    await page.locator("#prefs summary").click()
    async with page.expect_navigation():
        await page.get_by_label("Sprache").select_option("en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await connected(page)
    await expect(page.locator("#conn-text")).to_have_text("Connected")

    # Another German browser: German until she logs in, then her English.
    other = await device(browser, locale="de-DE")
    await other.goto(f"{server.http}/chat/lobby/")
    await other.get_by_label("Benutzername").fill("alice")
    await other.get_by_label("Passwort").fill(PASSWORD)
    await other.get_by_role("button", name="Anmelden").click()
    await expect(other).to_have_url(f"{server.http}/chat/lobby/")
    await expect(other.locator("html")).to_have_attribute("lang", "en")
    await expect(other.locator("#conn-text")).to_have_text("Connected")
