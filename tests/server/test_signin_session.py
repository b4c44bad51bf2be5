"""The browser session over real sockets: renewal, expiry, sign-out, cross-site writes, hello.

The local ESIA issues access tokens for an hour (``dev_idp.token_lifetime``)
and refresh tokens for eight; the server renews two minutes before the hour
(``web.renew_before``).  Time is the manual clock's, shared by Zvonok and
its embedded local ESIA.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from server.appkeys import CONFIG
from server.clock import ManualClock
from server.roster.model import Role
from server.signin.web import SESSION_COOKIE
from signaling.client import Client, RequestError
from signaling.messages import Reauthed
from tests.browser import Browser, button
from tests.signin_server import SignInServer

Start = Callable[..., Awaitable[SignInServer]]


@pytest.fixture
async def browser() -> object:
    b = Browser()
    yield b
    await b.close()


async def signed_in(browser: Browser, server: SignInServer) -> None:
    picker = await browser.get(server.base + "/auth/login")
    form, choice = button(picker, server.person(Role.TEACHER).person.full_name)
    consent = await browser.submit(picker, form, choice)
    form, allow = button(consent, "Предоставить")
    landing = await browser.get((await browser.submit(consent, form, allow)).url)
    assert "Выйти" in landing.text


async def me(browser: Browser, server: SignInServer) -> tuple[int, dict[str, object]]:
    async with browser.http.get(server.base + "/api/v1/me") as response:
        return response.status, await response.json()


async def test_the_server_renews_the_esia_token_before_it_expires(
    start_sign_in_server: Start, browser: Browser
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    await signed_in(browser, server)
    cookie = browser.cookie(SESSION_COOKIE)
    for _ in range(3):  # three hours: each access token renewed before it runs out
        clock.advance(3600 - 60)
        status, _ = await me(browser, server)
        assert status == 200
    assert browser.cookie(SESSION_COOKIE) == cookie  # the session, not the cookie, was renewed


async def test_when_esia_refuses_to_renew_the_session_ends_with_a_stable_code(
    start_sign_in_server: Start, browser: Browser
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    await signed_in(browser, server)
    server.esia.forget_refresh_tokens()  # revoked at ESIA
    clock.advance(3600 - 60)
    status, body = await me(browser, server)
    assert status == 401 and body["error"]["code"] == "session.expired"  # type: ignore[index]
    status, _ = await me(browser, server)
    assert status == 401  # ended, not merely refused once
    landing = await browser.get(server.base + "/")
    assert "Войти через Госуслуги" in landing.text


async def test_a_session_ends_at_its_lifetime_however_often_it_was_renewed(
    start_sign_in_server: Start, browser: Browser
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    await signed_in(browser, server)
    for _ in range(12):
        clock.advance(3600 - 61)
        assert (await me(browser, server))[0] == 200
    clock.advance(12 * 61 + 1)  # past web.session_lifetime, twelve hours
    status, body = await me(browser, server)
    assert status == 401 and body["error"]["code"] == "session.expired"  # type: ignore[index]


async def test_sign_out_ends_the_session_on_the_server(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    await signed_in(browser, server)
    stolen = browser.cookie(SESSION_COOKIE)
    landing = await browser.get(server.base + "/")
    form, out = button(landing, "Выйти")
    after = await browser.submit(landing, form, out)
    assert "Войти через Госуслуги" in after.text
    # ... by way of ESIA's sign-out, so Gosuslugi forgets the person on a shared PC too.
    [esia_logout] = [u for u in after.history if "/idp/ext/Logout?" in u]
    assert parse_qs(urlsplit(esia_logout).query) == {
        "client_id": [server.app[CONFIG].esia.client_id],
        "redirect_url": [server.base + "/"],
    }
    assert not browser.cookie(SESSION_COOKIE)
    # The cookie's old value (kept by whoever copied it) opens nothing any more.
    thief = Browser()
    try:
        thief.http.cookie_jar.update_cookies({SESSION_COOKIE: stolen or ""})
        async with thief.http.get(server.base + "/api/v1/me") as response:
            assert response.status == 401
    finally:
        await thief.close()


async def test_the_local_esias_sign_out_sends_browsers_only_to_registered_sites(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    client_id = server.app[CONFIG].esia.client_id
    logout = server.base + "/dev-esia/idp/ext/Logout?"
    for query, code in (
        ({"client_id": client_id, "redirect_url": "https://evil.example/"}, "ESIA-007023"),
        ({"client_id": "someone-else", "redirect_url": server.base + "/"}, "ESIA-007002"),
    ):
        page = await browser.get(logout + urlencode(query))
        assert page.status == 400 and code in page.text and not page.history, query


async def test_cookie_authenticated_writes_from_another_site_are_refused(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    await signed_in(browser, server)
    chat = "class%3Asosh-1-5a"
    url = f"{server.base}/api/v1/chats/{chat}/read"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {},  # neither header: refused, not waved through
    ):
        async with browser.http.post(url, json={"seq": 1}, headers=headers) as response:
            assert response.status == 403, headers
            assert (await response.json())["error"]["code"] == "auth.cross_site"
    async with browser.http.post(url, json={"seq": 1}, headers={"Origin": server.base}) as ok:
        assert ok.status == 200, await ok.text()
    landing = await browser.get(server.base + "/")
    async with browser.http.post(
        server.base + "/auth/logout", headers={"Origin": "https://evil.example"}
    ) as response:
        assert response.status == 403  # a cross-site form cannot sign anyone out either
    assert "Выйти" in (await browser.get(landing.url)).text


async def test_a_websocket_hello_signs_in_by_the_session_with_our_origin_only(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    await signed_in(browser, server)
    client = await Client.connect(server.ws_url, None, session=browser.http, origin=server.base)
    try:
        assert client.welcome is not None
        assert client.welcome.profile["person"]["oid"] == server.person(Role.TEACHER).person.oid
    finally:
        await client.close()
    with pytest.raises(RequestError) as refused:
        await Client.connect(
            server.ws_url, None, session=browser.http, origin="https://evil.example"
        )
    assert refused.value.code == "auth.cross_site"
    with pytest.raises(RequestError) as missing:
        await Client.connect(server.ws_url, None, origin=server.base)  # no cookie at all
    assert missing.value.code == "auth.missing"


async def test_an_open_socket_is_renewed_then_told_when_the_session_expires(
    start_sign_in_server: Start, browser: Browser
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    await signed_in(browser, server)
    client = await Client.connect(server.ws_url, None, session=browser.http, origin=server.base)
    try:
        assert client.welcome is not None
        expires = client.welcome.expires_at
        clock.advance(3600 - 120)
        renewed = await client.next_event(timeout=5.0)
        assert isinstance(renewed, Reauthed) and renewed.expires_at > expires
        server.esia.forget_refresh_tokens()
        clock.advance(3600 - 120)
        code, reason = await client.wait_closed(timeout=5.0)
        assert (code, reason) == (4401, "session.expired")
    finally:
        await client.close()
