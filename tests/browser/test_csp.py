"""The pages work under the strict Content-Security-Policy (issue 10):
Chromium reports no violation while a user logs in, posts and reads."""

import re

try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture skips, saying why (fails under CI)
    expect = None  # type: ignore[assignment]

from .conftest import create_users
from .test_page import lines, log_in_to_room, open_page, send


async def test_no_csp_violation_on_the_pages(deployment, browser):
    d = deployment()
    create_users(d, "alice")
    server = d.server()
    page = await open_page(browser, server)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI));"
    )
    await log_in_to_room(page, server, "alice", "lobby")
    await send(page, "hello under CSP")
    await expect(page.locator("#messages li.msg .text")).to_have_text(
        ["hello under CSP"]
    )
    assert (await lines(page))[0][0] >= 1  # after the room's own events
    await page.goto(f"{server.http}/chat/")
    await expect(page).to_have_url(re.compile(r"/chat/$"))
    await page.goto(f"{server.http}/accounts/tokens/")
    await page.goto(f"{server.http}/admin/login/")
    assert not violations, violations
