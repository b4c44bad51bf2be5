"""The browser sign-in over real sockets: Zvonok and its local ESIA on 127.0.0.1.

An HTTP client that keeps cookies, follows redirects and submits the
provider's forms does what a person does: «Войти через Госуслуги», pick a
person, «Предоставить», and back in Zvonok signed in.  Then every way the
callback must refuse, each with its page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from yarl import URL

from server.clock import ManualClock
from server.roster.model import Role
from server.signin.web import SESSION_COOKIE, SIGN_IN_COOKIE
from tests.browser import Browser, Page, button
from tests.signin_server import SignInServer

Start = Callable[..., Awaitable[SignInServer]]


@pytest.fixture
async def browser() -> object:
    b = Browser()
    yield b
    await b.close()


async def to_consent(browser: Browser, server: SignInServer, role: Role = Role.TEACHER) -> Page:
    landing = await browser.get(server.base + "/")
    assert "Войти через Госуслуги" in landing.text
    return await pick(browser, server, role)


async def pick(browser: Browser, server: SignInServer, role: Role = Role.TEACHER) -> Page:
    """«Войти», then the person picked on the local ESIA's page."""
    picker = await browser.get(server.base + "/auth/login?return_to=/api/v1/me")
    assert urlsplit(picker.url).path == "/dev-esia/aas/oauth2/v2/ac", picker.url
    person = server.person(role).person
    form, choice = button(picker, person.full_name)
    consent = await browser.submit(picker, form, choice)
    assert "Предоставление прав доступа" in consent.text
    return consent


async def sign_in(browser: Browser, server: SignInServer, role: Role = Role.TEACHER) -> Page:
    consent = await to_consent(browser, server, role)
    form, allow = button(consent, "Предоставить")
    return await browser.submit(consent, form, allow)


def code_of(page: Page) -> str:
    found = re.search(r'data-code="([^"]+)"', page.text)
    assert found, page.text[:400]
    return found.group(1)


