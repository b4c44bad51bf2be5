"""``/`` and ``/assets/``: the built web client for a signed-in browser, with its headers.

Needs ``web/dist`` (``make pytest`` builds it first). The client itself is
tested in a real browser in tests/web/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from server.clock import ManualClock
from server.roster.model import Role
from server.webclient import CSP, DIST, built
from tests.browser import Browser, button
from tests.signin_server import SignInServer

Start = Callable[..., Awaitable[SignInServer]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not built():
        pytest.fail("the web client is not built: `make web` (make pytest does it first)")
    b = Browser()
    yield b
    await b.close()


async def test_signed_out_is_the_sign_in_page_and_signed_in_is_the_app(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    async with browser.http.get(server.base + "/") as response:
        assert response.status == 200
        assert "Войти через Госуслуги" in await response.text()
        assert "/assets/" not in await response.text()
    picker = await browser.get(server.base + "/auth/login")
    teacher = server.person(Role.TEACHER).person.full_name
    consent = await browser.submit(picker, *button(picker, teacher))
    await browser.submit(consent, *button(consent, "Предоставить"))
    async with browser.http.get(server.base + "/") as response:
        page = await response.text()
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Before the script has run: who is signed in, and «Выйти».
    assert f"Вы вошли как <strong>{teacher}</strong>" in page
    assert 'action="/auth/logout"' in page
    script = re.search(r'<script type="module" src="(/assets/main-\w+\.js)">', page)
    style = re.search(r'<link rel="stylesheet" href="(/assets/main-\w+\.css)">', page)
    assert script is not None and style is not None
    for path, kind in ((script.group(1), "javascript"), (style.group(1), "css")):
        async with browser.http.get(server.base + path) as response:
            assert response.status == 200
            assert kind in response.headers["Content-Type"]
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            body = await response.read()
        assert body == (DIST / path.removeprefix("/")).read_bytes()


async def test_only_files_of_the_bundle_are_served(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    for path in (
        "/assets/nothing.js",
        "/assets/..%2Findex.html",
        "/assets/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/assets/.hidden",
        "/assets/",
    ):
        async with browser.http.get(server.base + path) as response:
            assert response.status == 404, path
