"""The identity provider's certificates that the verifier trusts.

ESIA publishes X.509 certificates rather than a JWKS and rotates them without
notice, so the configuration lists several (past, current, next) and a token
signed by any of them is accepted.  Only each certificate's public key is
used: the certificate is a container that ESIA hands out, not a chain to
validate, and its dates are reported for operators rather than enforced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from server.auth.esia import SignatureAlgorithm
from server.errors import ConfigError

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 2048
"""Smallest RSA modulus trusted; ESIA's keys are 2048 bits."""


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """One trusted certificate: what identifies it and the key that verifies."""

    subject: str
    fingerprint: str
    """SHA-256 of the DER certificate, lower-case hex: how operators tell certificates apart."""
    not_valid_after: datetime
    public_key: rsa.RSAPublicKey = field(repr=False)
    jwk: RSAKey = field(repr=False, compare=False)

    @classmethod
    def from_x509(cls, certificate: x509.Certificate) -> TrustedCertificate:
        """Trust ``certificate``'s key; :class:`ConfigError` if it cannot verify our algorithms."""
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise ConfigError(
                f"certificate {fingerprint} holds a {type(public_key).__name__}, "
                "but only RSA keys are supported"
            )
        if public_key.key_size < MIN_RSA_BITS:
            raise ConfigError(
                f"certificate {fingerprint} holds a {public_key.key_size}-bit RSA key; "
                f"at least {MIN_RSA_BITS} bits are required"
            )
        spki = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(
            subject=certificate.subject.rfc4514_string(),
            fingerprint=fingerprint,
            not_valid_after=certificate.not_valid_after_utc,
            public_key=public_key,
            jwk=RSAKey.import_key(spki),
        )

    def made_signature(self, signature: bytes, algorithm: SignatureAlgorithm) -> bool:
        """Whether this key produced ``signature`` under ``algorithm``, over whatever content.

        Called only after the signature failed to verify.  With RSASSA-PKCS1-v1_5
        the public key opens the signature and cryptography checks that inside
        is a well-formed DigestInfo for ``algorithm``'s hash; only the holder of
        the private key can produce that.  So a true answer means the token was
        signed by a trusted key and then edited, not signed by a stranger.
        """
        try:
            self.public_key.recover_data_from_signature(
                signature, padding.PKCS1v15(), algorithm.digest()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def load_certificates(pems: Sequence[bytes]) -> tuple[TrustedCertificate, ...]:
    """Read every PEM certificate in ``pems`` (one value may hold several blocks).

    Duplicates are kept once.  Raises :class:`ConfigError` when a value holds
    no certificate or an unusable one, or when nothing at all is given.
    """
    trusted: dict[str, TrustedCertificate] = {}
    for index, pem in enumerate(pems):
        try:
            certificates = x509.load_pem_x509_certificates(pem)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"certificate #{index + 1} is not a PEM X.509 certificate") from exc
        for certificate in certificates:
            cert = TrustedCertificate.from_x509(certificate)
            trusted.setdefault(cert.fingerprint, cert)
    if not trusted:
        raise ConfigError("no identity provider certificate is configured")
    return tuple(trusted.values())


def log_certificates(certificates: Sequence[TrustedCertificate], now: datetime) -> None:
    """Tell operators which certificates are trusted, and warn about expired ones.

    An expired certificate stays trusted (ESIA may still sign with its key for
    a while after rotation); the warning is a reminder to tidy the list.
    """
    for cert in certificates:
        logger.info(
            "trusting identity provider certificate %s (%s), valid until %s",
            cert.fingerprint[:16],
            cert.subject,
            cert.not_valid_after.isoformat(),
        )
        if cert.not_valid_after < now:
            logger.warning(
                "identity provider certificate %s expired on %s",
                cert.fingerprint[:16],
                cert.not_valid_after.isoformat(),
            )
