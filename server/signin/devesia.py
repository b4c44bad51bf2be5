"""The local ESIA: the development identity provider's authorization and token endpoints.

ESIA cannot be reached from a laptop or a CI runner, so in the embedded
default this stands in for it at ``<public_url>/dev-esia/`` (or as its own
process: ``zvonok dev-esia``), serving the same two endpoints as ESIA, so
that Zvonok's relying party (:mod:`server.signin.relying_party`) runs exactly
the code it runs against ESIA:

* ``GET aas/oauth2/v2/ac`` checks the request as ESIA does (a registered
  ``client_id`` and ``redirect_uri``, the ``client_certificate_hash`` of the
  registered certificate, a fresh ``timestamp``, a UUID ``state``,
  ``response_type=code``, a ``scope`` with ``openid``, and ``client_secret``
  verified with the registered certificate), then shows a page to pick a
  demo person in place of the Gosuslugi password form, and on a person's
  first sign-in to this system the consent page as ESIA shows it
  («Предоставление прав доступа»).  It sends the browser back with a
  one-time code that expires (``dev_idp.code_lifetime``), or with
  ``error=access_denied`` when the person declines;
* ``POST aas/oauth2/v3/te`` exchanges a code (once, before it expires, for
  the same client and ``redirect_uri``) or a refresh token (rotated at
  each use, ``dev_idp.refresh_lifetime``) for an access token, an id token
  and a refresh token, again checking ``client_secret``.

Refusals carry ESIA's ``error`` values and ``ESIA-NNNNNN`` codes.  Codes,
refresh tokens, consents and sign-ins under way are kept in memory: a
restart of the provider is a provider that forgot them, as after a
revocation.  Like the rest of the development provider this is a skeleton
key, and production refuses to run it.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from server.auth import devidp
from server.auth.devidp import DevIdentityProvider
from server.auth.signer import (
    RequestSigner,
    decode_secret,
    registered_hash,
    request_signature_valid,
    signer_from_pem,
)
from server.clock import Clock, SystemClock
from server.config import Config
from server.errors import ConfigError
from server.signin.relying_party import parse_timestamp, signed_message
from server.store.base import Store

log = logging.getLogger(__name__)

RP_KEY_FILE: Final = "rp-key.pem"
RP_CERT_FILE: Final = "rp-cert.pem"
TIMESTAMP_SKEW: Final = 300.0
"""Seconds a request's ``timestamp`` may be off the provider's clock (ESIA-007015 past it)."""
PENDING_LIFETIME: Final = 600.0
MAX_PENDING: Final = 10_000

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

SCOPE_TEXTS: Final = {
    "openid": "Вход в систему по учётной записи Госуслуг",
    "fullname": "Просмотр вашей фамилии, имени и отчества",
    "birthdate": "Просмотр даты вашего рождения",
}


def development_signer(directory: Path, client_id: str) -> RequestSigner:
    """The development relying party's RSA key and self-signed certificate, made if absent.

    Kept beside the provider's own key as ``rp-key.pem`` (0600) and
    ``rp-cert.pem``; the local ESIA registers ``client_id`` with that certificate.
    """
    key_path, cert_path = directory / RP_KEY_FILE, directory / RP_CERT_FILE
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = devidp._load_key(key_path) or devidp._create_key(key_path)
        certificate = devidp._load_certificate(cert_path, key)
        if certificate is None:
            devidp._create_certificate(cert_path, key, SystemClock())
        return signer_from_pem(key_path.read_bytes(), cert_path.read_bytes(), name=str(key_path))
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the development relying party's key in {directory}: {exc.strerror}"
        ) from exc


@dataclass(frozen=True, slots=True)
class Registration:
    """A system registered at the local ESIA, as on ESIA's technological portal."""

    client_id: str
    certificate_pem: bytes = field(repr=False)
    redirect_uris: tuple[str, ...]

    @property
    def certificate_hash(self) -> str:
        return registered_hash(self.certificate_pem)


