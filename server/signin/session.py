"""Browser sessions: sign-in through ESIA, a server-side session, renewal, sign-out.

A browser that clicks «Войти» gets a one-time ``state`` (sent to ESIA) bound
to it by a cookie (``zvonok_sign_in``, only its digest stored): the callback
must bring back both, within ``web.sign_in_timeout``, once.  After the code
is exchanged and the tokens verified, the browser gets a session cookie
(``zvonok_session``, HttpOnly): a random 256-bit value whose SHA-256 is the
session's key in the store, next to the ESIA tokens, which never leave the
server and are kept sealed with a key derived from the cookie's secret
(:mod:`server.signin.sealed`): a copy of the database opens none of them.

Every use of a session (a request, a WebSocket ``hello``, an open socket's
timer) goes through :meth:`WebSessions.admit` or :meth:`WebSessions.renew`:
shortly before the ESIA access token expires (``web.renew_before``) the
server renews it with the refresh token; if ESIA refuses, the session ends
and the caller gets ``session.expired``.  Renewals of one session on this
node share one request; two nodes renewing at once are settled by the
store's compare-and-set (the loser reads the winner's tokens).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Final

from server.access import AccessGate, Admission
from server.auth.tokens import TokenVerifier
from server.clock import Clock
from server.config import WebConfig
from server.errors import AuthError, ForbiddenError, ZvonokError
from server.signin.relying_party import EsiaRefusal, RelyingParty, TokenSet
from server.signin.sealed import Unsealable, seal, session_key, unseal
from server.store.base import WebSessionStore
from server.store.web_sql import SignIn, WebSession
from signaling import errors as wire

log = logging.getLogger(__name__)

SESSION_EXPIRED: Final = wire.SESSION_EXPIRED
"""The session ended (ESIA refused to renew it, it ran its lifetime, or it was signed out)."""

MAX_RETURN_TO: Final = 512


def digest(secret: str) -> str:
    """The SHA-256 of a cookie or state, hex: all the store keeps of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def state_tag(state: str) -> str:
    """A short name for a sign-in, from its state: the suffix of its binding cookie."""
    return digest(state)[:16]


def expired() -> AuthError:
    return AuthError(SESSION_EXPIRED, "the session has expired; sign in again")


class SignInRefused(ZvonokError):
    """The callback cannot sign anyone in; ``code`` picks the page (server/signin/pages.py)."""

    http_status = 400

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, f"sign-in refused: {code}")
        self.detail = detail  # for the log only (an ESIA code, an auth.* code)


def safe_return_to(value: str | None) -> str:
    """A local path to come back to after signing in; anything else is ``/``.

    Only ``/path?query`` of this server: no scheme, no host, no ``//`` or
    ``/\\`` (which browsers read as another host), no control characters.
    """
    if not value or len(value) > MAX_RETURN_TO or not value.startswith("/"):
        return "/"
    if value.startswith(("//", "/\\")) or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return "/"
    return value


@dataclass(frozen=True, slots=True)
class Started:
    """A sign-in begun: where to send the browser, and the cookie that binds it."""

    authorization_url: str
    browser_secret: str
    tag: str  # names this sign-in's binding cookie: several tabs may sign in at once


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A sign-in completed: the new session's cookie value, and where to go."""

    session_secret: str
    return_to: str
    admission: Admission


