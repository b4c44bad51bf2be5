"""ESIA tokens are kept sealed at rest: a copy of the database acts as nobody.

Over real sockets: a teacher signs in through the local ESIA; the session's
row holds neither her access token nor her refresh token, nor any piece of
them, yet her cookie still opens the session and renews it, and a renewal
seals the new tokens too.  A sealed token opens only with its own cookie's
key and on its own row.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.signin.sealed import VERSION, Unsealable, seal, session_key, unseal
from server.signin.session import digest
from server.signin.web import SESSION_COOKIE
from tests.browser import Browser
from tests.server.test_signin_session import me, signed_in
from tests.signin_server import SignInServer

Start = Callable[..., Awaitable[SignInServer]]
PIECE = 16  # no 16-character piece of a token may be in the row


@pytest.fixture
async def browser() -> object:
    b = Browser()
    yield b
    await b.close()


def pieces(token: str) -> set[str]:
    return {token[i : i + PIECE] for i in range(0, len(token) - PIECE + 1)}


async def test_the_stored_session_holds_no_token_and_the_cookie_still_opens_and_renews_it(
    start_sign_in_server: Start, browser: Browser
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    await signed_in(browser, server)
    cookie = browser.cookie(SESSION_COOKIE)
    assert cookie
    store = server.app[STORE]
    row = await store.web_session(digest(cookie))
    assert row is not None
    [refresh] = server.esia.refresh_tokens()
    key = session_key(cookie)
    access = unseal(key, row.id_digest, row.access_token)
    assert access.count(".") == 2  # a JWS: what the gate admitted
    stored = row.access_token + row.refresh_token
    decoded = "".join(  # not merely encoded either
        base64.urlsafe_b64decode(v.removeprefix(VERSION)).decode("latin-1")
        for v in (row.access_token, row.refresh_token)
    )
    for token in (access, refresh):
        assert not any(piece in stored or piece in decoded for piece in pieces(token))
    assert unseal(key, row.id_digest, row.refresh_token) == refresh

    clock.advance(3600 - 60)  # the access token is due: renewed with the sealed refresh token
    status, _ = await me(browser, server)
    assert status == 200
    renewed = await store.web_session(digest(cookie))
    assert renewed is not None and renewed.refresh_token != row.refresh_token
    [new_refresh] = server.esia.refresh_tokens()
    assert new_refresh != refresh and new_refresh not in renewed.refresh_token
    assert unseal(key, row.id_digest, renewed.refresh_token) == new_refresh


def test_a_sealed_token_opens_only_with_its_cookie_on_its_row() -> None:
    key = session_key("the browser's secret")
    sealed = seal(key, "row-a", "eyJhbGciOi.payload.signature")
    assert unseal(key, "row-a", sealed) == "eyJhbGciOi.payload.signature"
    with pytest.raises(Unsealable):
        unseal(session_key("another browser's secret"), "row-a", sealed)
    with pytest.raises(Unsealable):
        unseal(key, "row-b", sealed)  # moved to another session's row
    with pytest.raises(Unsealable):
        unseal(key, "row-a", sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB"))
    with pytest.raises(Unsealable):
        unseal(key, "row-a", "eyJhbGciOi.payload.signature")  # stored before sealing
