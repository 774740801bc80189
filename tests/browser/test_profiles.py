"""Emoji, avatars and display names on the team chat page (issue 19.5), in
Debian's Chromium, which has no emoji font of its own here: what the page
shows must come from the font the project ships."""

import io
import re

import pytest

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

from .conftest import create_users
from .test_team import Api, line, log_in, open_page, send


def colourful_pixels(png: bytes) -> int:
    """Pixels whose channels differ a lot: colour, not grey. An emoji drawn
    by Noto is full of them; the missing-glyph box of a font without it,
    and text in any theme, has next to none."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    data = image.tobytes()
    pixels = (data[i : i + 3] for i in range(0, len(data), 3))
    return sum(1 for p in pixels if max(p) - min(p) > 90)


@pytest.fixture
def pair(deployment):
    d = deployment()
    tokens = create_users(d, "alice", "bob")
    server = d.server()
    apis = {name: Api(server, token) for name, token in tokens.items()}
    apis["alice"]("POST", "rooms", json={"name": "general"})
    apis["bob"]("PUT", "rooms/general/members/bob")
    return server, apis


async def test_emoji_are_drawn_by_the_shipped_font(pair, browser, artifacts):
    """A message's emoji, the picker and a reaction chip are drawn in colour
    by "ChatEmoji" (fonts/emoji.woff2). Checked the other way: without its
    @font-face this machine draws empty boxes, and the test fails."""
    server, api = pair
    page = await open_page(browser)
    await log_in(page, server, "alice", "general")
    await send(page, "launch day 😀 🚀")
    message = line(page, "general", "launch day")
    await expect(message).to_be_visible()
    await message.hover()
    await message.get_by_role("button", name="Add reaction").click()
    picker = page.locator("#emoji-picker")
    await expect(picker).to_be_visible()
    await page.evaluate("document.fonts.ready")
    choice = picker.get_by_role("button", name="React with 🎉")
    assert colourful_pixels(await choice.screenshot()) > 40
    await choice.click()
    chip = message.locator(".reaction .emoji")
    await expect(chip).to_have_text("🎉")
    await page.evaluate("document.fonts.ready")

    loaded = await page.evaluate(
        """() => [...document.fonts]
            .filter(f => f.family.replaceAll('"', '') === 'ChatEmoji')
            .map(f => f.status)"""
    )
    assert loaded == ["loaded"]
    assert await page.evaluate("document.fonts.check('16px ChatEmoji', '😀')")
    assert colourful_pixels(await chip.screenshot()) > 40
    text = message.locator(".text")
    assert colourful_pixels(await text.screenshot()) > 80
    await page.screenshot(path=artifacts / "emoji-light.png")


def picture() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 60)).save(out, format="PNG")
    return out.getvalue()


HOSTILE = '<img src=x onerror="window.__xss=1">Alice <b>L</b>'


async def test_display_names_and_avatars_beside_usernames(
    pair, browser, artifacts, axe
):
    """alice sets a display name (an HTML payload) and a picture in the
    settings panel: her own page follows at once; bob, opening the room,
    sees the name as text beside her username and her picture beside her
    lines, in the members panel and the online list; bob, with neither,
    has his initial on a colour. axe-core finds nothing serious on the room
    or the open panel, in both themes."""
    server, api = pair
    alice = await open_page(browser)
    await log_in(alice, server, "alice", "general")
    await send(alice, "hello from alice")
    mine = line(alice, "general", "hello from alice")
    await expect(mine.locator(".avatar")).to_have_text("A")

    await alice.get_by_text("Settings").click()
    await alice.get_by_label("Display name").fill(HOSTILE)
    await alice.get_by_label("Display name").press("Enter")
    await expect(mine.locator(".display-name")).to_have_text(HOSTILE)
    await alice.get_by_label("Picture").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": picture()}
    )
    await expect(mine.locator(".avatar img")).to_have_attribute(
        "src", re.compile(r"^/chat/avatars/alice/[\w-]{16}\.png$")
    )
    await expect(alice.get_by_role("button", name="Remove picture")).to_be_visible()
    # The box stops at 64 characters; the server says what else is wrong.
    assert await alice.get_by_label("Display name").get_attribute("maxlength") == "64"
    await alice.get_by_label("Display name").fill("Alice\u202eecilA")
    await alice.get_by_label("Display name").press("Enter")
    await expect(alice.locator("#prefs-profile-error")).to_have_text(
        "The display name may not contain U+202E (a control or formatting character)."
    )
    await expect(mine.locator(".display-name")).to_have_text(HOSTILE)
    await alice.get_by_label("Display name").fill(HOSTILE + " ")
    await alice.get_by_label("Display name").press("Enter")
    await expect(alice.locator("#prefs-profile-error")).to_be_hidden()
    # A name saved again keeps the picture.
    await expect(mine.locator(".avatar img")).to_have_count(1)
    await expect(alice.get_by_role("button", name="Remove picture")).to_be_visible()
    await alice.keyboard.press("Escape")

    bob = await open_page(browser)
    await log_in(bob, server, "bob", "general")
    await send(bob, "hi alice")
    theirs = line(bob, "general", "hello from alice")
    name = theirs.locator(".display-name")
    await expect(name).to_have_text(HOSTILE)  # text, not markup
    assert await name.locator("img, b").count() == 0
    await expect(theirs.locator(".author")).to_have_text("alice")
    image = theirs.locator(".avatar img")
    await expect(image).to_have_attribute("src", re.compile("^/chat/avatars/alice/"))
    assert await image.evaluate("i => i.decode().then(() => i.naturalWidth)") == 128
    own = line(bob, "general", "hi alice")
    await expect(own.locator(".avatar")).to_have_text("B")
    await expect(own.locator(".display-name")).to_have_text("")
    assert await bob.evaluate("window.__xss") is None
    assert await alice.evaluate("window.__xss") is None
    await expect(
        bob.locator("#online-list .online-user", has_text="alice").locator(
            ".avatar img"
        )
    ).to_have_count(1)

    await bob.get_by_role("button", name="Members").click()
    member = bob.locator("#member-list .member", has_text="alice")
    await expect(member.locator(".display-name")).to_have_text(HOSTILE)
    await expect(member.locator(".avatar img")).to_have_count(1)
    # A long name wraps inside its column: nothing wider than the window.
    assert await bob.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    ), "the page scrolls sideways"
    for theme in ("light", "dark"):
        # No transitions: axe must see the theme's colours, not a blend.
        await bob.emulate_media(color_scheme=theme, reduced_motion="reduce")
        await bob.screenshot(path=artifacts / f"profiles-{theme}.png")
        found = [v for v in await axe(bob) if v["impact"] in ("serious", "critical")]
        assert found == [], found
        await alice.emulate_media(color_scheme=theme, reduced_motion="reduce")
        await alice.get_by_text("Settings").click()
        await expect(alice.get_by_label("Display name")).to_be_visible()
        await alice.screenshot(path=artifacts / f"profile-settings-{theme}.png")
        found = [v for v in await axe(alice) if v["impact"] in ("serious", "critical")]
        assert found == [], found
        await alice.keyboard.press("Escape")