@dataclass(slots=True)
class _Pending:
    """An authorization request checked and waiting for the person's choices."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    expires_at: float
    oid: int | None = None


@dataclass(frozen=True, slots=True)
class _Grant:
    """What a code or a refresh token stands for."""

    oid: int
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float


class LocalEsia:
    """The provider's state and rules; the routes below are its HTTP face."""

    def __init__(
        self,
        idp: DevIdentityProvider,
        registration: Registration,
        clock: Clock,
        *,
        token_lifetime: float,
        code_lifetime: float,
        refresh_lifetime: float,
    ) -> None:
        self.idp = idp
        self.registration = registration
        self._clock = clock
        self.token_lifetime = token_lifetime
        self.code_lifetime = code_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._consents: set[tuple[int, str]] = set()
        self.audience_override: str | None = None
        """Set by tests: issue tokens as if for this other system (a provider gone wrong)."""

    def now(self) -> float:
        return self._clock.time()

    # -- the authorization request ---------------------------------------------------

    def check_authorization(self, query: dict[str, str]) -> tuple[str | None, str | None]:
        """``(redirect error, esia code)`` for a bad request, or ``(None, None)``.

        A request whose client or ``redirect_uri`` is not registered cannot be
        sent back anywhere: that is ``("page", code)``.
        """
        reg = self.registration
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id != reg.client_id:
            return "page", "ESIA-007002"
        if redirect_uri not in reg.redirect_uris:
            return "page", "ESIA-007023"
        return self._check_signed(query, "")

    def _check_signed(self, form: dict[str, str], code: str) -> tuple[str | None, str | None]:
        reg = self.registration
        state, scope, timestamp = (
            form.get("state", ""),
            form.get("scope", ""),
            form.get("timestamp", ""),
        )
        if not _UUID.fullmatch(state) or not scope or not timestamp:
            return "invalid_request", "ESIA-007014"
        if form.get("client_certificate_hash", "").upper() != reg.certificate_hash:
            return "invalid_client", "ESIA-007053"
        at = parse_timestamp(timestamp)
        if at is None or abs(at - self.now()) > TIMESTAMP_SKEW:
            return "invalid_request", "ESIA-007015"
        signature = decode_secret(form.get("client_secret", ""))
        message = signed_message(
            form.get("client_id", ""), scope, timestamp, state, form.get("redirect_uri", ""), code
        )
        if signature is None or not request_signature_valid(
            reg.certificate_pem, message, signature
        ):
            return "invalid_client", "ESIA-007053"
        return None, None

    def begin(self, query: dict[str, str]) -> str:
        """Remember a checked authorization request; the id its forms carry."""
        now = self.now()
        if len(self._pending) >= MAX_PENDING:
            self._pending = {k: p for k, p in self._pending.items() if p.expires_at > now}
        txn = secrets.token_urlsafe(24)
        self._pending[txn] = _Pending(
            query["client_id"],
            query["redirect_uri"],
            query["scope"],
            query["state"],
            now + PENDING_LIFETIME,
        )
        return txn

    def pending(self, txn: str) -> _Pending | None:
        found = self._pending.get(txn)
        if found is None or found.expires_at <= self.now():
            self._pending.pop(txn, None)
            return None
        return found

    def needs_consent(self, oid: int, client_id: str) -> bool:
        return (oid, client_id) not in self._consents

    def finish(self, txn: str, *, consent: bool) -> str:
        """The URL to send the browser back to: with a fresh code, or ``access_denied``."""
        request = self._pending.pop(txn)
        if not consent or request.oid is None:
            return _back(
                request.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "ESIA-007004: Владелец ресурса отклонил запрос",
                    "state": request.state,
                },
            )
        self._consents.add((request.oid, request.client_id))
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Grant(
            request.oid,
            request.client_id,
            request.redirect_uri,
            request.scope,
            self.now() + self.code_lifetime,
        )
        return _back(request.redirect_uri, {"code": code, "state": request.state})

    # -- the token request -------------------------------------------------------------

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """The status and JSON body of an answer to a ``v3/te`` request."""
        state = form.get("state", "")
        grant_type = form.get("grant_type", "")
        if form.get("client_id") != self.registration.client_id:
            return _token_error("invalid_client", "ESIA-007002", state)
        if form.get("token_type", "Bearer") != "Bearer":
            return _token_error("invalid_request", "ESIA-007014", state)
        if grant_type == "authorization_code":
            code = form.get("code", "")
            error, esia = self._check_signed(form, code)
            if error is not None:
                return _token_error(error, esia or "", state)
            grant = self._codes.pop(code, None)  # one use, whatever follows
            if grant is None or grant.expires_at <= self.now():
                return _token_error("invalid_grant", "ESIA-007011", state)
            if grant.redirect_uri != form.get("redirect_uri") or grant.client_id != form.get(
                "client_id"
            ):
                return _token_error("invalid_grant", "ESIA-007011", state)
        elif grant_type == "refresh_token":
            error, esia = self._check_signed(form, "")
            if error is not None:
                return _token_error(error, esia or "", state)
            grant = self._refresh.pop(form.get("refresh_token", ""), None)
            if (
                grant is None
                or grant.expires_at <= self.now()
                or grant.client_id != form.get("client_id")
            ):
                return _token_error("invalid_grant", "ESIA-007011", state)
        else:
            return _token_error("unsupported_grant_type", "ESIA-007012", state)
        return 200, self._issue(grant, state)

    def _issue(self, grant: _Grant, state: str) -> dict[str, object]:
        audience = self.audience_override or grant.client_id
        lifetime = self.token_lifetime
        session = secrets.token_hex(16)
        refresh = secrets.token_urlsafe(32)
        self._refresh[refresh] = _Grant(
            grant.oid,
            grant.client_id,
            grant.redirect_uri,
            grant.scope,
            self.now() + self.refresh_lifetime,
        )
        return {
            "access_token": self.idp.issue(
                grant.oid, lifetime=lifetime, scope=grant.scope, client_id=audience, session=session
            ),
            "id_token": self.idp.issue_id_token(
                grant.oid, lifetime=lifetime, audience=audience, session=session
            ),
            "refresh_token": refresh,
            "state": state,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
        }

    def refresh_tokens(self) -> set[str]:
        """The refresh tokens it would honour now (tests look for them where they must not be)."""
        return set(self._refresh)

    def forget_refresh_tokens(self) -> None:
        """Revoke every refresh token (as a restart of the provider would)."""
        self._refresh.clear()


