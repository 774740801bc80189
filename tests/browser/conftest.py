"""Browser fixtures: Debian's Chromium driven by Playwright (async API, so it
shares pytest-asyncio's event loop), against real server processes."""

import os
import shutil
from pathlib import Path

import pytest

from testing.services import chromium_problem, require

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery-staple"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return path if os.path.exists(path) else (shutil.which("chromium") or path)


@pytest.fixture
async def browser():
    require("Chromium", chromium_problem())
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
def artifacts() -> Path:
    """artifacts/ at the project root (gitignored): screenshots for people."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def create_users(deployment, *usernames: str) -> dict[str, str]:
    """Users who log in through the page, all with PASSWORD; returns each
    one's API token too (one manage.py process for all: they are slow)."""
    out = deployment.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.hashers import make_password\n"
        "from accounts.models import ApiToken\n"
        # One salted hash for all: hashing is the slow part (on purpose).
        f"password = make_password({PASSWORD!r})\n"
        f"for name in {list(usernames)!r}:\n"
        "    user = get_user_model().objects.create(username=name, password=password)\n"
        "    print(name, ApiToken.objects.issue(user)[1])",
    )
    return dict(line.split() for line in out.splitlines() if line.strip())


# axe-core, the accessibility auditor (`make axe` installs it with npm).
AXE_CORE = Path(
    os.environ.get(
        "AXE_CORE",
        Path(__file__).resolve().parent.parent.parent
        / ".cache/npm/node_modules/axe-core/axe.min.js",
    )
)
# The rules of WCAG 2.0-2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture
def axe():
    """audit(page) -> every violation axe-core finds, as
    [{id, impact, help, targets}]; skips (fails under CI) without axe-core."""
    problem = None if AXE_CORE.exists() else f"no {AXE_CORE} (run `make axe`)"
    require("axe-core", problem)
    source = AXE_CORE.read_text()

    async def audit(page) -> list[dict]:
        # Evaluated through the DevTools protocol, so a Content-Security-Policy
        # that forbids inline scripts does not stop it.
        if not await page.evaluate("() => Boolean(window.axe)"):
            await page.evaluate(source)
        return await page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
                }));
            }""",
            AXE_TAGS,
        )

    return audit
