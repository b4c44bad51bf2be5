"""The browser's sign-in over HTTP: «Войти», the callback, sign-out, and the session cookie.

Routes (docs/api.md, "Signing in with a browser"):

* ``GET /``: the landing page «Войти через Госуслуги», or the web client once signed in;
* ``GET /auth/login?return_to=/path``: starts a sign-in and redirects to ESIA;
* ``GET /auth/callback``: where ESIA sends the browser back;
* ``POST /auth/logout``: ends the session on the server, then sends the
  browser through ESIA's sign-out and back to ``/``.

Cookies: ``zvonok_sign_in_<tag>`` (binds one sign-in to the browser, named
by its state so that two tabs may sign in at once; ``Path=/auth``, ten
minutes) and ``zvonok_session`` (the session), both ``HttpOnly`` (no page
script reads them), ``SameSite=Lax`` (sent on the top-level navigation back
from ESIA, not on other sites' subrequests and forms), ``Secure`` when
``web.public_url`` is https.

A request authenticated by the session cookie that changes something (any
method but GET, HEAD, OPTIONS) must come from our own pages: its ``Origin``
is ``web.public_url``'s, or, without an ``Origin``, its ``Sec-Fetch-Site``
is ``same-origin``; neither header, or another value, is refused
(``403 auth.cross_site``).  No CSRF token: every browser Zvonok supports
sends one of the two, and a bot uses a Bearer token, which no other site
can make a browser send.  A WebSocket ``hello`` by the cookie needs the
upgrade's ``Origin`` to be ours.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiohttp
from aiohttp import web

from server import webclient
from server.access import Admission
from server.appkeys import CLOCK, CONFIG, GATE, STORE
from server.auth.signer import RequestSigner, load_signer
from server.config import Config
from server.errors import AuthError, ForbiddenError
from server.signin import pages
from server.signin.relying_party import EsiaUnavailable, RelyingParty, esia_code
from server.signin.session import SignInRefused, WebSessions, state_tag
from signaling import errors as wire

log = logging.getLogger(__name__)

SESSION_COOKIE: Final = "zvonok_session"
SIGN_IN_COOKIE: Final = "zvonok_sign_in"  # the prefix: one cookie per sign-in under way
CALLBACK_PATH: Final = "/auth/callback"
CROSS_SITE: Final = wire.AUTH_CROSS_SITE
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

WEB_SESSIONS = web.AppKey("web_sessions", WebSessions)
SIGNER = web.AppKey("request_signer", RequestSigner)

routes = web.RouteTableDef()


def sign_in_cookie(tag: str) -> str:
    """The binding cookie of the sign-in whose state has this tag."""
    return f"{SIGN_IN_COOKIE}_{tag}"


def redirect_uri(config: Config) -> str:
    """Our callback, exactly as registered at ESIA."""
    return config.public_url + CALLBACK_PATH


def request_signer(config: Config) -> RequestSigner:
    """Our signing key: the configured one, or the development relying party's pair."""
    esia = config.esia
    if esia.signing_key:
        return load_signer(
            Path(esia.signing_key),
            Path(esia.signing_certificate),
            hash_override=esia.client_certificate_hash,
        )
    from server.signin.devesia import development_signer

    return development_signer(config.dev_idp.directory, config.esia.client_id)


