"""The identity provider's keys that the verifier trusts.

ESIA publishes X.509 certificates rather than a JWKS and rotates them without
notice, so the configuration lists several (past, current, next) and a token
signed by any of them is accepted.  Only each certificate's public key is
used: the certificate is a container that ESIA hands out, not a chain to
validate, and its dates are reported for operators rather than enforced.
ESIA's test contour sometimes publishes a bare key instead (a ``PUBLIC KEY``
PEM block, SubjectPublicKeyInfo), which is taken the same way.

Two kinds of key are trusted: RSA (``RS256``/``RS384``/``RS512``) and
GOST R 34.10-2012 256-bit on the CryptoPro-A curve (``GOST3410_2012_256``,
:mod:`server.auth.gost`).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from server.auth.esia import KeyFamily, SignatureAlgorithm
from server.auth.gost import GostPublicKey
from server.auth.gost_keys import (
    DerError,
    certificate_spki,
    is_gost_spki,
    pem_blocks,
    public_key_from_spki,
)
from server.errors import ConfigError

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 2048
"""Smallest RSA modulus trusted; ESIA's keys are 2048 bits."""

BARE_KEY_SUBJECT = "(bare public key)"
"""What stands for the subject of a key given without a certificate."""


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """One trusted key, from a certificate or bare: what identifies it and what verifies.

    ``fingerprint`` is the SHA-256 of the DER certificate, or of the DER
    SubjectPublicKeyInfo for a bare key; ``not_valid_after`` is None for a
    bare key.  ``jwk`` is the key as joserfc takes it (RSA only).
    """

    subject: str
    fingerprint: str
    """SHA-256 of the DER certificate or bare key, in hex: how operators tell keys apart."""
    not_valid_after: datetime | None
    public_key: rsa.RSAPublicKey | GostPublicKey = field(repr=False)
    jwk: RSAKey | None = field(repr=False, compare=False)

    @property
    def family(self) -> KeyFamily:
        return "GOST" if isinstance(self.public_key, GostPublicKey) else "RSA"

    @classmethod
    def from_x509(cls, certificate: x509.Certificate) -> TrustedCertificate:
        """Trust ``certificate``'s key; :class:`ConfigError` if it cannot verify our algorithms."""
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        spki = certificate_spki(certificate.public_bytes(serialization.Encoding.DER))
        with warnings.catch_warnings():
            # ESIA's subjects hold attributes longer than X.520 allows (a street address of
            # 120 characters); cryptography warns and reads them all the same.
            warnings.simplefilter("ignore", UserWarning)
            subject = certificate.subject.rfc4514_string()
        return cls._from_spki(
            spki,
            subject=subject,
            fingerprint=fingerprint,
            not_valid_after=certificate.not_valid_after_utc,
        )

    @classmethod
    def from_spki(cls, spki: bytes) -> TrustedCertificate:
        """Trust a bare key (DER SubjectPublicKeyInfo), as ESIA's test contour publishes them."""
        return cls._from_spki(
            spki,
            subject=BARE_KEY_SUBJECT,
            fingerprint=hashlib.sha256(spki).hexdigest(),
            not_valid_after=None,
        )

    @classmethod
    def _from_spki(
        cls, spki: bytes, *, subject: str, fingerprint: str, not_valid_after: datetime | None
    ) -> TrustedCertificate:
        if is_gost_spki(spki):
            try:
                gost_key = public_key_from_spki(spki)
            except (DerError, ValueError) as exc:
                raise ConfigError(f"key {fingerprint}: {exc}") from exc
            return cls(subject, fingerprint, not_valid_after, gost_key, None)
        try:
            public_key = serialization.load_der_public_key(spki)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ConfigError(f"key {fingerprint} is of an unsupported kind") from exc
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise ConfigError(
                f"certificate {fingerprint} holds a {type(public_key).__name__}, "
                "but only RSA and GOST R 34.10-2012 keys are supported"
            )
        if public_key.key_size < MIN_RSA_BITS:
            raise ConfigError(
                f"certificate {fingerprint} holds a {public_key.key_size}-bit RSA key; "
                f"at least {MIN_RSA_BITS} bits are required"
            )
        pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(subject, fingerprint, not_valid_after, public_key, RSAKey.import_key(pem))

    def made_signature(self, signature: bytes, algorithm: SignatureAlgorithm) -> bool:
        """Whether this key produced ``signature`` under ``algorithm``, over whatever content.

        Called only after the signature failed to verify.  With RSASSA-PKCS1-v1_5
        the public key opens the signature and cryptography checks that inside
        is a well-formed DigestInfo for ``algorithm``'s hash; only the holder of
        the private key can produce that.  So a true answer means the token was
        signed by a trusted key and then edited, not signed by a stranger.  A
        GOST signature cannot be opened (any (r, s) verifies under any key for
        some digest), so for GOST the answer is always False here; the
        verifier's memory of signatures it has seen fills in.
        """
        if not isinstance(self.public_key, rsa.RSAPublicKey) or algorithm.digest is None:
            return False
        try:
            self.public_key.recover_data_from_signature(
                signature, padding.PKCS1v15(), algorithm.digest()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def load_certificates(pems: Sequence[bytes]) -> tuple[TrustedCertificate, ...]:
    """Read every PEM certificate and ``PUBLIC KEY`` in ``pems`` (a value may hold several).

    Duplicates are kept once.  Raises :class:`ConfigError` when a value holds
    no certificate or key, something else (a private key, say), an unusable
    key, or when nothing at all is given.
    """
    trusted: dict[str, TrustedCertificate] = {}
    for index, pem in enumerate(pems):
        try:
            blocks = pem_blocks(pem)
        except (DerError, TypeError) as exc:
            raise ConfigError(f"certificate #{index + 1} is not PEM") from exc
        if not blocks:
            raise ConfigError(f"certificate #{index + 1} holds no PEM certificate or public key")
        for block in blocks:
            cert = _trusted(block.label, block.der, index)
            trusted.setdefault(cert.fingerprint, cert)
    if not trusted:
        raise ConfigError("no identity provider certificate is configured")
    return tuple(trusted.values())


def _trusted(label: str, der: bytes, index: int) -> TrustedCertificate:
    try:
        if label == "CERTIFICATE":
            return TrustedCertificate.from_x509(x509.load_der_x509_certificate(der))
        if label == "PUBLIC KEY":
            return TrustedCertificate.from_spki(der)
    except ValueError as exc:  # DerError is one too
        raise ConfigError(f"certificate #{index + 1}: a {label} block does not parse") from exc
    raise ConfigError(
        f"certificate #{index + 1} holds a {label} block; "
        "only CERTIFICATE and PUBLIC KEY blocks are trusted"
    )


def log_certificates(certificates: Sequence[TrustedCertificate], now: datetime) -> None:
    """Tell operators which keys are trusted, and warn about expired certificates.

    An expired certificate stays trusted (ESIA may still sign with its key for
    a while after rotation); the warning is a reminder to tidy the list.
    """
    for cert in certificates:
        until = cert.not_valid_after.isoformat() if cert.not_valid_after else "no date (bare key)"
        logger.info(
            "trusting identity provider %s key %s (%s), valid until %s",
            cert.family,
            cert.fingerprint[:16],
            cert.subject,
            until,
        )
        if cert.not_valid_after is not None and cert.not_valid_after < now:
            logger.warning(
                "identity provider certificate %s expired on %s",
                cert.fingerprint[:16],
                cert.not_valid_after.isoformat(),
            )