def _back(redirect_uri: str, params: dict[str, str]) -> str:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return f"{redirect_uri}{joiner}{urlencode(params)}"


def _token_error(error: str, esia: str, state: str) -> tuple[int, dict[str, object]]:
    return 400, {"error": error, "error_description": f"{esia}: refused", "state": state}


# -- HTTP ------------------------------------------------------------------------------

LOCAL_ESIA = web.AppKey("local_esia", LocalEsia)
_STORE = web.AppKey("local_esia_store", Store)

routes = web.RouteTableDef()


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
        text=(
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} · Госуслуги (локальная ЕСИА)</title>"
            "<style>body{font:16px/1.5 system-ui,sans-serif;background:#eef2f7;margin:0}"
            "main{max-width:560px;margin:6vh auto;background:#fff;border-radius:12px;padding:28px}"
            "header{background:#0d4cd3;color:#fff;padding:12px 24px}"
            "button{font:inherit;padding:10px 16px;border-radius:8px;border:1px solid #0d4cd3;"
            "background:#fff;color:#0d4cd3;cursor:pointer;margin:4px 0}"
            "button.primary{background:#0d4cd3;color:#fff}li{margin:4px 0}</style></head>"
            "<body><header>Госуслуги · локальная ЕСИА для разработки</header>"
            f"<main>{body}</main></body></html>"
        ),
    )


def _esia_error_page(code: str) -> web.Response:
    return _page("Ошибка", f"<h1>Ошибка</h1><p>Запрос отклонён: {html.escape(code)}.</p>", 400)


def _store(request: web.Request) -> Store:
    if _STORE in request.app:
        return request.app[_STORE]
    from server.appkeys import STORE

    return request.config_dict[STORE]


@routes.get("/aas/oauth2/v2/ac")
async def authorize(request: web.Request) -> web.StreamResponse:
    """The authorization request: checked as ESIA checks it, then the person picker."""
    esia = request.app[LOCAL_ESIA]
    query = dict(request.query)
    error, code = esia.check_authorization(query)
    if error == "page":
        return _esia_error_page(code or "")
    if error is not None:
        raise web.HTTPFound(
            _back(
                query["redirect_uri"],
                {
                    "error": error,
                    "error_description": f"{code}: refused",
                    "state": query.get("state", ""),
                },
            )
        )
    if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
        raise web.HTTPFound(
            _back(
                query["redirect_uri"],
                {
                    "error": "invalid_scope"
                    if query.get("response_type") == "code"
                    else "unsupported_response_type",
                    "error_description": "ESIA-007006: refused",
                    "state": query["state"],
                },
            )
        )
    txn = esia.begin(query)
    people = await _store(request).directory()
    items = "".join(
        f'<li><button name="oid" value="{e.person.oid}">{html.escape(e.person.full_name)}</button> '
        f"<small>{html.escape(', '.join(sorted({r.role.value for r in e.roles})))}</small></li>"
        for e in people
    )
    return _page(
        "Вход",
        "<h1>Вход</h1><p>Вместо пароля Госуслуг выберите человека демонстрационной школы.</p>"
        f'<form method="post" action="{html.escape(request.path)}">'
        f'<input type="hidden" name="txn" value="{txn}">'
        '<input type="hidden" name="step" value="person">'
        f"<ul>{items}</ul></form>",
    )


