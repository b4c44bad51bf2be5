"""Our system's signature on requests to ESIA: ``client_secret``, and the certificate's hash.

ESIA knows a relying party by its mnemonic (``client_id``) and by the
certificate registered for it on ESIA's technological portal.  Every
authorization request and every token request carries ``client_secret``, our
signature over the request's parameters (:mod:`server.signin.relying_party`
says which, in which order), and ``client_certificate_hash``, which tells ESIA
which of our registered certificates checks it.

:class:`RequestSigner` is the seam.  Production signs with a GOST R 34.10-2012
key (:class:`GostRequestSigner`; ESIA accepts nothing else today), the
development identity provider's relying party with RSA
(:class:`RsaRequestSigner`, RSASSA-PKCS1-v1_5 with SHA-256).  A hardware
module or a CryptoPro service would be a third implementation of the same
two members.  :func:`request_signature_valid` is the other side, what the
local ESIA (:mod:`server.signin.devesia`) checks.

Formats, as ESIA's methodological recommendations give them for ``v2/ac``
and ``v3/te`` and as ilimurzin/esia 4.x and ofstudio/go-api-epgu implement
them:

* the signature is *raw*, not CMS: for GOST the 64 bytes ``s ‖ r`` (each
  32 bytes big-endian), which is what OpenSSL's gost engine writes and what
  CryptoPro's ``csptest`` writes reversed byte for byte (the recommendations
  say to reverse it); base64url without padding;
* ``client_certificate_hash`` is the GOST R 34.11-2012 (Streebog-256) hash of
  the certificate's DER encoding, in hexadecimal (what CryptoPro's
  ``cpverify -mk -alg GR3411_2012_256`` prints; the hash of the PEM file
  instead is refused by ESIA as ESIA-007053).  Upper-case, in the byte order
  OpenSSL and RHash print; configuration can override it
  (``[esia] client_certificate_hash``) with what ``cpverify`` printed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from server.auth import gost
from server.auth.gost_keys import (
    DerError,
    certificate_spki,
    is_gost_spki,
    pem_blocks,
    private_key_from_pkcs8,
    public_key_from_spki,
)
from server.auth.streebog import streebog256
from server.errors import ConfigError


class RequestSigner(Protocol):
    """Signs what we send to ESIA, with the key of the certificate ESIA holds for us."""

    @property
    def certificate_hash(self) -> str:
        """``client_certificate_hash``: which registered certificate checks our signatures."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The raw signature of ``message`` (base64url-encoding it is the caller's)."""
        ...


def certificate_hash(der: bytes) -> str:
    """Streebog-256 of a certificate's DER, upper-case hex: ``client_certificate_hash``."""
    return streebog256(der).hex().upper()


def encode_secret(signature: bytes) -> str:
    """``client_secret``: the signature in base64url without padding."""
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def decode_secret(secret: str) -> bytes | None:
    """The signature inside a ``client_secret``, or None if it is not base64url.

    Padding is accepted as well as its absence: public clients send both.
    """
    if not isinstance(secret, str) or not secret or len(secret) > 8192:
        return None
    try:
        text = secret.strip().rstrip("=").encode("ascii")
        return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class GostRequestSigner:
    """Signs with a GOST R 34.10-2012 256-bit key, as ESIA requires."""

    key: gost.GostPrivateKey = field(repr=False)
    certificate_hash: str

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


