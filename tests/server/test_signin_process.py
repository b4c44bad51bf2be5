"""The local ESIA as a process of its own, on another port: the same sign-in, end to end.

``zvonok dev-esia`` serves the provider alone, as ESIA is a separate system;
Zvonok is configured with its URL as ``[esia] portal_url`` and with the
development relying party's key as its signing key, exactly as a deployment
names ESIA's URL and its own key.  Both run on the system clock.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from server.app import make_app
from server.appkeys import PENDING
from server.clock import SystemClock
from server.preauth import CountingSite
from server.signin.devesia import RP_CERT_FILE, RP_KEY_FILE
from server.signin.web import SESSION_COOKIE
from tests.browser import Browser, bound_socket, button
from tests.signin_server import sign_in_config

START_TIMEOUT = 60.0


@dataclass
class Provider:
    process: asyncio.subprocess.Process
    portal: str  # the local ESIA's base URL, Zvonok's [esia] portal_url
    base: str  # Zvonok's own URL, its socket bound already
    sock: socket.socket


@pytest.fixture
async def provider(tmp_path: Path) -> AsyncIterator[Provider]:
    """The local ESIA started as ``zvonok dev-esia``; Zvonok's socket bound, its URL known."""
    sock = bound_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {
        **os.environ,
        "ZVONOK_STORAGE_DATABASE": f"sqlite:{tmp_path / 'zvonok.db'}",
        "ZVONOK_DEV_IDP_DIRECTORY": str(tmp_path / "dev-idp"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "dev-esia",
        "--redirect-uri",
        base + "/auth/callback",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("local ESIA on http://127.0.0.1:"), line
        portal = line.split(" on ", 1)[1].strip()
        yield Provider(process, portal, base, sock)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(START_TIMEOUT):
                await process.wait()
        sock.close()


async def test_sign_in_through_a_local_esia_in_its_own_process(
    tmp_path: Path, provider: Provider
) -> None:
    process, portal, base, sock = provider.process, provider.portal, provider.base, provider.sock
    directory = tmp_path / "dev-idp"
    config = sign_in_config(
        tmp_path,
        base,
        portal_url=portal,
        signing_key=str(directory / RP_KEY_FILE),
        signing_certificate=str(directory / RP_CERT_FILE),
        leeway=5.0,
    )
    app = make_app(config, clock=SystemClock())
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    browser = Browser()
    try:
        site = CountingSite(runner, "127.0.0.1", 0, pending=app[PENDING], sock=sock)
        await site.start()
        login = await browser.get(base + "/auth/login?return_to=/api/v1/me")
        assert login.url.startswith(portal + "aas/oauth2/v2/ac"), login.url
        form, choice = login.forms[0], login.forms[0].buttons[0]
        consent = await browser.submit(login, form, choice)
        form, allow = button(consent, "Предоставить")
        me = await browser.submit(consent, form, allow)
        assert me.status == 200 and me.url == base + "/api/v1/me", me.text[:300]
        assert '"person"' in me.text
        assert browser.cookie(SESSION_COOKIE)
        assert process.returncode is None  # the provider served it all, and still runs
    finally:
        await browser.close()
        await runner.cleanup()


async def test_a_newcomer_on_zvonok_serve_clicks_sign_in_and_comes_back_signed_in(
    tmp_path: Path,
) -> None:
    """The issue's check: `make serve`, «Войти через Госуслуги», the local ESIA, consent."""
    probe = bound_socket()
    port = probe.getsockname()[1]
    probe.close()  # zvonok serve binds it again at once (reuse_address)
    env = {
        **os.environ,
        "ZVONOK_STORAGE_DATABASE": f"sqlite:{tmp_path / 'zvonok.db'}",
        "ZVONOK_DEV_IDP_DIRECTORY": str(tmp_path / "dev-idp"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        stdin=asyncio.subprocess.DEVNULL,
    )
    browser = Browser()
    try:
        assert process.stdout is not None
        banner = ""
        async with asyncio.timeout(START_TIMEOUT):
            while "Войти через Госуслуги" not in banner:
                line = await process.stdout.readline()
                assert line, "the server exited before it was ready"
                banner += line.decode()
        base = f"http://127.0.0.1:{port}"
        assert f"open {base}/ and click" in banner
        landing = await browser.get(base + "/")
        href = re.search(r'href="(/auth/login[^"]*)"', landing.text)
        assert href is not None and "Войти через Госуслуги" in landing.text
        picker = await browser.get(base + html.unescape(href.group(1)))
        assert picker.url.startswith(base + "/dev-esia/aas/oauth2/v2/ac")
        form, choice = picker.forms[0], picker.forms[0].buttons[0]
        consent = await browser.submit(picker, form, choice)
        assert "Предоставление прав доступа" in consent.text
        form, allow = button(consent, "Предоставить")
        home = await browser.submit(consent, form, allow)
        assert home.url == base + "/" and "Вы вошли как" in home.text and "Выйти" in home.text
    finally:
        await browser.close()
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(START_TIMEOUT):
            await process.wait()
