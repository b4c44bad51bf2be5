"""Fixtures of the browser tests: Debian's chromium driven by Playwright, and screenshots.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium``
(the ``chromium`` package, which .ci/run installs). Each test's screenshots
are kept under ``var/test-artifacts/<test>/``, pass or fail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from server.webclient import built
from tests.signin_server import start_sign_in_server

__all__ = ["artifacts", "chromium", "start_sign_in_server"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@pytest.fixture
def browser_ready() -> None:
    """Fail, never skip, without the browser or the built client: CI must not pass silently."""
    if not CHROMIUM.is_file():
        pytest.fail("no /usr/bin/chromium: `apt-get install -y chromium` (.ci/run does)")
    if not built():
        pytest.fail("the web client is not built: `make web` (make pytest does it first)")


@pytest.fixture
async def chromium(browser_ready: None) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True, timeout=30_000
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder, emptied first so a run's pictures are its own."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder
