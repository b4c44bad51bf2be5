"""Verifying ESIA access tokens.

:class:`TokenVerifier` turns the token a client presents into an
:class:`AccessToken` of checked claims, or refuses it with an
:class:`~server.errors.AuthError` whose code says why (``server.auth.errors``).
The checks run in a fixed order, and claims are read only once the signature
is known good:

1. parse: a compact JWS of at most 16 KiB with a JSON-object header;
2. ``alg``: ``none`` is refused outright, anything else off the allow-list next;
3. signature: by any trusted key (ESIA sends no ``kid``), RSA through
   joserfc, GOST R 34.10-2012 through :mod:`server.auth.gost`; if none
   verifies, a trusted key that nonetheless made the signature means the
   token was edited (``auth.tampered``), otherwise it is a stranger's
   (``auth.bad_signature``).  A token whose signature was verified before is
   not verified again while it is valid;
4. claims: ``sbt`` is ``access``, the required claims are present and typed,
   ``iss`` and ``client_id`` are ours, and ``exp``/``nbf``/``iat`` hold at the
   injected clock's time give or take the leeway.

:meth:`TokenVerifier.verify_async` is what the server calls: it checks GOST
signatures in worker processes (:mod:`server.auth.offload`) so that a storm
of sign-ins does not hold the event loop.  Finding the person by OID in the
roster is the caller's job.  The raw token
is never logged nor kept; a refusal is logged with a short SHA-256
fingerprint so an operator can match a client's report to a log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from joserfc import jws as joserfc_jws
from joserfc.errors import JoseError

from server.auth import errors
from server.auth.cache import ExpiringSet
from server.auth.certificates import TrustedCertificate, load_certificates, log_certificates
from server.auth.compact import CompactJWS, claims_object, parse_compact
from server.auth.errors import VerifierBusy, busy, refusal
from server.auth.esia import (
    ACCESS,
    CLAIM_CLIENT_ID,
    CLAIM_OID,
    CLAIM_SCOPE,
    CLAIM_SID,
    GOST_ALG,
    HEADER_SUBJECT_TYPE,
    ID,
    SIGNATURE_ALGORITHMS,
    jws_registry,
)
from server.auth.gost import GostPublicKey
from server.auth.offload import SignaturePool, find_gost_signer
from server.auth.streebog import log_implementation
from server.clock import Clock
from server.errors import AuthError, ConfigError

logger = logging.getLogger(__name__)

MAX_LEEWAY = 300.0
"""Largest clock-skew allowance accepted in configuration, in seconds."""

DEFAULT_CACHE_SIZE = 10_000
"""Tokens (and their signatures) remembered as verified, by default."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The verified claims of an ESIA access token (never the token itself).

    ``oid`` is the person's ESIA object id (``urn:esia:sbj_id``), ``sid`` the
    ESIA session, ``scope`` the granted scopes in token order.  Times are
    seconds since the Unix epoch.
    """

    oid: int
    sid: str
    client_id: str
    issuer: str
    scope: tuple[str, ...]
    issued_at: float
    not_before: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class IdToken:
    """The verified claims of an ESIA id token: who signed in, for which system.

    ``oid`` is ``sub``, the person's OID; ``audience`` is ``aud``, our
    client_id.  Times are seconds since the Unix epoch.
    """

    oid: int
    audience: str
    issuer: str
    issued_at: float
    expires_at: float


class TokenVerifier:
    """Checks ESIA access tokens against a set of trusted keys.

    ``certificates`` are PEM values holding X.509 certificates or bare
    ``PUBLIC KEY`` blocks (RSA, or GOST R 34.10-2012 on the CryptoPro-A
    curve); one value may hold several, and a signature by any of their keys
    is accepted, which is how ESIA's unannounced rotations are survived
    (configure past, current and next).  ``leeway`` is the clock skew allowed
    on ``exp``, ``nbf`` and ``iat``, in seconds.  ``algorithms`` is the
    allow-list of JWS ``alg`` values; every trusted key must be usable by one
    of them and every allowed algorithm must have a key, so a mismatch is a
    start-up error rather than every sign-in refused.  ``cache_size`` bounds
    the memory of verified tokens (0: none).  ``pool``, if given, checks GOST
    signatures for :meth:`verify_async` off the event loop.  Invalid
    configuration raises :class:`ConfigError`.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        certificates: Sequence[bytes],
        clock: Clock,
        leeway: float = 30.0,
        algorithms: Collection[str] = ("RS256",),
        cache_size: int = DEFAULT_CACHE_SIZE,
        pool: SignaturePool | None = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigError("the identity provider's issuer must be a non-empty string")
        if not isinstance(client_id, str) or not client_id:
            raise ConfigError("client_id must be a non-empty string")
        if isinstance(leeway, bool) or not isinstance(leeway, int | float):
            raise ConfigError("the token leeway must be a number of seconds")
        if not 0.0 <= leeway <= MAX_LEEWAY:
            raise ConfigError(f"the token leeway must be between 0 and {MAX_LEEWAY:g} seconds")
        if isinstance(algorithms, str):
            raise ConfigError("algorithms must be a collection of names, not one string")
        allowed = frozenset(algorithms)
        if not allowed:
            raise ConfigError("at least one signature algorithm must be allowed")
        unsupported = sorted(allowed - SIGNATURE_ALGORITHMS.keys())
        if unsupported:
            raise ConfigError(
                f"unsupported token signature algorithms {unsupported}; "
                f"supported are {sorted(SIGNATURE_ALGORITHMS)}"
            )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigError("the verified-token cache size must be a whole number >= 0")
        self._issuer = issuer
        self._client_id = client_id
        self._clock = clock
        self._leeway = float(leeway)
        self._algorithms = allowed
        self._registry = jws_registry(sorted(allowed))
        self._certificates = load_certificates(certificates)
        _check_families(self._certificates, allowed)
        self._rsa = tuple(c for c in self._certificates if c.family == "RSA")
        self._gost: tuple[GostPublicKey, ...] = tuple(
            c.public_key for c in self._certificates if isinstance(c.public_key, GostPublicKey)
        )
        self._verified = ExpiringSet(cache_size)
        self._signatures = ExpiringSet(cache_size)
        self._pool = pool
        self._inflight: dict[bytes, asyncio.Future[int | None]] = {}
        self.signature_checks = 0
        """Signatures checked so far (cache hits and shared checks not counted)."""
        log_certificates(self._certificates, datetime.fromtimestamp(clock.time(), UTC))
        if self._gost:
            log_implementation()

    @classmethod
    def from_files(
        cls,
        paths: Sequence[Path],
        *,
        issuer: str,
        client_id: str,
        clock: Clock,
        leeway: float = 30.0,
        algorithms: Collection[str] = ("RS256",),
        cache_size: int = DEFAULT_CACHE_SIZE,
        pool: SignaturePool | None = None,
    ) -> TokenVerifier:
        """A verifier trusting the PEM certificates and keys in the files at ``paths``.

        Raises :class:`ConfigError` naming the file that cannot be read or
        holds no usable certificate or key.
        """
        pems: list[bytes] = []
        for path in paths:
            try:
                pem = Path(path).read_bytes()
                load_certificates([pem])
            except OSError as exc:
                raise ConfigError(f"cannot read certificate file {path}: {exc.strerror}") from exc
            except ConfigError as exc:
                raise ConfigError(f"certificate file {path}: {exc}") from exc
            pems.append(pem)
        return cls(
            issuer=issuer,
            client_id=client_id,
            certificates=pems,
            clock=clock,
            leeway=leeway,
            algorithms=algorithms,
            cache_size=cache_size,
            pool=pool,
        )

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def certificates(self) -> tuple[TrustedCertificate, ...]:
        """The trusted certificates and keys, for a health or admin view."""
        return self._certificates

    def verify(self, token: str) -> AccessToken:
        """The verified claims of ``token``, or :class:`AuthError` with a stable code.

        Every check runs on the calling thread.  The error's message is fixed
        per code and never contains the token.
        """
        try:
            jws, key = self._read(token)
            if not self._known(key):
                self._settle(key, jws, self._signer_found(token, jws))
            return self._check_claims(jws)
        except AuthError as exc:
            logger.info("access token %s refused: %s", fingerprint(token), exc.code)
            raise

    async def verify_async(self, token: str) -> AccessToken:
        """As :meth:`verify`, with GOST signatures checked by the pool when there is one.

        The same token arriving again while its check runs shares that check.
        Raises :class:`~server.auth.errors.VerifierBusy` (``auth.busy``) when
        the pool's queue is full.
        """
        try:
            jws = await self._signed_async(token)
            return self._check_claims(jws)
        except AuthError as exc:
            logger.info("access token %s refused: %s", fingerprint(token), exc.code)
            raise
        except VerifierBusy:
            logger.info("access token %s not checked: too many sign-ins", fingerprint(token))
            raise

    async def verify_id_token_async(self, token: str) -> IdToken:
        """The claims of an ESIA id token (``sbt`` ``id``), or :class:`AuthError`.

        Signature and time as for an access token; ``iss`` is ours and
        ``aud`` is our client_id (``auth.wrong_client`` otherwise: a token
        issued to another system), ``sub`` the person's OID.
        """
        try:
            jws = await self._signed_async(token)
            return self._check_id_claims(self._claims_of(jws, ID))
        except AuthError as exc:
            logger.info("id token %s refused: %s", fingerprint(token), exc.code)
            raise
        except VerifierBusy:
            logger.info("id token %s not checked: too many sign-ins", fingerprint(token))
            raise

    async def _signed_async(self, token: str) -> CompactJWS:
        """The parsed token once its signature is known good (checked in the pool for GOST)."""
        jws, key = self._read(token)
        if not self._known(key):
            if jws.alg == GOST_ALG and self._pool is not None:
                self._check_header(jws)
                found = await self._gost_in_pool(self._pool, key, jws)
            else:
                found = self._signer_found(token, jws)
            if not self._known(key):  # another caller may have settled it meanwhile
                self._settle(key, jws, found)
        return jws

    def verify_signed(self, token: str, *, token_type: str) -> dict[str, Any]:
        """The claims of an ESIA token of type ``token_type`` (its ``sbt``), checked in common.

        Signature, ``sbt``, ``iss``, ``client_id`` and time are checked as for
        an access token; what the claims mean beyond that is the caller's.
        For the other kinds of token ESIA signs (``authorization_code``, and
        later id tokens).
        """
        try:
            jws, key = self._read(token)
            if not self._known(key):
                self._settle(key, jws, self._signer_found(token, jws))
            claims = self._claims_of(jws, token_type)
            self._check_standard(claims)
            return claims
        except AuthError as exc:
            logger.info("%s token %s refused: %s", token_type, fingerprint(token), exc.code)
            raise

    # -- steps -------------------------------------------------------------------

    def _read(self, token: str) -> tuple[CompactJWS, bytes]:
        jws = parse_compact(token)
        self._check_algorithm(jws.alg)
        return jws, hashlib.sha256(token.encode("ascii")).digest()

    def _check_algorithm(self, alg: str) -> None:
        if alg.lower() == "none":
            _refuse(errors.ALG_NONE)
        if alg not in self._algorithms:
            _refuse(errors.ALG_NOT_ALLOWED)

    def _known(self, key: bytes) -> bool:
        return self._verified.holds(key, self._clock.time())

    def _check_header(self, jws: CompactJWS) -> None:
        """The registered header fields' types, as joserfc checks them for RSA tokens."""
        try:
            self._registry.check_header(dict(jws.header))
        except JoseError as exc:
            raise refusal(errors.MALFORMED) from exc

    def _signer_found(self, token: str, jws: CompactJWS) -> bool:
        """Whether a trusted key verifies ``jws``, checked here and now."""
        self.signature_checks += 1
        if jws.alg == GOST_ALG:
            self._check_header(jws)
            return find_gost_signer(self._gost, jws.signing_input, jws.signature) is not None
        try:
            obj = joserfc_jws.extract_compact(token.encode("ascii"), registry=self._registry)
            for cert in self._rsa:
                if joserfc_jws.validate_compact(obj, cert.jwk, registry=self._registry):
                    return True
        except JoseError as exc:
            # Header fields of the wrong type, oversized parts: not a JWS we accept.
            raise refusal(errors.MALFORMED) from exc
        return False

    async def _gost_in_pool(self, pool: SignaturePool, key: bytes, jws: CompactJWS) -> bool:
        """Whether a trusted GOST key made ``jws``'s signature, asked of the worker pool."""
        pending = self._inflight.get(key)
        if pending is None:
            pending = pool.submit(self._gost, jws.signing_input, jws.signature)
            self.signature_checks += 1
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        try:
            # Shielded: a caller that goes away must not cancel the check others wait on.
            signer = await asyncio.shield(pending)
        except asyncio.CancelledError:
            if pending.cancelled():  # the pool closed under it, not this caller
                raise busy() from None
            raise
        except BrokenProcessPool as exc:
            raise busy() from exc
        return signer is not None

    def _settle(self, key: bytes, jws: CompactJWS, found: bool) -> None:
        """Remember a good signature; refuse a bad one, telling edits apart from strangers."""
        signature_key = hashlib.sha256(jws.signature).digest()
        now = self._clock.time()
        if found:
            expires = self._expiry(jws)
            if expires is not None:
                self._verified.add(key, expires, now)
                self._signatures.add(signature_key, expires, now)
            return
        algorithm = SIGNATURE_ALGORITHMS[jws.alg]
        if self._signatures.holds(signature_key, now) or any(
            cert.made_signature(jws.signature, algorithm) for cert in self._rsa
        ):
            _refuse(errors.TAMPERED)
        _refuse(errors.BAD_SIGNATURE)

    def _expiry(self, jws: CompactJWS) -> float | None:
        """Until when a verified token is worth remembering: its ``exp`` plus the leeway."""
        try:
            return _time(claims_object(jws), "exp") + self._leeway
        except AuthError:
            return None  # the claims check refuses it anyway

    def _claims_of(self, jws: CompactJWS, token_type: str) -> dict[str, Any]:
        if jws.header.get(HEADER_SUBJECT_TYPE) != token_type:
            _refuse(errors.WRONG_TOKEN_TYPE)
        return claims_object(jws)

    def _check_standard(self, claims: Mapping[str, Any]) -> tuple[str, str, float, float, float]:
        """``iss``, ``client_id``, ``iat``, ``nbf``, ``exp``: typed, ours, and holding now."""
        client_id = _string(claims, CLAIM_CLIENT_ID)
        issuer = _string(claims, "iss")
        issued_at = _time(claims, "iat")
        not_before = _time(claims, "nbf")
        expires_at = _time(claims, "exp")
        if issuer != self._issuer:
            _refuse(errors.WRONG_ISSUER)
        if client_id != self._client_id:
            _refuse(errors.WRONG_CLIENT)
        now = self._clock.time()
        # RFC 7519: refuse "on or after" exp and "before" nbf; iat in the
        # future means the issuer's clock (or the token) is wrong.
        if now >= expires_at + self._leeway:
            _refuse(errors.EXPIRED)
        if now < not_before - self._leeway or now < issued_at - self._leeway:
            _refuse(errors.NOT_YET_VALID)
        return issuer, client_id, issued_at, not_before, expires_at

    def _check_id_claims(self, claims: Mapping[str, Any]) -> IdToken:
        issuer = _string(claims, "iss")
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]  # RFC 7519 allows a one-element array
        if not isinstance(audience, str) or not audience:
            _refuse(errors.BAD_CLAIMS)
        oid = _subject(claims)
        issued_at = _time(claims, "iat")
        expires_at = _time(claims, "exp")
        not_before = _time(claims, "nbf") if "nbf" in claims else issued_at
        if issuer != self._issuer:
            _refuse(errors.WRONG_ISSUER)
        if audience != self._client_id:
            _refuse(errors.WRONG_CLIENT)
        now = self._clock.time()
        if now >= expires_at + self._leeway:
            _refuse(errors.EXPIRED)
        if now < not_before - self._leeway or now < issued_at - self._leeway:
            _refuse(errors.NOT_YET_VALID)
        return IdToken(
            oid=oid, audience=audience, issuer=issuer, issued_at=issued_at, expires_at=expires_at
        )

    def _check_claims(self, jws: CompactJWS) -> AccessToken:
        claims = self._claims_of(jws, ACCESS)
        oid = _oid(claims)
        sid = _string(claims, CLAIM_SID)
        scope = tuple(_string(claims, CLAIM_SCOPE, allow_empty=True).split())
        issuer, client_id, issued_at, not_before, expires_at = self._check_standard(claims)
        return AccessToken(
            oid=oid,
            sid=sid,
            client_id=client_id,
            issuer=issuer,
            scope=scope,
            issued_at=issued_at,
            not_before=not_before,
            expires_at=expires_at,
        )


