"""Unit tests of what Zvonok sends ESIA: the signed messages, the timestamp, the signers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from server.auth.gost_keys import pem_blocks
from server.auth.signer import (
    GostRequestSigner,
    RsaRequestSigner,
    certificate_hash,
    decode_secret,
    encode_secret,
    request_signature_valid,
    signer_from_pem,
)
from server.auth.streebog import reference_streebog256
from server.clock import ManualClock
from server.errors import ConfigError
from server.signin.devesia import RP_CERT_FILE, development_signer
from server.signin.relying_party import (
    RelyingParty,
    esia_code,
    esia_timestamp,
    parse_timestamp,
    signed_message,
)

GOST = Path(__file__).parent.parent / "data" / "gost-openssl"


def test_the_timestamp_is_esias_format() -> None:
    assert esia_timestamp(1767030443.0) == "2025.12.29 17:47:23 +0000"
    assert parse_timestamp("2025.12.29 20:47:23 +0300") == 1767030443.0
    assert parse_timestamp("2025-12-29T17:47:23Z") is None


def test_the_signed_message_is_the_parameters_in_esias_order() -> None:
    message = signed_message(
        "ZVONOK", "openid fullname", "2025.12.29 17:47:23 +0000", "s-t-a-t-e", "https://z/cb"
    )
    assert message == b"ZVONOKopenid fullname2025.12.29 17:47:23 +0000s-t-a-t-ehttps://z/cb"
    with_code = signed_message("Z", "openid", "t", "s", "r", "CODE")
    assert with_code == b"ZopenidtsrCODE"


def test_esia_codes_are_read_out_of_descriptions() -> None:
    assert esia_code("ESIA-007004: Владелец ресурса отклонил запрос") == "ESIA-007004"
    assert esia_code("<script>") is None


def test_client_secret_is_unpadded_base64url_and_read_back_either_way() -> None:
    raw = bytes(range(65))
    secret = encode_secret(raw)
    assert "=" not in secret and "+" not in secret and "/" not in secret
    assert decode_secret(secret) == raw == decode_secret(secret + "==")
    assert decode_secret("not base64!") is None


def test_a_gost_signer_signs_as_the_local_esia_checks() -> None:
    key, public = (GOST / "key.pem").read_bytes(), (GOST / "pub.pem").read_bytes()
    signer = signer_from_pem(key, public)
    assert isinstance(signer, GostRequestSigner)
    der = pem_blocks(public)[0].der
    assert signer.certificate_hash == reference_streebog256(der).hex().upper()
    signature = signer.sign(b"message")
    assert len(signature) == 64
    assert request_signature_valid(public, b"message", signature)
    assert not request_signature_valid(public, b"messagf", signature)


def test_an_rsa_signer_and_its_certificate(tmp_path: Path) -> None:
    signer = development_signer(tmp_path, "ZVONOK")
    assert isinstance(signer, RsaRequestSigner)
    cert = (tmp_path / RP_CERT_FILE).read_bytes()
    assert signer.certificate_hash == certificate_hash(pem_blocks(cert)[0].der)
    assert len(signer.certificate_hash) == 64 and signer.certificate_hash.isupper()
    signature = signer.sign(b"message")
    assert request_signature_valid(cert, b"message", signature)
    assert not request_signature_valid(cert, b"message!", signature)
    # The same files again are the same signer: a restart keeps the registered certificate.
    assert development_signer(tmp_path, "ZVONOK").certificate_hash == signer.certificate_hash


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    development_signer(tmp_path, "ZVONOK")
    cert = (tmp_path / RP_CERT_FILE).read_bytes()
    with pytest.raises(ConfigError, match="does not match"):
        signer_from_pem((GOST / "key.pem").read_bytes(), cert)  # a GOST key, an RSA certificate
    with pytest.raises(ConfigError):
        signer_from_pem(cert, cert)  # a certificate is not a key


async def test_the_authorization_url_carries_every_parameter_signed(tmp_path: Path) -> None:
    signer = development_signer(tmp_path, "ZVONOK")
    cert = (tmp_path / RP_CERT_FILE).read_bytes()
    clock = ManualClock(1767030443.0)
    async with aiohttp.ClientSession() as http:
        rp = RelyingParty(
            client_id="ZVONOK",
            scope="openid fullname",
            portal_url="https://esia.example/",
            redirect_uri="https://zvonok.example/auth/callback",
            signer=signer,
            clock=clock,
            http=http,
        )
        url = rp.authorization_url("3f1c2b4a-1111-4222-8333-444455556666")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://esia.example/aas/oauth2/v2/ac"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["response_type"] == "code" and q["access_type"] == "offline"
    assert q["timestamp"] == "2025.12.29 17:47:23 +0000"
    assert q["client_certificate_hash"] == signer.certificate_hash
    message = signed_message(
        q["client_id"], q["scope"], q["timestamp"], q["state"], q["redirect_uri"]
    )
    signature = decode_secret(q["client_secret"])
    assert signature is not None and request_signature_valid(cert, message, signature)