class WebSessions:
    """Sign-ins under way and the sessions of signed-in browsers."""

    def __init__(
        self,
        *,
        store: WebSessionStore,
        relying_party: RelyingParty,
        verifier: TokenVerifier,
        gate: AccessGate,
        clock: Clock,
        config: WebConfig,
    ) -> None:
        self._store = store
        self._rp = relying_party
        self._verifier = verifier
        self._gate = gate
        self._clock = clock
        self._config = config
        self._renewals: dict[str, asyncio.Future[WebSession]] = {}

    @property
    def renew_before(self) -> float:
        return self._config.renew_before

    # -- signing in ----------------------------------------------------------------

    async def begin(self, return_to: str | None) -> Started:
        """Start a sign-in: a fresh state, bound to a fresh browser secret."""
        state = str(uuid.uuid4())  # ESIA wants a UUID
        browser = secrets.token_urlsafe(32)
        now = self._clock.time()
        sign_in = SignIn(
            digest(browser), safe_return_to(return_to), now + self._config.sign_in_timeout
        )
        await self._store.put_sign_in(digest(state), sign_in, now)
        return Started(self._rp.authorization_url(state), browser, state_tag(state))

    def logout_url(self, redirect_url: str) -> str:
        """ESIA's sign-out for the browser, coming back to ``redirect_url``."""
        return self._rp.logout_url(redirect_url)

    async def take(self, state: str, browser_secret: str | None) -> SignIn:
        """The sign-in this callback ends, consumed; :class:`SignInRefused` if it is not one.

        Wrong, replayed and expired states are told apart for the page; a
        state brought by another browser (no cookie, or another) is refused
        and, being taken, cannot be tried again.
        """
        if not state or len(state) > 128:
            raise SignInRefused("sign_in.state_unknown")
        sign_in = await self._store.take_sign_in(digest(state))
        if sign_in is None:
            raise SignInRefused("sign_in.state_unknown")
        if self._clock.time() >= sign_in.expires_at:
            raise SignInRefused("sign_in.expired")
        if not browser_secret or not hmac.compare_digest(
            digest(browser_secret), sign_in.browser_digest
        ):
            raise SignInRefused("sign_in.other_browser")
        return sign_in

    async def complete(self, sign_in: SignIn, code: str) -> SignedIn:
        """Exchange the code, verify what ESIA handed over, and open a session."""
        if not code or len(code) > 4096:
            raise SignInRefused("sign_in.code_refused", "no code")
        try:
            tokens = await self._rp.exchange(code)
        except EsiaRefusal as exc:
            raise SignInRefused("sign_in.code_refused", exc.esia_code or exc.error) from exc
        admission = await self._admit_tokens(tokens, None)
        secret = secrets.token_urlsafe(32)
        now = self._clock.time()
        row, key = digest(secret), session_key(secret)
        await self._store.create_web_session(
            WebSession(
                id_digest=row,
                person_oid=admission.token.oid,
                access_token=seal(key, row, tokens.access_token),
                refresh_token=seal(key, row, tokens.refresh_token),
                access_expires_at=admission.token.expires_at,
                created_at=now,
                expires_at=now + self._config.session_lifetime,
            )
        )
        log.info("browser session opened for oid=%d", admission.token.oid)
        return SignedIn(secret, sign_in.return_to, admission)

    async def _admit_tokens(self, tokens: TokenSet, oid: int | None) -> Admission:
        """The person the tokens are for, every token checked; :class:`SignInRefused` if not."""
        try:
            admission = await self._gate.admit(tokens.access_token)
            if tokens.id_token is None:
                if oid is None:  # the first exchange must say who signed in, for whom
                    raise SignInRefused("sign_in.token_refused", "no id_token")
            else:
                identity = await self._verifier.verify_id_token_async(tokens.id_token)
                if identity.oid != admission.token.oid:
                    raise SignInRefused("sign_in.token_refused", "id_token for another person")
        except ForbiddenError as exc:
            raise SignInRefused("sign_in.unknown_person", exc.code) from exc
        except AuthError as exc:
            raise SignInRefused("sign_in.token_refused", exc.code) from exc
        if oid is not None and admission.token.oid != oid:
            raise SignInRefused("sign_in.token_refused", "renewed for another person")
        return admission

    # -- using a session -----------------------------------------------------------

    async def admit(self, session_secret: str) -> tuple[Admission, WebSession]:
        """The person of a session cookie, renewing the ESIA token first if it is due.

        ``session.expired`` (an :class:`AuthError`) for no such session, one
        past its lifetime, or one ESIA would not renew.
        """
        record = await self._record(session_secret)
        key = session_key(session_secret)
        if self._clock.time() >= record.access_expires_at - self._config.renew_before:
            record = await self._renewed(record, key)
        try:
            return await self._gate.admit(self._open(key, record, record.access_token)), record
        except AuthError as exc:
            log.info("browser session of oid=%d refused: %s", record.person_oid, exc.code)
            raise expired() from exc

    async def renew(self, session_secret: str) -> tuple[Admission, WebSession]:
        """Renew the session's ESIA token now (an open socket's timer), then admit."""
        key = session_key(session_secret)
        record = await self._renewed(await self._record(session_secret), key)
        return await self._gate.admit(self._open(key, record, record.access_token)), record

    async def end(self, session_secret: str) -> bool:
        """Sign out: the session is deleted on the server.  Whether there was one."""
        ended = await self._store.end_web_session(digest(session_secret))
        if ended:
            log.info("browser session ended by sign-out")
        return ended

    async def _record(self, session_secret: str) -> WebSession:
        if not session_secret or len(session_secret) > 128:
            raise expired()
        record = await self._store.web_session(digest(session_secret))
        if record is None:
            raise expired()
        if self._clock.time() >= record.expires_at:
            await self._store.end_web_session(record.id_digest)
            raise expired()
        return record

    def _open(self, key: bytes, record: WebSession, sealed: str) -> str:
        """A token of the session, unsealed; ``session.expired`` if it does not open
        (a row stored before tokens were sealed, or altered: sign in again)."""
        try:
            return unseal(key, record.id_digest, sealed)
        except Unsealable as exc:
            log.info("browser session of oid=%d refused: its tokens do not open", record.person_oid)
            raise expired() from exc

    async def _renewed(self, record: WebSession, key: bytes) -> WebSession:
        """The session after renewing its ESIA token; one renewal at a time per session."""
        pending = self._renewals.get(record.id_digest)
        if pending is None:
            pending = asyncio.ensure_future(self._renew(record, key))
            self._renewals[record.id_digest] = pending
            pending.add_done_callback(lambda _: self._renewals.pop(record.id_digest, None))
        return await asyncio.shield(pending)

    async def _renew(self, record: WebSession, key: bytes) -> WebSession:
        refresh_token = self._open(key, record, record.refresh_token)
        try:
            tokens = await self._rp.refresh(refresh_token)
            admission = await self._admit_tokens(tokens, record.person_oid)
        except (EsiaRefusal, SignInRefused) as exc:
            current = await self._store.web_session(record.id_digest)
            if current is not None and current.refresh_token != record.refresh_token:
                return current  # another node renewed it first
            await self._store.end_web_session(record.id_digest)
            log.info(
                "browser session of oid=%d ended: renewal refused (%s)",
                record.person_oid,
                getattr(exc, "esia_code", None) or exc.code,
            )
            raise expired() from exc
        swapped = await self._store.renew_web_session(
            record.id_digest,
            old_refresh_token=record.refresh_token,  # compared sealed, as stored
            access_token=seal(key, record.id_digest, tokens.access_token),
            refresh_token=seal(key, record.id_digest, tokens.refresh_token),
            access_expires_at=admission.token.expires_at,
        )
        current = await self._store.web_session(record.id_digest)
        if current is None:
            raise expired()  # signed out meanwhile
        if swapped:
            log.info("browser session of oid=%d renewed", record.person_oid)
        return current