async def test_the_whole_flow_signs_in_and_the_cookie_is_a_session(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    me = await sign_in(browser, server)
    assert me.status == 200, me.text
    teacher = server.person(Role.TEACHER).person
    assert f'"oid": {teacher.oid}' in me.text  # /api/v1/me by the cookie alone
    assert urlsplit(me.url).path == "/api/v1/me"  # came back where it started
    secret = browser.cookie(SESSION_COOKIE)
    assert secret and "." not in secret  # an opaque value, not an ESIA token (a JWS has dots)
    landing = await browser.get(server.base + "/")
    assert teacher.full_name in landing.text and "Выйти" in landing.text


async def test_the_flow_with_gost_signed_tokens_checked_in_the_worker_pool(
    start_sign_in_server: Start, browser: Browser
) -> None:
    """As ESIA signs today: the access and id tokens are GOST, checked off the event loop."""
    server = await start_sign_in_server(
        ManualClock(),
        dev_algorithm="GOST3410_2012_256",
        algorithms=("RS256", "GOST3410_2012_256"),
    )
    assert server.esia.idp.algorithm == "GOST3410_2012_256"
    me = await sign_in(browser, server)
    assert me.status == 200 and f'"oid": {server.person(Role.TEACHER).person.oid}' in me.text


async def test_session_cookie_is_httponly_and_samesite(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    consent = await to_consent(browser, server)
    form, allow = button(consent, "Предоставить")
    data = dict(form.fields) | {allow[0]: allow[1]}
    async with browser.http.post(
        consent.url, data=data, headers={"Origin": server.base}, allow_redirects=False
    ) as to_callback:
        callback = to_callback.headers["Location"]
    async with browser.http.get(callback, allow_redirects=False) as response:
        assert response.status == 303
        cookies = response.headers.getall("Set-Cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert re.search(r"eyJ[\w-]+\.[\w-]+\.", " ".join(cookies)) is None  # no JWT in any cookie


async def test_a_declined_consent_is_a_clear_page(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    consent = await to_consent(browser, server)
    form, deny = button(consent, "Отказать")
    page = await browser.submit(consent, form, deny)
    assert page.status == 400
    assert code_of(page) == "sign_in.declined"
    assert "Вы не предоставили доступ" in page.text
    assert browser.cookie(SESSION_COOKIE) is None


async def callback_url(browser: Browser, server: SignInServer) -> str:
    """Sign in as far as ESIA's redirect back; the callback URL it carried, not followed."""
    consent = await to_consent(browser, server)
    return await consent_given(browser, server, consent)


async def consent_given(browser: Browser, server: SignInServer, consent: Page) -> str:
    form, allow = button(consent, "Предоставить")
    data = dict(form.fields) | {allow[0]: allow[1]}
    async with browser.http.post(
        consent.url, data=data, headers={"Origin": server.base}, allow_redirects=False
    ) as response:
        assert response.status == 302
        return response.headers["Location"]


def binding_cookies(browser: Browser) -> dict[str, str]:
    """The sign-in binding cookies the browser holds, by name (one per sign-in under way)."""
    return {
        m.key: m.value for m in browser.http.cookie_jar if m.key.startswith(SIGN_IN_COOKIE + "_")
    }


async def test_two_tabs_sign_in_at_once_and_each_callback_finds_its_own_binding(
    start_sign_in_server: Start, browser: Browser
) -> None:
    """Two sign-ins started in one browser (two tabs) before either came back:
    each has its own binding cookie, so both callbacks are accepted."""
    server = await start_sign_in_server(ManualClock())
    first_consent = await to_consent(browser, server)
    second_consent = await pick(browser, server, Role.STUDENT)
    assert len(binding_cookies(browser)) == 2
    first = await consent_given(browser, server, first_consent)
    second = await consent_given(browser, server, second_consent)
    assert (await browser.get(first)).status == 200
    assert len(binding_cookies(browser)) == 1  # the first callback cleared its own only
    me = await browser.get(second)
    assert me.status == 200 and f'"oid": {server.person(Role.STUDENT).person.oid}' in me.text
    assert binding_cookies(browser) == {}


async def test_a_replayed_state_is_refused(start_sign_in_server: Start, browser: Browser) -> None:
    server = await start_sign_in_server(ManualClock())
    url = await callback_url(browser, server)
    binding = binding_cookies(browser)
    first = await browser.get(url)
    assert first.status == 200
    # The first callback cleared the binding cookie; a replay brings it back.
    browser.http.cookie_jar.update_cookies(binding, response_url=URL(server.base + "/auth/"))
    again = await browser.get(url)
    assert again.status == 400 and code_of(again) == "sign_in.state_unknown"
    assert "Ссылка для входа недействительна" in again.text


async def test_a_wrong_state_is_refused(start_sign_in_server: Start, browser: Browser) -> None:
    server = await start_sign_in_server(ManualClock())
    url = await callback_url(browser, server)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "0" * 8 + query["state"][8:]
    page = await browser.get(parts._replace(query=urlencode(query)).geturl())
    assert page.status == 400 and code_of(page) == "sign_in.state_unknown"


async def test_a_state_from_another_browser_is_refused(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    url = await callback_url(browser, server)
    other = Browser()  # the link forwarded to someone else: no sign-in cookie
    try:
        page = await other.get(url)
    finally:
        await other.close()
    assert page.status == 400 and code_of(page) == "sign_in.other_browser"
    assert (await browser.get(url)).status == 400  # and the state is spent


async def test_an_expired_sign_in_is_refused(start_sign_in_server: Start, browser: Browser) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    url = await callback_url(browser, server)
    clock.advance(601.0)  # web.sign_in_timeout is 600 s
    page = await browser.get(url)
    assert page.status == 400 and code_of(page) == "sign_in.expired"


async def test_a_replayed_code_is_refused(start_sign_in_server: Start, browser: Browser) -> None:
    server = await start_sign_in_server(ManualClock())
    url = await callback_url(browser, server)
    code = parse_qs(urlsplit(url).query)["code"][0]
    assert (await browser.get(url)).status == 200
    # A second sign-in in the same browser (no consent asked again), ended with the first code.
    picker = await browser.get(server.base + "/auth/login")
    form, choice = button(picker, server.person(Role.TEACHER).person.full_name)
    data = dict(form.fields) | {choice[0]: choice[1]}
    async with browser.http.post(
        picker.url, data=data, headers={"Origin": server.base}, allow_redirects=False
    ) as response:
        second = response.headers["Location"]
    parts = urlsplit(second)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"code": code}
    page = await browser.get(parts._replace(query=urlencode(query)).geturl())
    assert page.status == 400 and code_of(page) == "sign_in.code_refused"
    assert "ESIA-007011" in page.text


async def test_an_expired_code_is_refused(start_sign_in_server: Start, browser: Browser) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    url = await callback_url(browser, server)
    clock.advance(61.0)  # dev_idp.code_lifetime is 60 s; the sign-in itself has ten minutes
    page = await browser.get(url)
    assert page.status == 400 and code_of(page) == "sign_in.code_refused"


async def test_a_token_for_another_client_is_refused(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    server.esia.audience_override = "OTHER_SYSTEM"
    page = await sign_in(browser, server)
    assert page.status == 400 and code_of(page) == "sign_in.token_refused"
    assert browser.cookie(SESSION_COOKIE) is None


async def test_a_redirect_uri_that_is_not_ours_is_refused_by_the_provider(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    async with browser.http.get(server.base + "/auth/login", allow_redirects=False) as response:
        authorize = response.headers["Location"]
    parts = urlsplit(authorize)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["redirect_uri"] = "https://evil.example/steal"
    page = await browser.get(server.base + parts.path + "?" + urlencode(query))
    assert page.status == 400 and "ESIA-007023" in page.text
    assert "evil.example" not in page.text


async def test_an_esia_error_on_the_callback_is_a_clear_page(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    url = await callback_url(browser, server)
    parts = urlsplit(url)
    state = parse_qs(parts.query)["state"][0]
    query = {
        "error": "invalid_request",
        "error_description": "ESIA-007014: <script>alert(1)</script>",
        "state": state,
    }
    page = await browser.get(parts._replace(query=urlencode(query)).geturl())
    assert page.status == 400 and code_of(page) == "sign_in.esia_error"
    assert "ESIA-007014" in page.text and "<script>" not in page.text


async def test_a_tampered_client_secret_is_refused_by_the_provider(
    start_sign_in_server: Start, browser: Browser
) -> None:
    server = await start_sign_in_server(ManualClock())
    async with browser.http.get(server.base + "/auth/login", allow_redirects=False) as response:
        authorize = response.headers["Location"]
    parts = urlsplit(authorize)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["scope"] = "openid fullname birthdate snils"  # not what was signed
    async with browser.http.get(
        server.base + parts.path + "?" + urlencode(query), allow_redirects=False
    ) as response:
        back = response.headers["Location"]
    assert parse_qs(urlsplit(back).query)["error_description"][0].startswith("ESIA-007053")
