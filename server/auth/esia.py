"""The shape of an ESIA access token, shared by the verifier and the dev IdP.

An ESIA access token is a compact JWS.  Its protected header looks like::

    {"ver": 1, "typ": "JWT", "sbt": "access", "alg": "RS256"}

with no ``kid``: ESIA publishes X.509 certificates, not a JWKS, so the
verifier tries every trusted certificate.  ``sbt`` (subject type) tells an
access token from ESIA's ID and refresh tokens.  The claims are::

    {"nbf": 1700000000, "scope": "openid fullname", "iss": "http://esia.gosuslugi.ru/",
     "urn:esia:sid": "...", "urn:esia:sbj_id": 1000299654, "exp": 1700003600,
     "iat": 1700000000, "client_id": "ZVONOK"}

``urn:esia:sbj_id`` is the person's OID; ``client_id`` is the system the
token was issued to and stands in for ``aud``, which access tokens lack.

This module holds those names and the algorithm table; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from joserfc.jws import JWSRegistry

ESIA_ISSUER: Final = "http://esia.gosuslugi.ru/"
"""``iss`` of production ESIA tokens (with the trailing slash, compared exactly)."""

ESIA_DOMAIN: Final = "gosuslugi.ru"
"""Hosts under this domain are ESIA's own (production and test contours)."""

ACCESS: Final = "access"
"""The ``sbt`` header value of an access token."""

ID: Final = "id"
"""The ``sbt`` header value of an id token (claims ``sub``, ``aud``, ``iss``, ``iat``, ``exp``)."""

HEADER_VERSION: Final = "ver"
HEADER_SUBJECT_TYPE: Final = "sbt"

CLAIM_OID: Final = "urn:esia:sbj_id"
CLAIM_SID: Final = "urn:esia:sid"
CLAIM_CLIENT_ID: Final = "client_id"
CLAIM_SCOPE: Final = "scope"


GOST_ALG: Final = "GOST3410_2012_256"
"""ESIA's ``alg`` for GOST R 34.10-2012, 256-bit key, Streebog-256 (:mod:`server.auth.gost`)."""

KeyFamily = Literal["RSA", "GOST"]


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """A JWS ``alg`` we know how to verify with a trusted public key.

    ``family`` is the kind of key it verifies with.  ``digest`` is the hash
    under RSASSA-PKCS1-v1_5: a signature that fails to verify can still be
    opened with the public key to see whether that key made it over some
    other content (see ``auth.tampered``); GOST signatures cannot be opened.
    """

    name: str
    family: KeyFamily
    digest: type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512] | None = None


SIGNATURE_ALGORITHMS: Final[Mapping[str, SignatureAlgorithm]] = {
    "RS256": SignatureAlgorithm("RS256", "RSA", hashes.SHA256),
    "RS384": SignatureAlgorithm("RS384", "RSA", hashes.SHA384),
    "RS512": SignatureAlgorithm("RS512", "RSA", hashes.SHA512),
    GOST_ALG: SignatureAlgorithm(GOST_ALG, "GOST"),
}
"""Algorithms a verifier may be configured to allow."""


def jws_registry(algorithms: Collection[str]) -> JWSRegistry:
    """A joserfc registry that allows exactly ``algorithms`` (the RSA ones; joserfc has no GOST).

    Header fields joserfc does not know, ESIA's ``ver`` and ``sbt`` among
    them, are ignored rather than refused (``strict_check_header=False``), as
    RFC 7515 section 4.1 asks: ESIA may add a field at any time, and refusing
    it would stop every sign-in.  Ignoring is safe because nothing acts on a
    header field but ``alg`` and our own check of ``sbt``; the two fields that
    change how a JWS is processed, ``crit`` and ``b64``, are refused before
    joserfc sees the token (:mod:`server.auth.compact`).
    """
    rsa = [a for a in algorithms if SIGNATURE_ALGORITHMS[a].family == "RSA"]
    return JWSRegistry(algorithms=rsa, strict_check_header=False)


def is_esia_host(issuer: str) -> bool:
    """Whether ``issuer`` is a URL on one of ESIA's own hosts."""
    host = (urlsplit(issuer).hostname or "").rstrip(".")  # urlsplit lower-cases it
    return host == ESIA_DOMAIN or host.endswith("." + ESIA_DOMAIN)
