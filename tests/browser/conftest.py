"""Browser fixtures: Debian's Chromium driven by Playwright (async API, so it
shares pytest-asyncio's event loop), against real server processes."""

import os
import shutil
from pathlib import Path

import pytest

from ..services import chromium_problem, require

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
