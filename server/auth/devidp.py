"""A development identity provider that issues ESIA-shaped access tokens.

ESIA is not reachable from a laptop or a CI runner, so the embedded default
configuration signs people in through this stand-in instead.  It holds its
own RSA-2048 key and a self-signed certificate, and issues tokens with
ESIA's header and claims, which the ordinary :class:`TokenVerifier` checks
against that certificate: the code path under test is the production one.

The key and certificate are kept as ``key.pem`` (mode 0600) and ``cert.pem``
in a directory, so tokens survive a restart.  With ``algorithm =
"GOST3410_2012_256"`` it signs as ESIA does in production instead, with a
GOST R 34.10-2012 key on the CryptoPro-A curve kept as ``gost-key.pem``
(PKCS#8, mode 0600) and published as the bare public key ``gost-public.pem``
(``cryptography`` cannot build a GOST certificate, and ESIA's test contour
publishes bare keys too), so the embedded default runs the production GOST path.

The provider refuses to call itself ESIA: its issuer may not be a
``gosuslugi.ru`` URL, so a token it mints can never pass a verifier
configured for the real ESIA (which also does not trust its key).
Production configuration names ESIA's issuer and certificates and leaves
this provider off.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import math
import os
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws as joserfc_jws
from joserfc.jwk import RSAKey

from server.auth.esia import (
    ACCESS,
    CLAIM_CLIENT_ID,
    CLAIM_OID,
    CLAIM_SCOPE,
    CLAIM_SID,
    GOST_ALG,
    HEADER_SUBJECT_TYPE,
    HEADER_VERSION,
    ID,
    is_esia_host,
    jws_registry,
)
from server.auth.gost import GostPrivateKey
from server.auth.gost_keys import (
    DerError,
    pem_blocks,
    pem_encode,
    pkcs8_from_private_key,
    private_key_from_pkcs8,
    spki_from_public_key,
)
from server.clock import Clock
from server.config import Config
from server.errors import ConfigError

logger = logging.getLogger(__name__)

COMMON_NAME: Final = "Zvonok development identity provider"
KEY_FILE: Final = "key.pem"
CERT_FILE: Final = "cert.pem"
KEY_BITS: Final = 2048
CERT_LIFETIME: Final = datetime.timedelta(days=3650)
GOST_KEY_FILE: Final = "gost-key.pem"
GOST_PUBLIC_FILE: Final = "gost-public.pem"
ALGORITHMS: Final = ("RS256", GOST_ALG)
"""What the provider can sign with."""


class DevIdentityProvider:
    """Issues ESIA-shaped access tokens signed with its own key, for development.

    Build one with :meth:`load_or_create`.  ``certificate_pem`` is what a
    :class:`~server.auth.tokens.TokenVerifier` should trust to accept its
    tokens: the self-signed certificate (RSA) or the bare public key (GOST).
    ``algorithm`` is the ``alg`` it signs with.
    """

    __slots__ = (
        "_clock",
        "_gost",
        "_key",
        "_registry",
        "algorithm",
        "certificate_pem",
        "client_id",
        "issuer",
    )

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey | GostPrivateKey,
        certificate: x509.Certificate | None,
        issuer: str,
        client_id: str,
        clock: Clock,
    ) -> None:
        _check_identity(issuer, client_id)
        self.issuer = issuer
        self.client_id = client_id
        self._clock = clock
        self._key: RSAKey | None = None
        self._gost: GostPrivateKey | None = None
        if isinstance(private_key, GostPrivateKey):
            self.algorithm = GOST_ALG
            self._gost = private_key
            self.certificate_pem: bytes = _gost_public_pem(private_key)
        else:
            if certificate is None or certificate.public_key() != private_key.public_key():
                raise ConfigError("the development IdP's certificate does not match its key")
            self.algorithm = "RS256"
            self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
            self._key = RSAKey.import_key(_private_pem(private_key))
        self._registry = jws_registry([self.algorithm])

    def __repr__(self) -> str:
        return f"DevIdentityProvider(issuer={self.issuer!r}, client_id={self.client_id!r})"

    @classmethod
    def load_or_create(
        cls,
        directory: Path,
        *,
        issuer: str,
        client_id: str,
        clock: Clock,
        algorithm: str = "RS256",
    ) -> DevIdentityProvider:
        """The provider whose key and certificate live in ``directory``, made if absent.

        An existing ``key.pem`` is always reused, so tokens issued before a
        restart stay valid; ``cert.pem`` is reused when it matches the key and
        is re-made from the key otherwise.  Unreadable or foreign files raise
        :class:`ConfigError` rather than being overwritten.
        """
        _check_identity(issuer, client_id)
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"the development IdP signs with {ALGORITHMS}, not {algorithm!r}")
        directory = Path(directory)
        if algorithm == GOST_ALG:
            return cls(
                private_key=_load_or_create_gost(directory),
                certificate=None,
                issuer=issuer,
                client_id=client_id,
                clock=clock,
            )
        key_path = directory / KEY_FILE
        cert_path = directory / CERT_FILE
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            key = _load_key(key_path)
            if key is None:
                key = _create_key(key_path)
            certificate = _load_certificate(cert_path, key)
            if certificate is None:
                certificate = _create_certificate(cert_path, key, clock)
        except OSError as exc:
            raise ConfigError(
                f"cannot keep the development IdP's key in {directory}: {exc.strerror}"
            ) from exc
        return cls(
            private_key=key,
            certificate=certificate,
            issuer=issuer,
            client_id=client_id,
            clock=clock,
        )

    def issue(
        self,
        oid: int,
        *,
        lifetime: float = 3600.0,
        scope: str = "openid fullname birthdate",
        sbt: str = ACCESS,
        client_id: str | None = None,
        session: str | None = None,
    ) -> str:
        """A signed token for the person ``oid``, valid for ``lifetime`` seconds from now.

        ``sbt`` other than ``access`` makes the kind of token the verifier
        must refuse, for tests; so does another ``client_id``.  ``session``
        is ``urn:esia:sid`` (a fresh one by default).  Whether ``oid`` is in the roster is the
        caller's business.
        """
        if isinstance(oid, bool) or not isinstance(oid, int) or oid <= 0:
            raise ValueError("oid must be a positive integer")
        if not math.isfinite(lifetime) or lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        now = int(self._clock.time())
        header = {HEADER_VERSION: 1, "typ": "JWT", HEADER_SUBJECT_TYPE: sbt, "alg": self.algorithm}
        claims = {
            "nbf": now,
            CLAIM_SCOPE: scope,
            "iss": self.issuer,
            CLAIM_SID: session or str(uuid.uuid4()),
            CLAIM_OID: oid,
            "exp": now + math.ceil(lifetime),
            "iat": now,
            CLAIM_CLIENT_ID: client_id or self.client_id,
        }
        return self._sign(header, claims)

    def issue_id_token(
        self,
        oid: int,
        *,
        lifetime: float = 3600.0,
        audience: str | None = None,
        session: str | None = None,
    ) -> str:
        """An ESIA-shaped id token (``sbt`` ``id``) saying ``oid`` signed in for ``audience``.

        ``audience`` is our client_id unless a test wants another system's.
        """
        if isinstance(oid, bool) or not isinstance(oid, int) or oid <= 0:
            raise ValueError("oid must be a positive integer")
        if not math.isfinite(lifetime) or lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        now = int(self._clock.time())
        header = {HEADER_VERSION: 0, "typ": "JWT", HEADER_SUBJECT_TYPE: ID, "alg": self.algorithm}
        claims = {
            "nbf": now,
            "iss": self.issuer,
            CLAIM_SID: session or str(uuid.uuid4()),
            "sub": oid,
            "aud": audience or self.client_id,
            "auth_time": now,
            "amr": "PWD",
            "exp": now + math.ceil(lifetime),
            "iat": now,
        }
        return self._sign(header, claims)

    def _sign(self, header: dict[str, object], claims: dict[str, object]) -> str:
        payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
        if self._gost is not None:
            head = json.dumps(header, separators=(",", ":")).encode("utf-8")
            signing_input = f"{_b64(head)}.{_b64(payload)}"
            signature = self._gost.sign(signing_input.encode("ascii"))
            return f"{signing_input}.{_b64(signature)}"
        assert self._key is not None  # noqa: S101 - one of the two keys is always set
        return joserfc_jws.serialize_compact(header, payload, self._key, registry=self._registry)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _gost_public_pem(key: GostPrivateKey) -> bytes:
    return pem_encode("PUBLIC KEY", spki_from_public_key(key.public_key))


def _load_or_create_gost(directory: Path) -> GostPrivateKey:
    """The GOST key in ``directory``, made (and its public key published) if absent."""
    key_path = directory / GOST_KEY_FILE
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = _load_gost_key(key_path)
        if key is None:
            key = GostPrivateKey.generate()
            pem = pem_encode("PRIVATE KEY", pkcs8_from_private_key(key))
            stored = _store_new_key(key_path, pem)
            if stored is not None:  # another process made one first: use that
                key = _load_gost_key(key_path) or key
            else:
                logger.info("development IdP: created a new GOST signing key in %s", key_path)
        public_path = directory / GOST_PUBLIC_FILE
        public = _gost_public_pem(key)
        if not public_path.exists() or public_path.read_bytes() != public:
            _write_public(public_path, public)
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the development IdP's key in {directory}: {exc.strerror}"
        ) from exc
    return key


def _load_gost_key(path: Path) -> GostPrivateKey | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        blocks = pem_blocks(data)
        if len(blocks) != 1 or blocks[0].label != "PRIVATE KEY":
            raise DerError("not one PRIVATE KEY block")
        key = private_key_from_pkcs8(blocks[0].der)
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not a GOST R 34.10-2012 PKCS#8 key; delete it to make a new one"
        ) from exc
    if path.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users; it should be mode 0600", path)
    return key


def _store_new_key(path: Path, pem: bytes) -> Path | None:
    """Write ``pem`` to ``path`` atomically unless it exists; the path if it already did."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    return None


def _write_public(path: Path, pem: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pub-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)


def _check_identity(issuer: str, client_id: str) -> None:
    if not isinstance(issuer, str) or not issuer:
        raise ConfigError("the development IdP's issuer must be a non-empty string")
    if is_esia_host(issuer):
        raise ConfigError(
            f"the development IdP may not use ESIA's issuer {issuer!r}; "
            "configure ESIA's certificates instead"
        )
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("client_id must be a non-empty string")


def _load_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not an unencrypted PEM private key; delete it to make a new one"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < KEY_BITS:
        raise ConfigError(f"{path} is not an RSA key of at least {KEY_BITS} bits")
    if path.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users; it should be mode 0600", path)
    return key


def _create_key(path: Path) -> rsa.RSAPrivateKey:
    """Make and store a new key; if another process stored one first, use that."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    # Written to a private temporary file and linked into place, so the key
    # file appears complete or not at all, and a concurrent start loses cleanly.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(_private_pem(key))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            existing = _load_key(path)
            if existing is not None:
                return existing
            raise
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    logger.info("development IdP: created a new signing key in %s", path)
    return key


def _load_certificate(path: Path, key: rsa.RSAPrivateKey) -> x509.Certificate | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        logger.warning("%s is not a PEM certificate; making a new one", path)
        return None
    if certificate.public_key() != key.public_key():
        logger.warning("%s does not match the signing key; making a new one", path)
        return None
    return certificate


def _create_certificate(path: Path, key: rsa.RSAPrivateKey, clock: Clock) -> x509.Certificate:
    """Self-sign a certificate for ``key`` and store it, replacing any stale one."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    # An hour's slack on the start so a verifier whose clock is behind agrees.
    start = datetime.datetime.fromtimestamp(clock.time(), datetime.UTC) - datetime.timedelta(
        hours=1
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CERT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cert-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(certificate.public_bytes(serialization.Encoding.PEM))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    logger.info("development IdP: wrote a self-signed certificate to %s", path)
    return certificate


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dev_identity_provider(config: Config, clock: Clock) -> DevIdentityProvider:
    """The development identity provider for this configuration (keys on disk)."""
    return DevIdentityProvider.load_or_create(
        config.dev_idp.directory,
        issuer=config.esia.issuer,
        client_id=config.esia.client_id,
        clock=clock,
        algorithm=config.dev_idp.algorithm,
    )
