"""Fixtures of the browser tests: Debian's chromium and firefox-esr driven by Playwright.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium``
(the ``chromium`` package) over CDP, and ``/usr/bin/firefox-esr`` (the
``firefox-esr`` package) over WebDriver BiDi (Playwright's ``moz-firefox``
channel, which drives a stock Firefox rather than Playwright's patched
build); .ci/run installs both. Each test's screenshots are kept under
``var/test-artifacts/<test>/``, pass or fail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright

from server.webclient import built
from tests.signin_server import start_sign_in_server

__all__ = [
    "artifacts",
    "chromium",
    "each_browser",
    "keep_last",
    "media_chromium",
    "media_firefox",
    "start_sign_in_server",
]

CHROMIUM = Path("/usr/bin/chromium")
FIREFOX = Path("/usr/bin/firefox-esr")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Lessons: a fake camera (a moving test pattern) and microphone (a beep),
# granted without asking, and sound that plays without a click first.
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@pytest.fixture
def browser_ready() -> None:
    """Fail, never skip, without the browser or the built client: CI must not pass silently."""
    if not CHROMIUM.is_file():
        pytest.fail("no /usr/bin/chromium: `apt-get install -y chromium` (.ci/run does)")
    if not FIREFOX.is_file():
        pytest.fail("no /usr/bin/firefox-esr: `apt-get install -y firefox-esr` (.ci/run does)")
    if not built():
        pytest.fail("the web client is not built: `make web` (make pytest does it first)")


async def _launch(playwright: Playwright, kind: str, *, media: bool = False) -> Browser:
    if kind == "chromium":
        return await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=ARGS + (MEDIA_ARGS if media else []),
            headless=True,
            timeout=30_000,
        )
    return await playwright.firefox.launch(
        channel="moz-firefox",
        executable_path=str(FIREFOX),
        headless=True,
        timeout=60_000,
        firefox_user_prefs=FIREFOX_MEDIA_PREFS if media else None,
    )


@pytest.fixture
async def chromium(browser_ready: None) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await _launch(playwright, "chromium")
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def media_chromium(browser_ready: None) -> AsyncIterator[Browser]:
    """Chromium with fake devices (``MEDIA_ARGS``), for lessons and meetings."""
    async with async_playwright() as playwright:
        browser = await _launch(playwright, "chromium", media=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(params=["chromium", "firefox"])
async def each_browser(
    browser_ready: None, request: pytest.FixtureRequest
) -> AsyncIterator[Browser]:
    """The test once in Chromium and once in Firefox: the page must work in both."""
    async with async_playwright() as playwright:
        browser = await _launch(playwright, request.param)
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


async def keep_last(artifacts: Path, **pages: Page) -> None:
    """The last sight of each page still open (``99-last-<name>.png``), pass or fail."""
    for name, page in pages.items():
        if not page.is_closed():
            await page.screenshot(path=artifacts / f"99-last-{name}.png")


# Firefox's MEDIA_ARGS: a fake camera and microphone (a test pattern and a
# tone), granted without asking, and sound that plays without a click. The
# moz-firefox channel writes these to the profile's user.js.
FIREFOX_MEDIA_PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.autoplay.default": 0,
}


@pytest.fixture
async def media_firefox(browser_ready: None) -> AsyncIterator[Browser]:
    """Firefox with fake devices (``FIREFOX_MEDIA_PREFS``), for lessons and meetings."""
    async with async_playwright() as playwright:
        browser = await _launch(playwright, "firefox", media=True)
        try:
            yield browser
        finally:
            await browser.close()