async def sign_in_context(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the relying party's HTTP client and the sessions, after the gate."""
    config = app[CONFIG]
    signer = app[SIGNER] if SIGNER in app else request_signer(config)
    app[SIGNER] = signer
    timeout = aiohttp.ClientTimeout(total=config.esia.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as http:
        relying_party = RelyingParty(
            client_id=config.esia.client_id,
            scope=config.esia.scope,
            portal_url=config.portal_url,
            redirect_uri=redirect_uri(config),
            signer=signer,
            clock=app[CLOCK],
            http=http,
            timeout=config.esia.request_timeout,
        )
        gate = app[GATE]
        app[WEB_SESSIONS] = WebSessions(
            store=app[STORE],
            relying_party=relying_party,
            verifier=gate.verifier,
            gate=gate,
            clock=app[CLOCK],
            config=config.web,
        )
        yield


# -- cookies ---------------------------------------------------------------------------


def _secure(request: web.Request) -> bool:
    return request.app[CONFIG].public_url.startswith("https://")


def _set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    *,
    path: str,
    max_age: float,
) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max(0, int(max_age)),
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


def _clear_cookie(response: web.StreamResponse, request: web.Request, name: str, path: str) -> None:
    _set_cookie(response, request, name, "", path=path, max_age=0)


# -- cross-site checks -----------------------------------------------------------------


def same_origin(request: web.Request) -> bool:
    """Whether the request comes from our own pages (``Origin``, else ``Sec-Fetch-Site``)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == request.app[CONFIG].public_url
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


def check_write(request: web.Request) -> None:
    """Refuse a cookie-authenticated write that another site may have made the browser send."""
    if request.method not in SAFE_METHODS and not same_origin(request):
        log.info("cross-site %s %s refused", request.method, request.path)
        raise ForbiddenError(CROSS_SITE, "this request did not come from Zvonok's own pages")


async def cookie_admission(request: web.Request) -> Admission:
    """The person of the request's session cookie (for ``server.http_api.signed_in``).

    Writes are checked for cross-site origin first; a session that is gone
    or cannot be renewed is ``401 session.expired``.
    """
    check_write(request)
    secret = request.cookies.get(SESSION_COOKIE, "")
    admission, _ = await request.app[WEB_SESSIONS].admit(secret)
    return admission


@dataclass(frozen=True, slots=True)
class BrowserCredential:
    """What a WebSocket upgrade brought to sign in by: the session cookie, and its origin."""

    sessions: WebSessions
    secret: str
    origin_ok: bool

    async def admit(self) -> tuple[Admission, float]:
        """The person, and when the session's ESIA token expires; ``auth.cross_site`` first."""
        if not self.origin_ok:
            raise AuthError(CROSS_SITE, "this socket was not opened by Zvonok's own pages")
        admission, record = await self.sessions.admit(self.secret)
        return admission, record.access_expires_at

    async def renew(self) -> tuple[Admission, float]:
        admission, record = await self.sessions.renew(self.secret)
        return admission, record.access_expires_at

    @property
    def renew_before(self) -> float:
        return self.sessions.renew_before


def browser_credential(request: web.Request) -> BrowserCredential | None:
    """The upgrade request's session cookie, if it has one (a ``hello`` may then omit its token)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or WEB_SESSIONS not in request.app:
        return None
    origin = request.headers.get("Origin")
    return BrowserCredential(
        request.app[WEB_SESSIONS], secret, origin == request.app[CONFIG].public_url
    )


def _redirect(location: str, status: int) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


# -- routes ----------------------------------------------------------------------------


@routes.get("/")
async def landing(request: web.Request) -> web.Response:
    """The landing page «Войти через Госуслуги»; signed in, the web client (server/webclient.py).

    Without a built client a signed-in browser sees who is signed in and «Выйти».
    """
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        try:
            admission, _ = await request.app[WEB_SESSIONS].admit(secret)
        except (AuthError, ForbiddenError):
            response = pages.landing(None)
            _clear_cookie(response, request, SESSION_COOKIE, "/")
            return response
        full_name = admission.profile.person.full_name
        return webclient.app_page(full_name) or pages.landing(full_name)
    return pages.landing(None)


@routes.get(pages.SIGN_IN_PATH)
async def login(request: web.Request) -> web.StreamResponse:
    """Start a sign-in: a state bound to this browser, then off to ESIA."""
    try:
        started = await request.app[WEB_SESSIONS].begin(request.query.get("return_to"))
    except EsiaUnavailable:
        return pages.refusal(wire.ESIA_UNAVAILABLE, status=503)
    response = _redirect(started.authorization_url, 302)
    _set_cookie(
        response,
        request,
        sign_in_cookie(started.tag),
        started.browser_secret,
        path="/auth",
        max_age=request.app[CONFIG].web.sign_in_timeout,
    )
    return response


@routes.get(CALLBACK_PATH)
async def callback(request: web.Request) -> web.StreamResponse:
    """ESIA sends the browser back here with ``code`` and ``state``, or with ``error``."""
    sessions = request.app[WEB_SESSIONS]
    query = request.query
    binding = sign_in_cookie(state_tag(query.get("state", "")))
    browser = request.cookies.get(binding)
    try:
        sign_in = await sessions.take(query.get("state", ""), browser)
        error = query.get("error")
        if error is not None:
            description = query.get("error_description", "")
            log.info(
                "ESIA sent the browser back with error %s %s", error[:64], esia_code(description)
            )
            raise SignInRefused(
                pages.ESIA_ERRORS.get(error, "sign_in.esia_error"), esia_code(description) or ""
            )
        signed_in = await sessions.complete(sign_in, query.get("code", ""))
    except SignInRefused as exc:
        log.info("sign-in refused: %s %s", exc.code, exc.detail)
        esia = exc.detail if exc.detail.startswith("ESIA-") else None
        response = pages.refusal(exc.code, esia_code=esia)
        _clear_cookie(response, request, binding, "/auth")
        return response
    except EsiaUnavailable:
        return pages.refusal(wire.ESIA_UNAVAILABLE, status=503)
    response = _redirect(signed_in.return_to, 303)
    _clear_cookie(response, request, binding, "/auth")
    _set_cookie(
        response,
        request,
        SESSION_COOKIE,
        signed_in.session_secret,
        path="/",
        max_age=request.app[CONFIG].web.session_lifetime,
    )
    return response


@routes.post("/auth/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out: the session ends on the server, the cookie is cleared, and the
    browser goes through ESIA's sign-out (so that a shared PC's next user is
    not signed in as this one at Gosuslugi) and back to the landing page."""
    if not same_origin(request):
        log.info("cross-site sign-out refused")
        return pages.refusal(CROSS_SITE, status=403)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await request.app[WEB_SESSIONS].end(secret)
    landing_url = request.app[CONFIG].public_url + "/"
    response = _redirect(request.app[WEB_SESSIONS].logout_url(landing_url), 303)
    _clear_cookie(response, request, SESSION_COOKIE, "/")
    return response
