"""Unit tests for server.auth.tokens.TokenVerifier.

Tokens are built here by hand (base64url, JSON, cryptography's RSA signing),
not with the library under test, so a shared bug cannot hide itself.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from server.auth import AccessToken, TokenVerifier, errors
from server.auth.compact import MAX_TOKEN_LENGTH
from server.clock import ManualClock
from server.errors import AuthError, ConfigError

ISSUER = "http://esia.gosuslugi.ru/"
CLIENT_ID = "ZVONOK"
NOW = 1_800_000_000
OID = 1000299654
REMOVE = object()
"""Marks a header field or claim to drop from the defaults."""


# --- building tokens ------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(obj: object) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def header(overrides: Mapping[str, object] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"ver": 1, "typ": "JWT", "sbt": "access", "alg": "RS256"}
    return _apply(value, overrides)


def claims(overrides: Mapping[str, object] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "nbf": NOW,
        "scope": "openid fullname birthdate",
        "iss": ISSUER,
        "urn:esia:sid": "6c2e8d1f-0b7a-4a44-9b57-0c6f1b7f7a10",
        "urn:esia:sbj_id": OID,
        "exp": NOW + 3600,
        "iat": NOW,
        "client_id": CLIENT_ID,
    }
    return _apply(value, overrides)


def _apply(value: dict[str, Any], overrides: Mapping[str, object] | None) -> dict[str, Any]:
    for name, new in (overrides or {}).items():
        if new is REMOVE:
            value.pop(name, None)
        else:
            value[name] = new
    return value


def sign_raw(
    key: rsa.RSAPrivateKey,
    header_segment: str,
    payload_segment: str,
    digest: hashes.HashAlgorithm | None = None,
) -> str:
    signing_input = f"{header_segment}.{payload_segment}"
    signature = key.sign(
        signing_input.encode("ascii"), padding.PKCS1v15(), digest or hashes.SHA256()
    )
    return f"{signing_input}.{b64(signature)}"


def sign(
    key: rsa.RSAPrivateKey,
    head: Mapping[str, object] | None = None,
    body: Mapping[str, object] | None = None,
    digest: hashes.HashAlgorithm | None = None,
) -> str:
    return sign_raw(key, b64_json(header(head)), b64_json(claims(body)), digest)


def replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def certificate_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, cn: str) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Keys:
    """ESIA's past, current and next keys, and a stranger's."""

    past: rsa.RSAPrivateKey
    current: rsa.RSAPrivateKey
    next: rsa.RSAPrivateKey
    stranger: rsa.RSAPrivateKey

    def pem(self, key: rsa.RSAPrivateKey) -> bytes:
        return certificate_pem(key, f"ESIA test {id(key)}")

    @property
    def trusted(self) -> list[bytes]:
        return [self.pem(self.past), self.pem(self.current), self.pem(self.next)]


@pytest.fixture(scope="session")
def keys() -> Keys:
    def new() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(past=new(), current=new(), next=new(), stranger=new())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=NOW)


def make_verifier(keys: Keys, clock: ManualClock, **kw: Any) -> TokenVerifier:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "certificates": [keys.pem(keys.current)],
        "clock": clock,
    }
    options.update(kw)
    return TokenVerifier(**options)


@pytest.fixture
def verifier(keys: Keys, clock: ManualClock) -> TokenVerifier:
    return make_verifier(keys, clock)


def refused(verifier: TokenVerifier, token: Any) -> AuthError:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    return info.value


# --- forged tokens, one per refusal ----------------------------------------------------


def forge_garbage(keys: Keys) -> str:
    return "this-is-not-a-token-at-all-" * 4


def forge_alg_none(keys: Keys) -> str:
    return f"{b64_json(header({'alg': 'none'}))}.{b64_json(claims())}."


def forge_hs256_with_public_key(keys: Keys) -> str:
    # The classic confusion attack: HMAC keyed with the (public) certificate.
    signing_input = f"{b64_json(header({'alg': 'HS256'}))}.{b64_json(claims())}"
    secret = keys.pem(keys.current)
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def forge_rs512(keys: Keys) -> str:
    return sign(keys.current, {"alg": "RS512"}, digest=hashes.SHA512())


def forge_bad_signature(keys: Keys) -> str:
    return sign(keys.stranger)


def forge_tampered_payload(keys: Keys) -> str:
    genuine = sign(keys.current, body={"urn:esia:sbj_id": 42})
    return replace_segment(genuine, 1, b64_json(claims()))


def forge_expired(keys: Keys) -> str:
    return sign(keys.current, body={"iat": NOW - 7200, "nbf": NOW - 7200, "exp": NOW - 3600})


def forge_not_yet_valid(keys: Keys) -> str:
    return sign(keys.current, body={"nbf": NOW + 3600, "iat": NOW + 3600, "exp": NOW + 7200})


def forge_wrong_issuer(keys: Keys) -> str:
    return sign(keys.current, body={"iss": "http://evil.example/"})


def forge_wrong_client(keys: Keys) -> str:
    return sign(keys.current, body={"client_id": "OTHER_SYSTEM"})


def forge_refresh_token(keys: Keys) -> str:
    return sign(keys.current, {"sbt": "refresh"})


def forge_bad_claims(keys: Keys) -> str:
    return sign(keys.current, body={"urn:esia:sbj_id": str(OID)})


REFUSALS: list[tuple[Callable[[Keys], str], str]] = [
    (forge_garbage, errors.MALFORMED),
    (forge_alg_none, errors.ALG_NONE),
    (forge_hs256_with_public_key, errors.ALG_NOT_ALLOWED),
    (forge_rs512, errors.ALG_NOT_ALLOWED),
    (forge_bad_signature, errors.BAD_SIGNATURE),
    (forge_tampered_payload, errors.TAMPERED),
    (forge_expired, errors.EXPIRED),
    (forge_not_yet_valid, errors.NOT_YET_VALID),
    (forge_wrong_issuer, errors.WRONG_ISSUER),
    (forge_wrong_client, errors.WRONG_CLIENT),
    (forge_refresh_token, errors.WRONG_TOKEN_TYPE),
    (forge_bad_claims, errors.BAD_CLAIMS),
]


# --- the happy path --------------------------------------------------------------------


def test_a_genuine_token_yields_its_claims(verifier: TokenVerifier, keys: Keys) -> None:
    token = sign(keys.current)

    assert verifier.verify(token) == AccessToken(
        oid=OID,
        sid="6c2e8d1f-0b7a-4a44-9b57-0c6f1b7f7a10",
        client_id=CLIENT_ID,
        issuer=ISSUER,
        scope=("openid", "fullname", "birthdate"),
        issued_at=float(NOW),
        not_before=float(NOW),
        expires_at=float(NOW + 3600),
    )


def test_access_token_is_frozen(verifier: TokenVerifier, keys: Keys) -> None:
    access = verifier.verify(sign(keys.current))
    with pytest.raises(AttributeError):
        access.oid = 1  # type: ignore[misc]


def test_unknown_header_fields_and_extra_claims_are_ignored(
    verifier: TokenVerifier, keys: Keys
) -> None:
    token = sign(keys.current, {"kid": "esia-2025", "x-new": 1}, {"urn:esia:new": True})
    assert verifier.verify(token).oid == OID


def test_empty_scope_is_an_empty_tuple(verifier: TokenVerifier, keys: Keys) -> None:
    assert verifier.verify(sign(keys.current, body={"scope": ""})).scope == ()


# --- rotation -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["past", "current", "next"])
def test_a_token_signed_by_any_trusted_certificate_is_accepted(
    keys: Keys, clock: ManualClock, which: str
) -> None:
    verifier = make_verifier(keys, clock, certificates=keys.trusted)
    assert verifier.verify(sign(getattr(keys, which))).oid == OID


def test_one_pem_value_may_hold_several_certificates(keys: Keys, clock: ManualClock) -> None:
    verifier = make_verifier(keys, clock, certificates=[b"".join(keys.trusted)])

    assert len(verifier.certificates) == 3
    assert verifier.verify(sign(keys.next)).oid == OID


def test_a_duplicate_certificate_is_kept_once(keys: Keys, clock: ManualClock) -> None:
    pem = keys.pem(keys.current)
    assert len(make_verifier(keys, clock, certificates=[pem, pem + pem]).certificates) == 1


def test_a_token_edited_after_the_next_key_signed_it_is_tampered(
    keys: Keys, clock: ManualClock
) -> None:
    verifier = make_verifier(keys, clock, certificates=keys.trusted)
    genuine = sign(keys.next, body={"urn:esia:sbj_id": 42})

    error = refused(verifier, replace_segment(genuine, 1, b64_json(claims())))

    assert error.code == errors.TAMPERED


# --- each refusal, with its own code ----------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        "é.é.é",
        b"bytes.are.not-a-token",
        None,
    ],
    ids=repr,
)
def test_garbage_is_malformed(verifier: TokenVerifier, token: Any) -> None:
    assert refused(verifier, token).code == errors.MALFORMED


def _non_canonical(segment: str) -> str:
    """The same bytes, spelled with the unused low bits of the last character set."""
    assert len(segment) % 4 in (2, 3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return segment[:-1] + alphabet[alphabet.index(segment[-1]) + 1]


MALFORMED_SHAPES: dict[str, Callable[[Keys], str]] = {
    "header not base64": lambda k: replace_segment(sign(k.current), 0, "e30*"),
    "padding": lambda k: sign(k.current) + "==",
    "standard base64 alphabet": lambda k: replace_segment(sign(k.current), 2, "ab+/"),
    "impossible length": lambda k: replace_segment(sign(k.current), 2, "A"),
    "non-canonical base64": lambda k: replace_segment(
        sign(k.current), 2, _non_canonical(sign(k.current).split(".")[2])
    ),
    "empty header": lambda k: replace_segment(sign(k.current), 0, ""),
    "empty payload": lambda k: replace_segment(sign(k.current), 1, ""),
    "header not JSON": lambda k: sign_raw(k.current, b64(b"not json"), b64_json(claims())),
    "header not UTF-8": lambda k: sign_raw(k.current, b64(b"\xff\xfe{}"), b64_json(claims())),
    "header an array": lambda k: sign_raw(k.current, b64_json(["alg"]), b64_json(claims())),
    "header a string": lambda k: sign_raw(k.current, b64_json("RS256"), b64_json(claims())),
    "header without alg": lambda k: sign(k.current, {"alg": REMOVE}),
    "alg not a string": lambda k: sign(k.current, {"alg": 256}),
    "alg empty": lambda k: sign(k.current, {"alg": ""}),
    "duplicate header field": lambda k: sign_raw(
        k.current, b64(b'{"alg":"RS256","sbt":"access","alg":"none"}'), b64_json(claims())
    ),
    "NaN in header": lambda k: sign_raw(
        k.current, b64(b'{"alg":"RS256","sbt":"access","ver":NaN}'), b64_json(claims())
    ),
    "deeply nested header": lambda k: sign_raw(
        k.current, b64(b'{"alg":"RS256","x":' + b"[" * 5000 + b"]" * 5000 + b"}"), "e30"
    ),
    "crit header": lambda k: sign(k.current, {"crit": ["exp"], "exp": 1}),
    "b64 header": lambda k: sign(k.current, {"b64": False, "crit": ["b64"]}),
    "b64 true header": lambda k: sign(k.current, {"b64": True}),
    "typ not a string": lambda k: sign(k.current, {"typ": 1}),
    "leading whitespace": lambda k: " " + sign(k.current),
    "bearer prefix": lambda k: "Bearer " + sign(k.current),
    "signed payload not JSON": lambda k: sign_raw(k.current, b64_json(header()), b64(b"hi")),
    "signed payload with Infinity": lambda k: sign_raw(
        k.current, b64_json(header()), b64(json.dumps(claims({"exp": float("inf")})).encode())
    ),
    "signed payload an array": lambda k: sign_raw(k.current, b64_json(header()), b64_json([1])),
    "signed payload with duplicate claims": lambda k: sign_raw(
        k.current,
        b64_json(header()),
        b64(json.dumps(claims())[:-1].encode() + b',"urn:esia:sbj_id":42}'),
    ),
}


@pytest.mark.parametrize("shape", sorted(MALFORMED_SHAPES))
def test_malformed_tokens_are_refused(verifier: TokenVerifier, keys: Keys, shape: str) -> None:
    assert refused(verifier, MALFORMED_SHAPES[shape](keys)).code == errors.MALFORMED


def _token_of_length(key: rsa.RSAPrivateKey, length: int) -> str:
    """A correctly signed token of exactly ``length`` characters.

    Base64url never yields a length of 4k+1, so a second, header-side filler
    shifts the total when the payload alone cannot land on ``length``.
    """
    for shift in range(3):
        base = len(sign(key, {"x": "z" * shift}, {"x": ""}))
        filler = max(0, (length - base) * 3 // 4 - 3)
        while len(token := sign(key, {"x": "z" * shift}, {"x": "y" * filler})) < length:
            filler += 1
        if len(token) == length:
            return token
    raise AssertionError(f"no token of {length} characters")


def test_a_token_of_16_kib_is_read_and_a_longer_one_is_malformed(
    verifier: TokenVerifier, keys: Keys
) -> None:
    at_limit = _token_of_length(keys.current, MAX_TOKEN_LENGTH)
    over_limit = _token_of_length(keys.current, MAX_TOKEN_LENGTH + 1)

    assert verifier.verify(at_limit).oid == OID
    assert refused(verifier, over_limit).code == errors.MALFORMED


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(verifier: TokenVerifier, keys: Keys, alg: str) -> None:
    token = f"{b64_json(header({'alg': alg}))}.{b64_json(claims())}."
    assert refused(verifier, token).code == errors.ALG_NONE


def test_alg_none_with_a_signature_attached_is_still_refused(
    verifier: TokenVerifier, keys: Keys
) -> None:
    token = replace_segment(sign(keys.current), 0, b64_json(header({"alg": "none"})))
    assert refused(verifier, token).code == errors.ALG_NONE


@pytest.mark.parametrize("secret", ["certificate", "public key"])
def test_hs256_signed_with_the_public_key_is_refused(
    verifier: TokenVerifier, keys: Keys, secret: str
) -> None:
    if secret == "certificate":
        key_bytes = keys.pem(keys.current)
    else:
        key_bytes = keys.current.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    signing_input = f"{b64_json(header({'alg': 'HS256'}))}.{b64_json(claims())}"
    mac = hmac.new(key_bytes, signing_input.encode("ascii"), hashlib.sha256).digest()

    assert refused(verifier, f"{signing_input}.{b64(mac)}").code == errors.ALG_NOT_ALLOWED


def test_rs512_is_refused_unless_allowed(keys: Keys, clock: ManualClock) -> None:
    token = forge_rs512(keys)

    assert refused(make_verifier(keys, clock), token).code == errors.ALG_NOT_ALLOWED
    assert make_verifier(keys, clock, algorithms=("RS256", "RS512")).verify(token).oid == OID


@pytest.mark.parametrize("alg", ["ES256", "PS256", "HS512", "GOST3410_2012_256", "rs256"])
def test_algorithms_off_the_list_are_refused(verifier: TokenVerifier, keys: Keys, alg: str) -> None:
    token = replace_segment(sign(keys.current), 0, b64_json(header({"alg": alg})))
    assert refused(verifier, token).code == errors.ALG_NOT_ALLOWED


def test_a_strangers_signature_is_bad(verifier: TokenVerifier, keys: Keys) -> None:
    assert refused(verifier, forge_bad_signature(keys)).code == errors.BAD_SIGNATURE


@pytest.mark.parametrize("signature", [b"\x00" * 256, b"\xff" * 256, b"\x01" * 10, b""])
def test_a_meaningless_signature_is_bad(
    verifier: TokenVerifier, keys: Keys, signature: bytes
) -> None:
    token = replace_segment(sign(keys.current), 2, b64(signature))
    assert refused(verifier, token).code == errors.BAD_SIGNATURE


def test_a_trusted_key_signing_with_another_hash_is_a_bad_signature(
    verifier: TokenVerifier, keys: Keys
) -> None:
    # RS256 in the header, SHA-512 inside the signature: not what RS256 signs.
    assert refused(verifier, sign(keys.current, digest=hashes.SHA512())).code == (
        errors.BAD_SIGNATURE
    )


def test_an_edited_payload_is_tampered(verifier: TokenVerifier, keys: Keys) -> None:
    assert refused(verifier, forge_tampered_payload(keys)).code == errors.TAMPERED


def test_an_edited_header_is_tampered(verifier: TokenVerifier, keys: Keys) -> None:
    genuine = sign(keys.current, {"sbt": "refresh"})
    assert refused(verifier, replace_segment(genuine, 0, b64_json(header()))).code == (
        errors.TAMPERED
    )


def test_a_signature_moved_to_another_token_is_tampered(
    verifier: TokenVerifier, keys: Keys
) -> None:
    donor = sign(keys.current, body={"urn:esia:sbj_id": 7})
    token = replace_segment(sign(keys.current), 2, donor.split(".")[2])
    assert refused(verifier, token).code == errors.TAMPERED


def test_an_rs512_token_edited_is_tampered_when_rs512_is_allowed(
    keys: Keys, clock: ManualClock
) -> None:
    verifier = make_verifier(keys, clock, algorithms=["RS512"])
    genuine = sign(keys.current, {"alg": "RS512"}, {"scope": "a"}, digest=hashes.SHA512())
    token = replace_segment(genuine, 1, b64_json(claims()))
    assert refused(verifier, token).code == errors.TAMPERED


def test_an_expired_token_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    assert refused(verifier, forge_expired(keys)).code == errors.EXPIRED


def test_a_token_not_yet_valid_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    assert refused(verifier, forge_not_yet_valid(keys)).code == errors.NOT_YET_VALID


def test_a_token_issued_in_the_future_is_not_yet_valid(verifier: TokenVerifier, keys: Keys) -> None:
    token = sign(keys.current, body={"iat": NOW + 600})
    assert refused(verifier, token).code == errors.NOT_YET_VALID


@pytest.mark.parametrize(
    "issuer",
    ["http://evil.example/", "http://esia.gosuslugi.ru", "https://esia.gosuslugi.ru/", ""],
)
def test_another_issuer_is_refused(verifier: TokenVerifier, keys: Keys, issuer: str) -> None:
    code = errors.BAD_CLAIMS if issuer == "" else errors.WRONG_ISSUER
    assert refused(verifier, sign(keys.current, body={"iss": issuer})).code == code


@pytest.mark.parametrize("client_id", ["OTHER_SYSTEM", "zvonok", "ZVONOK "])
def test_a_token_for_another_client_is_refused(
    verifier: TokenVerifier, keys: Keys, client_id: str
) -> None:
    token = sign(keys.current, body={"client_id": client_id})
    assert refused(verifier, token).code == errors.WRONG_CLIENT


@pytest.mark.parametrize("sbt", ["refresh", "id", "ACCESS", "", 1, None, REMOVE])
def test_anything_but_an_access_token_is_refused(
    verifier: TokenVerifier, keys: Keys, sbt: object
) -> None:
    assert refused(verifier, sign(keys.current, {"sbt": sbt})).code == errors.WRONG_TOKEN_TYPE


BAD_CLAIMS: dict[str, dict[str, object]] = {
    "oid missing": {"urn:esia:sbj_id": REMOVE},
    "oid a string": {"urn:esia:sbj_id": str(OID)},
    "oid a bool": {"urn:esia:sbj_id": True},
    "oid zero": {"urn:esia:sbj_id": 0},
    "oid negative": {"urn:esia:sbj_id": -5},
    "oid a float": {"urn:esia:sbj_id": 1000299654.0},
    "sid missing": {"urn:esia:sid": REMOVE},
    "sid a number": {"urn:esia:sid": 17},
    "sid empty": {"urn:esia:sid": ""},
    "scope missing": {"scope": REMOVE},
    "scope a list": {"scope": ["openid"]},
    "iss missing": {"iss": REMOVE},
    "iss a list": {"iss": [ISSUER]},
    "client_id missing": {"client_id": REMOVE},
    "client_id a list": {"client_id": [CLIENT_ID]},
    "exp missing": {"exp": REMOVE},
    "exp a string": {"exp": str(NOW + 3600)},
    "exp a bool": {"exp": True},
    "exp huge": {"exp": 10**400},
    "nbf missing": {"nbf": REMOVE},
    "nbf null": {"nbf": None},
    "iat missing": {"iat": REMOVE},
    "iat an object": {"iat": {"t": NOW}},
}


@pytest.mark.parametrize("case", sorted(BAD_CLAIMS))
def test_missing_or_mistyped_claims_are_refused(
    verifier: TokenVerifier, keys: Keys, case: str
) -> None:
    assert refused(verifier, sign(keys.current, body=BAD_CLAIMS[case])).code == errors.BAD_CLAIMS


def test_a_time_too_large_for_a_float_is_refused(verifier: TokenVerifier, keys: Keys) -> None:
    body = json.dumps(claims({"exp": 123456789})).replace("123456789", "1e400")
    token = sign_raw(keys.current, b64_json(header()), b64(body.encode()))
    assert refused(verifier, token).code == errors.BAD_CLAIMS


def test_a_float_time_is_accepted(verifier: TokenVerifier, keys: Keys) -> None:
    access = verifier.verify(sign(keys.current, body={"exp": NOW + 10.5}))
    assert access.expires_at == NOW + 10.5


# --- leeway ---------------------------------------------------------------------------


def test_expiry_is_allowed_the_leeway_and_no_more(
    verifier: TokenVerifier, keys: Keys, clock: ManualClock
) -> None:
    token = sign(keys.current, body={"exp": NOW + 100})

    clock.advance(100 + 30 - 0.5)
    assert verifier.verify(token).oid == OID
    clock.advance(0.5)  # exactly exp + leeway: RFC 7519 refuses "on or after"
    assert refused(verifier, token).code == errors.EXPIRED


def test_not_before_is_allowed_the_leeway_and_no_more(
    verifier: TokenVerifier, keys: Keys, clock: ManualClock
) -> None:
    assert verifier.verify(sign(keys.current, body={"nbf": NOW + 30})).oid == OID
    token = sign(keys.current, body={"nbf": NOW + 30.5})
    assert refused(verifier, token).code == errors.NOT_YET_VALID
    clock.advance(0.5)
    assert verifier.verify(token).oid == OID


def test_issued_at_is_allowed_the_leeway_and_no_more(verifier: TokenVerifier, keys: Keys) -> None:
    assert verifier.verify(sign(keys.current, body={"iat": NOW + 30})).oid == OID
    assert refused(verifier, sign(keys.current, body={"iat": NOW + 31})).code == (
        errors.NOT_YET_VALID
    )


def test_leeway_is_configurable(keys: Keys, clock: ManualClock) -> None:
    strict = make_verifier(keys, clock, leeway=0)
    lenient = make_verifier(keys, clock, leeway=120)

    assert refused(strict, sign(keys.current, body={"exp": NOW})).code == errors.EXPIRED
    assert strict.verify(sign(keys.current, body={"exp": NOW + 1})).oid == OID
    assert lenient.verify(sign(keys.current, body={"exp": NOW - 119})).oid == OID
    assert refused(lenient, sign(keys.current, body={"exp": NOW - 120})).code == errors.EXPIRED
    assert lenient.verify(sign(keys.current, body={"nbf": NOW + 120})).oid == OID


# --- order of checks ------------------------------------------------------------------


def test_alg_none_is_reported_before_the_claims(verifier: TokenVerifier) -> None:
    token = f"{b64_json(header({'alg': 'none'}))}.{b64_json(claims({'exp': 0}))}."
    assert refused(verifier, token).code == errors.ALG_NONE


def test_claims_are_not_read_before_the_signature_is_good(
    verifier: TokenVerifier, keys: Keys
) -> None:
    not_json = sign_raw(keys.stranger, b64_json(header()), b64(b"\x00not json"))
    wrong_everything = sign(keys.stranger, {"sbt": "id"}, {"iss": "x", "exp": 0})

    assert refused(verifier, not_json).code == errors.BAD_SIGNATURE
    assert refused(verifier, wrong_everything).code == errors.BAD_SIGNATURE


def test_tampering_is_reported_before_the_claims(verifier: TokenVerifier, keys: Keys) -> None:
    genuine = sign(keys.current)
    token = replace_segment(genuine, 1, b64_json(claims({"exp": 0, "iss": "x"})))
    assert refused(verifier, token).code == errors.TAMPERED


def test_token_type_is_checked_before_the_claims(verifier: TokenVerifier, keys: Keys) -> None:
    token = sign(keys.current, {"sbt": "refresh"}, {"urn:esia:sbj_id": REMOVE})
    assert refused(verifier, token).code == errors.WRONG_TOKEN_TYPE


# --- never leaking the token ------------------------------------------------------------


@pytest.mark.parametrize(("forge", "code"), REFUSALS, ids=[forge.__name__ for forge, _ in REFUSALS])
def test_a_refusal_never_shows_the_token(
    verifier: TokenVerifier,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    forge: Callable[[Keys], str],
    code: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = forge(keys)

    error = refused(verifier, token)

    assert error.code == code
    assert error.message == errors.MESSAGES[code]
    for part in [token, *[p for p in token.split(".") if len(p) > 8]]:
        assert part not in str(error)
        assert part not in error.message
        assert part not in json.dumps(error.to_json())
        assert part not in caplog.text
    assert code in caplog.text  # the refusal is logged, by code and fingerprint
    assert "sha256:" in caplog.text


def test_an_accepted_token_is_not_logged_either(
    verifier: TokenVerifier, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = sign(keys.current)

    access = verifier.verify(token)

    for part in [token, *token.split(".")]:
        assert part not in caplog.text
        assert part not in repr(access)


def test_every_code_is_exercised() -> None:
    assert {code for _, code in REFUSALS} == set(errors.CODES)


# --- fuzzing: nothing but AuthError comes out -------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_refused_with_a_known_code(keys: Keys, text: str) -> None:
    verifier = make_verifier(keys, ManualClock(start=NOW))
    with pytest.raises(AuthError) as info:
        verifier.verify(text)
    assert info.value.code in errors.CODES


@settings(max_examples=200, deadline=None)
@given(
    head=st.dictionaries(
        st.sampled_from(["alg", "typ", "ver", "sbt", "kid", "crit", "b64", "jku", "x5c", "zip"]),
        JSON_VALUES | st.sampled_from(["RS256", "none", "HS256", "access"]),
    ),
    body=JSON_VALUES,
    signature=st.binary(max_size=300),
)
def test_arbitrary_json_is_refused_with_a_known_code(
    keys: Keys, head: dict[str, Any], body: Any, signature: bytes
) -> None:
    verifier = make_verifier(keys, ManualClock(start=NOW))
    token = f"{b64_json(head)}.{b64_json(body)}.{b64(signature)}"
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert info.value.code in errors.CODES


@settings(max_examples=50, deadline=None)
@given(body=st.dictionaries(st.sampled_from(sorted(claims())), JSON_VALUES))
def test_arbitrary_signed_claims_never_escape_as_another_exception(
    keys: Keys, body: dict[str, Any]
) -> None:
    verifier = make_verifier(keys, ManualClock(start=NOW))
    token = sign_raw(keys.current, b64_json(header()), b64_json(body))
    try:
        verifier.verify(token)
    except AuthError as error:
        assert error.code in errors.CODES


# --- configuration ----------------------------------------------------------------------


def test_from_files_reads_each_certificate_file(
    keys: Keys, clock: ManualClock, tmp_path: Path
) -> None:
    paths = []
    for name, pem in zip(["past", "current", "next"], keys.trusted, strict=True):
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem)
        paths.append(path)

    verifier = TokenVerifier.from_files(paths, issuer=ISSUER, client_id=CLIENT_ID, clock=clock)

    assert verifier.verify(sign(keys.next)).oid == OID


def test_from_files_names_a_missing_file(clock: ManualClock, tmp_path: Path) -> None:
    missing = tmp_path / "esia.pem"
    with pytest.raises(ConfigError, match=r"esia\.pem"):
        TokenVerifier.from_files([missing], issuer=ISSUER, client_id=CLIENT_ID, clock=clock)


def test_from_files_names_a_file_without_a_certificate(
    keys: Keys, clock: ManualClock, tmp_path: Path
) -> None:
    good = tmp_path / "good.pem"
    good.write_bytes(keys.pem(keys.current))
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(ConfigError, match=r"bad\.pem"):
        TokenVerifier.from_files([good, bad], issuer=ISSUER, client_id=CLIENT_ID, clock=clock)


def _private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


BAD_CONFIG: dict[str, Callable[[Keys], dict[str, Any]]] = {
    "no certificates": lambda k: {"certificates": []},
    "garbage certificate": lambda k: {"certificates": [b"garbage"]},
    "private key instead of certificate": lambda k: {"certificates": [_private_key_pem(k.current)]},
    "EC certificate": lambda k: {
        "certificates": [certificate_pem(ec.generate_private_key(ec.SECP256R1()), "ec")]
    },
    "1024-bit RSA certificate": lambda k: {
        "certificates": [certificate_pem(rsa.generate_private_key(65537, 1024), "weak")]  # noqa: S505
    },
    "HS256 allowed": lambda k: {"algorithms": ["HS256"]},
    "none allowed": lambda k: {"algorithms": ["RS256", "none"]},
    "unknown algorithm": lambda k: {"algorithms": ["ES256"]},
    "no algorithm": lambda k: {"algorithms": []},
    "algorithms as one string": lambda k: {"algorithms": "RS256"},
    "negative leeway": lambda k: {"leeway": -1},
    "huge leeway": lambda k: {"leeway": 3600},
    "NaN leeway": lambda k: {"leeway": float("nan")},
    "empty issuer": lambda k: {"issuer": ""},
    "empty client_id": lambda k: {"client_id": ""},
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIG))
def test_invalid_configuration_is_a_config_error(keys: Keys, clock: ManualClock, case: str) -> None:
    with pytest.raises(ConfigError):
        make_verifier(keys, clock, **BAD_CONFIG[case](keys))


def test_an_expired_certificate_is_trusted_with_a_warning(
    keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    late = ManualClock(start=datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC).timestamp())
    caplog.set_level(logging.INFO)

    verifier = make_verifier(keys, late)

    assert any(r.levelno == logging.WARNING and "expired" in r.message for r in caplog.records)
    token = sign(
        keys.current, body={"iat": late.time(), "nbf": late.time(), "exp": late.time() + 60}
    )
    assert verifier.verify(token).oid == OID
