"""Verifying ESIA access tokens.

:class:`TokenVerifier` turns the token a client presents into an
:class:`AccessToken` of checked claims, or refuses it with an
:class:`~server.errors.AuthError` whose code says why (``server.auth.errors``).
The checks run in a fixed order, and claims are read only once the signature
is known good:

1. parse: a compact JWS of at most 16 KiB with a JSON-object header;
2. ``alg``: ``none`` is refused outright, anything else off the allow-list next;
3. signature: by any trusted certificate (ESIA sends no ``kid``); if none
   verifies, a trusted key that nonetheless made the signature means the
   token was edited (``auth.tampered``), otherwise it is a stranger's
   (``auth.bad_signature``);
4. claims: ``sbt`` is ``access``, the required claims are present and typed,
   ``iss`` and ``client_id`` are ours, and ``exp``/``nbf``/``iat`` hold at the
   injected clock's time give or take the leeway.

Finding the person by OID in the roster is the caller's job.  The raw token
is never logged nor kept; a refusal is logged with a short SHA-256
fingerprint so an operator can match a client's report to a log line.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from joserfc import jws as joserfc_jws
from joserfc.errors import JoseError

from server.auth import errors
from server.auth.certificates import TrustedCertificate, load_certificates, log_certificates
from server.auth.compact import CompactJWS, claims_object, parse_compact
from server.auth.errors import refusal
from server.auth.esia import (
    ACCESS,
    CLAIM_CLIENT_ID,
    CLAIM_OID,
    CLAIM_SCOPE,
    CLAIM_SID,
    HEADER_SUBJECT_TYPE,
    SIGNATURE_ALGORITHMS,
    jws_registry,
)
from server.clock import Clock
from server.errors import AuthError, ConfigError

logger = logging.getLogger(__name__)

MAX_LEEWAY = 300.0
"""Largest clock-skew allowance accepted in configuration, in seconds."""


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


class TokenVerifier:
    """Checks ESIA access tokens against a set of trusted certificates.

    ``certificates`` are PEM X.509 certificates; one value may hold several
    PEM blocks, and a signature by any of their keys is accepted, which is
    how ESIA's unannounced rotations are survived (configure past, current
    and next).  ``leeway`` is the clock skew allowed on ``exp``, ``nbf`` and
    ``iat``, in seconds.  ``algorithms`` is the allow-list of JWS ``alg``
    values.  Invalid configuration raises :class:`ConfigError`.
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
        self._issuer = issuer
        self._client_id = client_id
        self._clock = clock
        self._leeway = float(leeway)
        self._algorithms = allowed
        self._registry = jws_registry(sorted(allowed))
        self._certificates = load_certificates(certificates)
        log_certificates(self._certificates, datetime.fromtimestamp(clock.time(), UTC))

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
    ) -> TokenVerifier:
        """A verifier trusting the PEM certificates in the files at ``paths``.

        Raises :class:`ConfigError` naming the file that cannot be read or
        holds no usable certificate.
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
        )

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def certificates(self) -> tuple[TrustedCertificate, ...]:
        """The trusted certificates, for a health or admin view."""
        return self._certificates

    def verify(self, token: str) -> AccessToken:
        """The verified claims of ``token``, or :class:`AuthError` with a stable code.

        The error's message is fixed per code and never contains the token.
        """
        try:
            return self._verify(token)
        except AuthError as exc:
            logger.info("access token %s refused: %s", fingerprint(token), exc.code)
            raise

    def _verify(self, token: str) -> AccessToken:
        jws = parse_compact(token)
        self._check_algorithm(jws.alg)
        self._check_signature(token, jws)
        return self._check_claims(jws)

    def _check_algorithm(self, alg: str) -> None:
        if alg.lower() == "none":
            _refuse(errors.ALG_NONE)
        if alg not in self._algorithms:
            _refuse(errors.ALG_NOT_ALLOWED)

    def _check_signature(self, token: str, jws: CompactJWS) -> None:
        """Return if a trusted key verifies ``jws``; otherwise refuse, telling edits apart."""
        try:
            obj = joserfc_jws.extract_compact(token.encode("ascii"), registry=self._registry)
            for cert in self._certificates:
                if joserfc_jws.validate_compact(obj, cert.jwk, registry=self._registry):
                    return
        except JoseError as exc:
            # Header fields of the wrong type, oversized parts: not a JWS we accept.
            raise refusal(errors.MALFORMED) from exc
        algorithm = SIGNATURE_ALGORITHMS[jws.alg]
        if any(cert.made_signature(jws.signature, algorithm) for cert in self._certificates):
            _refuse(errors.TAMPERED)
        _refuse(errors.BAD_SIGNATURE)

    def _check_claims(self, jws: CompactJWS) -> AccessToken:
        if jws.header.get(HEADER_SUBJECT_TYPE) != ACCESS:
            _refuse(errors.WRONG_TOKEN_TYPE)
        claims = claims_object(jws)
        access = AccessToken(
            oid=_oid(claims),
            sid=_string(claims, CLAIM_SID),
            client_id=_string(claims, CLAIM_CLIENT_ID),
            issuer=_string(claims, "iss"),
            scope=tuple(_string(claims, CLAIM_SCOPE, allow_empty=True).split()),
            issued_at=_time(claims, "iat"),
            not_before=_time(claims, "nbf"),
            expires_at=_time(claims, "exp"),
        )
        if access.issuer != self._issuer:
            _refuse(errors.WRONG_ISSUER)
        if access.client_id != self._client_id:
            _refuse(errors.WRONG_CLIENT)
        now = self._clock.time()
        # RFC 7519: refuse "on or after" exp and "before" nbf; iat in the
        # future means the issuer's clock (or the token) is wrong.
        if now >= access.expires_at + self._leeway:
            _refuse(errors.EXPIRED)
        if now < access.not_before - self._leeway or now < access.issued_at - self._leeway:
            _refuse(errors.NOT_YET_VALID)
        return access


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
