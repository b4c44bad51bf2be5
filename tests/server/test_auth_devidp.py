"""Unit tests for server.auth.devidp.DevIdentityProvider."""

from __future__ import annotations

import base64
import json
import logging
import math
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from server.auth import DevIdentityProvider, TokenVerifier, errors
from server.clock import ManualClock
from server.errors import AuthError, ConfigError

ISSUER = "http://localhost:8080/dev-idp"
CLIENT_ID = "ZVONOK"
OID = 1000299654


def decode_segment(token: str, index: int) -> Any:
    segment = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def load(directory: Path, clock: ManualClock, **kw: Any) -> DevIdentityProvider:
    options: dict[str, Any] = {"issuer": ISSUER, "client_id": CLIENT_ID, "clock": clock}
    options.update(kw)
    return DevIdentityProvider.load_or_create(directory, **options)


def verifier_for(idp: DevIdentityProvider, clock: ManualClock) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, client_id=CLIENT_ID, certificates=[idp.certificate_pem], clock=clock
    )


def refusal_code(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    return info.value.code


@pytest.fixture
def idp(tmp_path: Path, clock: ManualClock) -> DevIdentityProvider:
    return load(tmp_path / "idp", clock)


# --- key and certificate ----------------------------------------------------------------


def test_creates_a_private_key_and_a_self_signed_certificate(
    tmp_path: Path, clock: ManualClock
) -> None:
    idp = load(tmp_path / "idp", clock)

    key_file = tmp_path / "idp" / "key.pem"
    cert_file = tmp_path / "idp" / "cert.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert cert_file.read_bytes() == idp.certificate_pem
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    cert = x509.load_pem_x509_certificate(idp.certificate_pem)
    assert cert.public_key() == key.public_key()
    (cn,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert cn.value == "Zvonok development identity provider"
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert (
        cert.not_valid_before_utc.timestamp() <= clock.time() < cert.not_valid_after_utc.timestamp()
    )


def test_reloads_the_same_key_so_tokens_survive_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    first = load(tmp_path, clock)
    token = first.issue(OID)
    key_before = (tmp_path / "key.pem").read_bytes()

    second = load(tmp_path, clock)

    assert (tmp_path / "key.pem").read_bytes() == key_before
    assert second.certificate_pem == first.certificate_pem
    assert verifier_for(second, clock).verify(token).oid == OID
    assert verifier_for(first, clock).verify(second.issue(OID)).oid == OID


def test_a_lost_certificate_is_remade_from_the_kept_key(tmp_path: Path, clock: ManualClock) -> None:
    token = load(tmp_path, clock).issue(OID)
    (tmp_path / "cert.pem").unlink()

    again = load(tmp_path, clock)

    assert (tmp_path / "cert.pem").read_bytes() == again.certificate_pem
    assert verifier_for(again, clock).verify(token).oid == OID


def test_a_certificate_for_another_key_is_replaced(tmp_path: Path, clock: ManualClock) -> None:
    token = load(tmp_path / "a", clock).issue(OID)
    other = load(tmp_path / "b", clock)
    (tmp_path / "a" / "cert.pem").write_bytes(other.certificate_pem)

    again = load(tmp_path / "a", clock)

    assert again.certificate_pem != other.certificate_pem
    assert verifier_for(again, clock).verify(token).oid == OID


def test_a_corrupt_key_file_is_a_config_error_and_is_left_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "key.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nnope\n")

    with pytest.raises(ConfigError, match="key"):
        load(tmp_path, clock)
    assert (tmp_path / "key.pem").read_bytes() == b"-----BEGIN PRIVATE KEY-----\nnope\n"


def test_a_directory_that_cannot_be_made_is_a_config_error(
    tmp_path: Path, clock: ManualClock
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError):
        load(blocker / "idp", clock)


def test_two_providers_in_two_directories_do_not_trust_each_other(
    tmp_path: Path, clock: ManualClock
) -> None:
    one = load(tmp_path / "one", clock)
    two = load(tmp_path / "two", clock)

    assert refusal_code(verifier_for(two, clock), one.issue(OID)) == errors.BAD_SIGNATURE


@pytest.mark.parametrize(
    "issuer",
    [
        "http://esia.gosuslugi.ru/",
        "https://esia.gosuslugi.ru/",
        "https://esia-portal1.test.gosuslugi.ru/",
        "https://ESIA.GOSUSLUGI.RU./",
        "",
    ],
)
def test_it_refuses_to_pose_as_esia(tmp_path: Path, clock: ManualClock, issuer: str) -> None:
    with pytest.raises(ConfigError):
        load(tmp_path, clock, issuer=issuer)
    assert not (tmp_path / "key.pem").exists()


def test_an_empty_client_id_is_a_config_error(tmp_path: Path, clock: ManualClock) -> None:
    with pytest.raises(ConfigError):
        load(tmp_path, clock, client_id="")


# --- tokens ---------------------------------------------------------------------------


def test_issues_an_esia_shaped_header(idp: DevIdentityProvider) -> None:
    head = decode_segment(idp.issue(OID), 0)

    assert head == {"ver": 1, "typ": "JWT", "sbt": "access", "alg": "RS256"}
    assert list(head) == ["ver", "typ", "sbt", "alg"]
    assert "kid" not in head


def test_issues_esia_shaped_claims(idp: DevIdentityProvider, clock: ManualClock) -> None:
    now = int(clock.time())

    body = decode_segment(idp.issue(OID, lifetime=600, scope="openid fullname"), 1)

    assert set(body) == {
        "nbf",
        "scope",
        "iss",
        "urn:esia:sid",
        "urn:esia:sbj_id",
        "exp",
        "iat",
        "client_id",
    }
    assert body["iss"] == ISSUER
    assert body["client_id"] == CLIENT_ID
    assert body["urn:esia:sbj_id"] == OID
    assert body["scope"] == "openid fullname"
    assert isinstance(body["urn:esia:sid"], str)
    assert body["urn:esia:sid"]
    assert body["iat"] == body["nbf"] == now
    assert body["exp"] == now + 600
    assert "aud" not in body


def test_each_token_has_its_own_session_id(idp: DevIdentityProvider) -> None:
    sids = {decode_segment(idp.issue(OID), 1)["urn:esia:sid"] for _ in range(3)}
    assert len(sids) == 3


def test_a_verifier_trusting_its_certificate_accepts_its_tokens(
    idp: DevIdentityProvider, clock: ManualClock
) -> None:
    access = verifier_for(idp, clock).verify(idp.issue(OID))

    assert access.oid == OID
    assert access.issuer == ISSUER
    assert access.client_id == CLIENT_ID
    assert access.scope == ("openid", "fullname", "birthdate")
    assert access.expires_at == math.floor(clock.time()) + 3600


def test_a_verifier_built_from_its_certificate_file_accepts_its_tokens(
    tmp_path: Path, clock: ManualClock
) -> None:
    idp = load(tmp_path, clock)
    verifier = TokenVerifier.from_files(
        [tmp_path / "cert.pem"], issuer=ISSUER, client_id=CLIENT_ID, clock=clock
    )
    assert verifier.verify(idp.issue(OID)).oid == OID


def test_its_tokens_expire_after_their_lifetime(
    idp: DevIdentityProvider, clock: ManualClock
) -> None:
    verifier = TokenVerifier(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        certificates=[idp.certificate_pem],
        clock=clock,
        leeway=0,
    )
    token = idp.issue(OID, lifetime=60)

    clock.advance(59)
    assert verifier.verify(token).oid == OID
    clock.advance(1)
    assert refusal_code(verifier, token) == errors.EXPIRED


def test_a_refresh_token_it_issues_is_refused_as_the_wrong_type(
    idp: DevIdentityProvider, clock: ManualClock
) -> None:
    token = idp.issue(OID, sbt="refresh")

    assert decode_segment(token, 0)["sbt"] == "refresh"
    assert refusal_code(verifier_for(idp, clock), token) == errors.WRONG_TOKEN_TYPE


@pytest.mark.parametrize("oid", [0, -1, True, "1000299654", 1.5])
def test_issue_wants_a_positive_integer_oid(idp: DevIdentityProvider, oid: Any) -> None:
    with pytest.raises(ValueError, match="oid"):
        idp.issue(oid)


@pytest.mark.parametrize("lifetime", [0, -5, float("nan"), float("inf")])
def test_issue_wants_a_positive_finite_lifetime(idp: DevIdentityProvider, lifetime: float) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        idp.issue(OID, lifetime=lifetime)


def test_neither_the_key_nor_tokens_reach_the_log(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    idp = load(tmp_path, clock)
    token = idp.issue(OID)
    verifier_for(idp, clock).verify(token)

    key_body = (tmp_path / "key.pem").read_text().splitlines()[1]
    assert key_body not in caplog.text
    assert token not in caplog.text
    assert "key" not in repr(idp).lower()


# --- signing with GOST R 34.10-2012, as ESIA ----------------------------------------------

GOST = "GOST3410_2012_256"


def gost_verifier(trusted: bytes, clock: ManualClock) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, client_id=CLIENT_ID, certificates=[trusted], clock=clock, algorithms=[GOST]
    )


def test_a_gost_provider_keeps_its_key_private_and_publishes_the_public_key(
    tmp_path: Path, clock: ManualClock
) -> None:
    idp = load(tmp_path / "idp", clock, algorithm=GOST)

    key_file = tmp_path / "idp" / "gost-key.pem"
    public_file = tmp_path / "idp" / "gost-public.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_file.read_bytes() == idp.certificate_pem
    assert idp.certificate_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert idp.algorithm == GOST
    assert not (tmp_path / "idp" / "key.pem").exists()  # no RSA key made for nothing


def test_its_gost_tokens_pass_the_production_verifier_and_look_like_esias(
    tmp_path: Path, clock: ManualClock
) -> None:
    idp = load(tmp_path, clock, algorithm=GOST)
    token = idp.issue(OID)

    assert decode_segment(token, 0) == {"ver": 1, "typ": "JWT", "sbt": "access", "alg": GOST}
    assert len(base64.urlsafe_b64decode(token.split(".")[2] + "==")) == 64
    assert gost_verifier(idp.certificate_pem, clock).verify(token).oid == OID
    from_file = TokenVerifier.from_files(
        [tmp_path / "gost-public.pem"],
        issuer=ISSUER,
        client_id=CLIENT_ID,
        clock=clock,
        algorithms=[GOST],
    )
    assert from_file.verify(token).oid == OID
    assert refusal_code(verifier_for(load(tmp_path / "rsa", clock), clock), token) == (
        errors.ALG_NOT_ALLOWED
    )


def test_the_gost_key_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    first = load(tmp_path, clock, algorithm=GOST)
    token = first.issue(OID)
    (tmp_path / "gost-public.pem").unlink()

    second = load(tmp_path, clock, algorithm=GOST)

    assert second.certificate_pem == first.certificate_pem
    assert (tmp_path / "gost-public.pem").read_bytes() == first.certificate_pem
    assert gost_verifier(second.certificate_pem, clock).verify(token).oid == OID


def test_an_unreadable_gost_key_is_a_config_error_and_is_kept(
    tmp_path: Path, clock: ManualClock
) -> None:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "gost-key.pem").write_text("not a key")
    with pytest.raises(ConfigError, match=r"gost-key\.pem"):
        load(tmp_path, clock, algorithm=GOST)
    assert (tmp_path / "gost-key.pem").read_text() == "not a key"


def test_an_unknown_algorithm_is_a_config_error(tmp_path: Path, clock: ManualClock) -> None:
    with pytest.raises(ConfigError, match="ES256"):
        load(tmp_path, clock, algorithm="ES256")


def test_the_gost_key_is_not_logged(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    idp = load(tmp_path, clock, algorithm=GOST)
    token = idp.issue(OID)
    gost_verifier(idp.certificate_pem, clock).verify(token)

    key_body = (tmp_path / "gost-key.pem").read_text().splitlines()[1]
    assert key_body not in caplog.text
    assert token not in caplog.text
    assert "key" not in repr(idp).lower()