def _check_families(certificates: Sequence[TrustedCertificate], allowed: frozenset[str]) -> None:
    """Every key usable by an allowed algorithm (else ConfigError); warn of algorithms with no key.

    A key nothing may use is the trap: ESIA's GOST certificate configured with
    only RS256 allowed refuses everyone.  An algorithm without a key only
    refuses its tokens as ``auth.bad_signature``, which is worth a warning.
    """
    families = {SIGNATURE_ALGORITHMS[name].family for name in allowed}
    for cert in certificates:
        if cert.family not in families:
            raise ConfigError(
                f"key {cert.fingerprint[:16]} is {cert.family}, but no {cert.family} "
                f"algorithm is allowed (algorithms {sorted(allowed)})"
            )
    present = {cert.family for cert in certificates}
    for name in sorted(allowed):
        if SIGNATURE_ALGORITHMS[name].family not in present:
            logger.warning("token algorithm %s is allowed, but no key for it is configured", name)


def fingerprint(token: object) -> str:
    """A short SHA-256 fingerprint of ``token``, the only trace of it allowed in logs."""
    text = token if isinstance(token, str) else repr(type(token))
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest[:12]}"


def _refuse(code: str) -> NoReturn:
    raise refusal(code)


def _oid(claims: Mapping[str, Any]) -> int:
    value = claims.get(CLAIM_OID)
    # bool is an int in Python but never an OID.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _refuse(errors.BAD_CLAIMS)
    return value


def _subject(claims: Mapping[str, Any]) -> int:
    """``sub`` of an id token: the OID, a positive integer (or its decimal digits)."""
    value = claims.get("sub")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _refuse(errors.BAD_CLAIMS)
    return value


def _string(claims: Mapping[str, Any], name: str, *, allow_empty: bool = False) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not (value or allow_empty):
        _refuse(errors.BAD_CLAIMS)
    return value


def _time(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        _refuse(errors.BAD_CLAIMS)
    try:
        seconds = float(value)
    except OverflowError:
        _refuse(errors.BAD_CLAIMS)
    if not math.isfinite(seconds):
        _refuse(errors.BAD_CLAIMS)
    return seconds