@dataclass(frozen=True, slots=True)
class RsaRequestSigner:
    """Signs with RSA (PKCS#1 v1.5, SHA-256): the development relying party's key."""

    key: rsa.RSAPrivateKey = field(repr=False)
    certificate_hash: str

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def load_signer(
    key_path: Path, certificate_path: Path, *, hash_override: str = ""
) -> RequestSigner:
    """The signer for the PEM key at ``key_path`` and its certificate at ``certificate_path``.

    The key is a PKCS#8 ``PRIVATE KEY``: GOST R 34.10-2012 (as OpenSSL's gost
    engine writes it) or RSA.  The certificate must hold the key's public
    half.  ``hash_override`` replaces the computed ``client_certificate_hash``.
    Raises :class:`ConfigError` naming the file at fault.
    """
    try:
        key_pem = Path(key_path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the signing key {key_path}: {exc.strerror}") from exc
    try:
        cert_pem = Path(certificate_path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the signing certificate {certificate_path}: {exc.strerror}"
        ) from exc
    return signer_from_pem(key_pem, cert_pem, hash_override=hash_override, name=str(key_path))


def signer_from_pem(
    key_pem: bytes, cert_pem: bytes, *, hash_override: str = "", name: str = "the signing key"
) -> RequestSigner:
    """As :func:`load_signer`, from the PEM bytes themselves."""
    der, spki = _certificate(cert_pem, name)
    digest = hash_override.strip().upper() or certificate_hash(der)
    try:
        blocks = pem_blocks(key_pem)
    except (DerError, TypeError) as exc:
        raise ConfigError(f"{name} is not PEM") from exc
    if len(blocks) != 1 or blocks[0].label != "PRIVATE KEY":
        raise ConfigError(f"{name} must hold one PKCS#8 PRIVATE KEY block")
    if is_gost_spki(spki):
        try:
            gost_key = private_key_from_pkcs8(blocks[0].der)
        except ValueError as exc:
            raise ConfigError(f"{name} is not a GOST R 34.10-2012 PKCS#8 key") from exc
        if gost_key.public_key != public_key_from_spki(spki):
            raise ConfigError(f"{name} does not match its certificate")
        return GostRequestSigner(gost_key, digest)
    try:
        rsa_key = serialization.load_der_private_key(blocks[0].der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"{name} does not match its certificate (an RSA one)") from exc
    if not isinstance(rsa_key, rsa.RSAPrivateKey):
        raise ConfigError(f"{name} does not match its certificate (an RSA one)")
    public = serialization.load_der_public_key(spki)
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != (
        rsa_key.public_key().public_numbers()
    ):
        raise ConfigError(f"{name} does not match its certificate")
    return RsaRequestSigner(rsa_key, digest)


def _certificate(cert_pem: bytes, name: str) -> tuple[bytes, bytes]:
    """The DER and the SubjectPublicKeyInfo of the one certificate in ``cert_pem``.

    A bare ``PUBLIC KEY`` is taken too (its hash is over the key's DER): only
    for the local ESIA, since ``cryptography`` cannot build a GOST certificate.
    """
    try:
        blocks = pem_blocks(cert_pem)
    except (DerError, TypeError) as exc:
        raise ConfigError(f"the certificate for {name} is not PEM") from exc
    if len(blocks) != 1 or blocks[0].label not in ("CERTIFICATE", "PUBLIC KEY"):
        raise ConfigError(f"the certificate for {name} must be one CERTIFICATE block")
    der = blocks[0].der
    if blocks[0].label == "PUBLIC KEY":
        return der, der
    try:
        return der, certificate_spki(der)
    except ValueError as exc:
        raise ConfigError(f"the certificate for {name} does not parse") from exc


def request_signature_valid(cert_pem: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``message`` was made by the key of ``cert_pem``.

    GOST R 34.10-2012 or RSA (PKCS#1 v1.5, SHA-256), by the certificate's key.
    What ESIA does with ``client_secret``; here for the local ESIA.
    """
    _, spki = _certificate(cert_pem, "the relying party")
    if is_gost_spki(spki):
        return gost.verify(public_key_from_spki(spki), message, signature)
    public = serialization.load_der_public_key(spki)
    if not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def registered_hash(cert_pem: bytes) -> str:
    """The ``client_certificate_hash`` that names ``cert_pem``."""
    der, _ = _certificate(cert_pem, "the relying party")
    return certificate_hash(der)


def load_x509(cert_pem: bytes) -> x509.Certificate:
    """An RSA certificate as ``cryptography`` reads it (for the dev relying party's files)."""
    return x509.load_pem_x509_certificate(cert_pem)
