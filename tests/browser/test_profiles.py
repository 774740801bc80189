"""Emoji, avatars and display names on the team chat page (issue 19.5), in
Debian's Chromium, which has no emoji font of its own here: what the page
shows must come from the font the project ships."""

import io

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
