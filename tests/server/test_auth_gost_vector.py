"""A token ESIA published, signed with GOST3410_2012_256, against the production verifier.

The token and the certificate are public test data (tests/data/esia/README.md
says where they were published).  The token is an authorization-code token
for the system MNSV36, issued 2020-05-30 11:08:51 UTC and valid 4 minutes,
so the verifier runs on a manual clock set to that morning.
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from server.auth import TokenVerifier, errors
from server.auth.gost_keys import certificate_spki, pem_encode
from server.clock import ManualClock
from server.errors import AuthError, ConfigError

DATA = Path(__file__).resolve().parent.parent / "data" / "esia"
TOKEN = (DATA / "gost_authcode_2020-05_ekapusta.jwt").read_text().strip()
CERTIFICATE = (DATA / "gost_test_2019-07_sn720b0156.pem").read_bytes()
ESIA = "http://esia.gosuslugi.ru/"
CLIENT_ID = "MNSV36"
GOST = "GOST3410_2012_256"
ISSUED = 1590836931  # iat = nbf, 2020-05-30 11:08:51 UTC
EXPIRES = 1590837171  # exp, four minutes later
LEEWAY = 30.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def bare_key_pem() -> bytes:
    der = x509.load_pem_x509_certificate(CERTIFICATE).public_bytes(serialization.Encoding.DER)
    return pem_encode("PUBLIC KEY", certificate_spki(der))


def make_verifier(at: float, trusted: bytes = CERTIFICATE, **kw: Any) -> TokenVerifier:
    options: dict[str, Any] = {
        "issuer": ESIA,
        "client_id": CLIENT_ID,
        "certificates": [trusted],
        "clock": ManualClock(start=at),
        "leeway": LEEWAY,
        "algorithms": [GOST],
    }
    options.update(kw)
    return TokenVerifier(**options)


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    return info.value.code


def test_the_data_is_what_the_readme_says() -> None:
    head = json.loads(unb64(TOKEN.split(".")[0]))
    body = json.loads(unb64(TOKEN.split(".")[1]))
    assert head == {"ver": 1, "typ": "JWT", "sbt": "authorization_code", "alg": GOST}
    assert (body["iat"], body["nbf"], body["exp"]) == (ISSUED, ISSUED, EXPIRES)
    assert datetime.datetime.fromtimestamp(ISSUED, datetime.UTC).isoformat() == (
        "2020-05-30T11:08:51+00:00"
    )


@pytest.mark.parametrize("trusted", ["certificate", "bare key"])
def test_the_published_token_verifies_at_its_own_time(trusted: str) -> None:
    pem = CERTIFICATE if trusted == "certificate" else bare_key_pem()
    verifier = make_verifier(ISSUED + 60, pem)

    claims = verifier.verify_signed(TOKEN, token_type="authorization_code")

    assert claims["client_id"] == CLIENT_ID
    assert claims["urn:esia:sbj"]["urn:esia:sbj:oid"] == 1000404446
    assert verifier.signature_checks == 1


def test_it_is_valid_for_its_four_minutes_and_the_leeway_only() -> None:
    def code_at(at: float) -> str | None:
        try:
            make_verifier(at).verify_signed(TOKEN, token_type="authorization_code")
        except AuthError as exc:
            return exc.code
        return None

    assert code_at(ISSUED - LEEWAY) is None
    assert code_at(EXPIRES + LEEWAY - 1) is None
    assert code_at(EXPIRES + LEEWAY) == errors.EXPIRED
    assert code_at(ISSUED - LEEWAY - 1) == errors.NOT_YET_VALID
    assert code_at(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp()) == (
        errors.EXPIRED
    )


def test_it_is_refused_as_an_access_token() -> None:
    verifier = make_verifier(ISSUED + 60)
    # wrong_token_type comes after the signature check: the signature was good.
    assert refusal(verifier, TOKEN) == errors.WRONG_TOKEN_TYPE


def test_it_is_refused_for_another_system_or_issuer() -> None:
    assert refusal(make_verifier(ISSUED + 60, client_id="ZVONOK"), TOKEN) == (
        errors.WRONG_TOKEN_TYPE
    )
    with pytest.raises(AuthError) as info:
        make_verifier(ISSUED + 60, client_id="ZVONOK").verify_signed(
            TOKEN, token_type="authorization_code"
        )
    assert info.value.code == errors.WRONG_CLIENT
    with pytest.raises(AuthError) as info:
        make_verifier(ISSUED + 60, issuer="https://esia.gosuslugi.ru/").verify_signed(
            TOKEN, token_type="authorization_code"
        )
    assert info.value.code == errors.WRONG_ISSUER


def test_gost_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="GOST"):
        make_verifier(ISSUED + 60, algorithms=["RS256"])


def altered_copies() -> list[tuple[str, int, str]]:
    """Every copy with one byte of the decoded header, payload or signature flipped."""
    segments = TOKEN.split(".")
    copies = []
    for index, part in enumerate(("header", "payload", "signature")):
        raw = unb64(segments[index])
        for position in range(len(raw)):
            flipped = bytearray(raw)
            flipped[position] ^= 0x01
            altered = list(segments)
            altered[index] = b64(bytes(flipped))
            copies.append((part, position, ".".join(altered)))
    return copies


ALTERED = altered_copies()


def test_every_byte_is_covered() -> None:
    sizes = [len(unb64(s)) for s in TOKEN.split(".")]
    assert len(ALTERED) == sum(sizes)
    assert sizes[2] == 64


def test_every_altered_copy_is_refused_and_edits_are_told_from_strangers() -> None:
    """Header and payload edits of a token seen before are auth.tampered; a changed
    signature is auth.bad_signature; an edit that breaks the header's JSON or its
    ``alg`` is refused before any key is involved."""
    verifier = make_verifier(ISSUED + 60)
    verifier.verify_signed(TOKEN, token_type="authorization_code")  # seen once, genuine
    codes: dict[str, set[str]] = {"header": set(), "payload": set(), "signature": set()}
    for part, position, token in ALTERED:
        code = refusal(verifier, token)
        codes[part].add(code)
        if part == "payload":
            assert code == errors.TAMPERED, position
        elif part == "signature":
            assert code == errors.BAD_SIGNATURE, position
        else:
            assert code in (errors.MALFORMED, errors.ALG_NOT_ALLOWED, errors.TAMPERED), position
    assert codes["header"] == {errors.MALFORMED, errors.ALG_NOT_ALLOWED, errors.TAMPERED}


def test_an_edit_of_a_token_never_seen_is_a_bad_signature() -> None:
    """GOST signatures cannot be opened: without having seen the genuine token,
    an edited one cannot be told from a stranger's."""
    verifier = make_verifier(ISSUED + 60)
    for part, _, token in ALTERED[::37]:
        if part == "payload":
            assert refusal(verifier, token) == errors.BAD_SIGNATURE


def test_the_published_signature_on_other_content_is_tampered() -> None:
    verifier = make_verifier(ISSUED + 60)
    verifier.verify_signed(TOKEN, token_type="authorization_code")
    head, _, signature = TOKEN.split(".")
    body = json.loads(unb64(TOKEN.split(".")[1]))
    body["urn:esia:sbj_id"] = 1000404446
    forged = f"{head}.{b64(json.dumps(body).encode())}.{signature}"
    assert refusal(verifier, forged) == errors.TAMPERED


def test_with_no_memory_an_edit_is_a_bad_signature() -> None:
    verifier = make_verifier(ISSUED + 60, cache_size=0)
    verifier.verify_signed(TOKEN, token_type="authorization_code")
    verifier.verify_signed(TOKEN, token_type="authorization_code")
    assert verifier.signature_checks == 2  # nothing remembered: checked each time
    payload_copy = next(token for part, _, token in ALTERED if part == "payload")
    assert refusal(verifier, payload_copy) == errors.BAD_SIGNATURE