@routes.get("/idp/ext/Logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """ESIA's sign-out: back to ``redirect_url`` if it is on a registered system's site.

    The local ESIA keeps no sign-in of its own (it asks whom to sign in each
    time), so there is nothing to end; what it checks is where it sends the
    browser, as ESIA does, so that it cannot be made an open redirect.
    """
    esia = request.app[LOCAL_ESIA]
    if request.query.get("client_id") != esia.registration.client_id:
        return _esia_error_page("ESIA-007002")
    target = request.query.get("redirect_url", "")
    origins = {_origin(uri) for uri in esia.registration.redirect_uris}
    if _origin(target) not in origins:
        return _esia_error_page("ESIA-007023")
    raise web.HTTPFound(target)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@routes.post("/aas/oauth2/v2/ac")
async def authorize_step(request: web.Request) -> web.StreamResponse:
    """The person picked, then the consent given or declined."""
    esia = request.app[LOCAL_ESIA]
    form = await request.post()
    txn = str(form.get("txn", ""))
    pending = esia.pending(txn)
    if pending is None:
        return _esia_error_page("ESIA-007003")
    step = form.get("step")
    if step == "person":
        try:
            oid = int(str(form.get("oid", "")))
        except ValueError:
            return _esia_error_page("ESIA-007003")
        if await _store(request).person(oid) is None:
            return _esia_error_page("ESIA-007003")
        pending.oid = oid
        if not esia.needs_consent(oid, pending.client_id):
            raise web.HTTPFound(esia.finish(txn, consent=True))
        wanted = "".join(
            f"<li>{html.escape(SCOPE_TEXTS.get(s, s))}</li>" for s in pending.scope.split()
        )
        return _page(
            "Предоставление прав доступа",
            "<h1>Предоставление прав доступа</h1>"
            f"<p>Система «{html.escape(pending.client_id)}» запрашивает доступ к вашим данным:</p>"
            f"<ul>{wanted}</ul>"
            f'<form method="post" action="{html.escape(request.path)}">'
            f'<input type="hidden" name="txn" value="{txn}">'
            '<input type="hidden" name="step" value="consent">'
            '<button class="primary" name="decision" value="allow">Предоставить</button> '
            '<button name="decision" value="deny">Отказать</button></form>',
        )
    if step == "consent" and pending.oid is not None:
        raise web.HTTPFound(esia.finish(txn, consent=form.get("decision") == "allow"))
    return _esia_error_page("ESIA-007003")


@routes.post("/aas/oauth2/v3/te")
async def token(request: web.Request) -> web.Response:
    """The token request: a code or a refresh token for tokens."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    status, body = request.app[LOCAL_ESIA].token(form)
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


def local_esia_app(
    config: Config,
    clock: Clock,
    *,
    redirect_uris: tuple[str, ...] = (),
    client_certificate: bytes | None = None,
    own_store: bool = False,
) -> web.Application:
    """The local ESIA as an application: mounted at ``/dev-esia/`` or served alone.

    It registers ``[esia] client_id`` with the development relying party's
    certificate (or ``client_certificate``) and ``redirect_uris`` (by default
    this server's callback).  ``own_store`` opens the configured store for
    the people to pick from (a process of its own); otherwise the parent
    application's is used.
    """
    from server.auth.devidp import dev_identity_provider
    from server.signin.web import redirect_uri

    app = web.Application()

    async def context(app: web.Application) -> AsyncIterator[None]:
        certificate = client_certificate
        if certificate is None:
            development_signer(config.dev_idp.directory, config.esia.client_id)
            certificate = (config.dev_idp.directory / RP_CERT_FILE).read_bytes()
        registration = Registration(
            config.esia.client_id, certificate, redirect_uris or (redirect_uri(config),)
        )
        app[LOCAL_ESIA] = LocalEsia(
            dev_identity_provider(config, clock),
            registration,
            clock,
            token_lifetime=config.dev_idp.token_lifetime,
            code_lifetime=config.dev_idp.code_lifetime,
            refresh_lifetime=config.dev_idp.refresh_lifetime,
        )
        if not own_store:
            yield
            return
        from server.store import create_store

        store = create_store(config.storage.database)
        await store.open()
        app[_STORE] = store
        try:
            yield
        finally:
            await store.close()

    app.cleanup_ctx.append(context)
    app.add_routes(routes)
    return app
