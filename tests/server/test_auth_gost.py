"""GOST R 34.10-2012 and Streebog-256 (server.auth.gost, streebog, gost_keys) against references.

The references are independent of the code under test: the worked examples
printed in the standards (GOST R 34.11-2012 / RFC 6986 for the hash,
GOST R 34.10-2012 appendix A / RFC 7091 section 7.1 for the signature), the
pure-Python ``gostcrypto`` package, and the textbook two-multiplication
verification written here with fastecdsa's point arithmetic.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gostcrypto
import pytest
from fastecdsa.rust import Point
from hypothesis import given, settings
from hypothesis import strategies as st

from server.auth import gost, streebog
from server.auth.gost import CRYPTOPRO_A, GostCurve, GostPrivateKey, GostPublicKey
from server.auth.gost_keys import (
    CURVES,
    DerError,
    UnsupportedKey,
    pem_blocks,
    pkcs8_from_private_key,
    private_key_from_pkcs8,
    public_key_from_spki,
    spki_from_public_key,
)

# --- Streebog-256 -----------------------------------------------------------------------

# GOST R 34.11-2012 example 1 (RFC 6986 section 10.1): M1, and its 256-bit hash as
# OpenSSL prints it (the standard prints the same bytes in the reverse order).
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
H1 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
# Example 2 (RFC 6986 section 10.2): a 72-byte message in CP1251.
M2 = "Се ветри, Стрибожи внуци, веютъ с моря стрелами на храбрыя плъкы Игоревы".encode("cp1251")
H2 = "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50"
EMPTY = "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb"


@pytest.mark.parametrize(("message", "digest"), [(M1, H1), (M2, H2), (b"", EMPTY)])
def test_streebog_matches_the_standards_examples(message: bytes, digest: str) -> None:
    assert streebog.streebog256(message).hex() == digest
    assert streebog.reference_streebog256(message).hex() == digest


def test_the_fast_streebog_is_in_use() -> None:
    # librhash is on Debian with cmake; without it every GOST check costs 5 ms more.
    assert streebog.IMPLEMENTATION == "librhash", "install Debian's librhash0 (or librhash1)"


@settings(max_examples=60, deadline=None)
@given(message=st.binary(max_size=300))
def test_librhash_and_gostcrypto_agree(message: bytes) -> None:
    assert streebog.streebog256(message) == streebog.reference_streebog256(message)


# --- the signature: the standard's example ------------------------------------------------

TEST_CURVE = GostCurve(  # GOST R 34.10-2012 appendix A.1 / RFC 7091 section 7.1
    name="gost-3410-2012-test-256",
    p=0x8000000000000000000000000000000000000000000000000000000000000431,
    a=7,
    b=0x5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E,
    q=0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3,
    gx=2,
    gy=0x08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8,
)
D = 0x7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28
QX = 0x7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B
QY = 0x26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA
E = 0x2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5
K = 0x77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3
R = 0x41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493
S = 0x01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40


def test_the_standards_example_key_signature_and_verification() -> None:
    key = GostPrivateKey(D, TEST_CURVE)

    assert (key.public_key.x, key.public_key.y) == (QX, QY)
    assert key.sign_number(E, k=K) == (R, S)
    assert gost.verify_number(GostPublicKey(QX, QY, TEST_CURVE), E, R, S)


@pytest.mark.parametrize(
    ("e", "r", "s"),
    [
        (E + 1, R, S),
        (E, R ^ 1, S),
        (E, R, S ^ 1),
        (E, S, R),
        (E, 0, S),
        (E, R, 0),
        (E, TEST_CURVE.q, S),
        (E, R, TEST_CURVE.q + S),
    ],
)
def test_anything_else_than_the_standards_example_fails(e: int, r: int, s: int) -> None:
    assert not gost.verify_number(GostPublicKey(QX, QY, TEST_CURVE), e, r, s)


# --- the signature against two other implementations -------------------------------------


def textbook_verify(key: GostPublicKey, e: int, r: int, s: int) -> bool:
    """Section 6.2 literally: v = e^-1, z1 = sv, z2 = -rv, C = z1 G + z2 Q, R = x_C mod q."""
    q = key.curve.q
    if not (0 < r < q and 0 < s < q):
        return False
    e = e % q or 1
    v = pow(e, -1, q)
    point = key.curve.engine.G * (s * v % q) + Point(key.x, key.y, key.curve.engine) * (-r * v % q)
    return point.x % q == r


@functools.cache
def _gostcrypto_signer() -> object:
    curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[
        "id-tc26-gost-3410-2012-256-paramSetB"
    ]
    return gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_256, curve)


def gostcrypto_verify(key: GostPublicKey, signed: bytes, signature: bytes) -> bool:
    """gostcrypto's verify, fed in its own conventions: BE key, BE e, r then s."""
    public = key.x.to_bytes(32, "big") + key.y.to_bytes(32, "big")
    digest = streebog.reference_streebog256(signed)[::-1]
    ok: bool = _gostcrypto_signer().verify(  # type: ignore[attr-defined]
        bytearray(public), bytearray(digest), bytearray(signature[32:] + signature[:32])
    )
    return ok


@pytest.fixture(scope="module")
def private_key() -> GostPrivateKey:
    return GostPrivateKey.generate()


@settings(max_examples=40, deadline=None)
@given(e=st.integers(0, 2**256 - 1), r=st.integers(1, CRYPTOPRO_A.q - 1), s=st.integers(1, 2**256))
def test_one_rust_call_and_the_textbook_formula_agree_on_arbitrary_signatures(
    private_key: GostPrivateKey, e: int, r: int, s: int
) -> None:
    key = private_key.public_key
    assert gost.verify_number(key, e, r, s) == textbook_verify(key, e, r, s)


@settings(max_examples=40, deadline=None)
@given(e=st.integers(0, 2**256 - 1))
def test_our_signatures_verify_by_the_textbook_formula(private_key: GostPrivateKey, e: int) -> None:
    r, s = private_key.sign_number(e)
    key = private_key.public_key
    assert textbook_verify(key, e, r, s)
    assert gost.verify_number(key, e, r, s)
    taken = e % CRYPTOPRO_A.q or 1  # the number actually signed
    assert not gost.verify_number(key, 2 if taken == 1 else 1, r, s)


@settings(max_examples=4, deadline=None)  # gostcrypto takes about 0.1 s a verification
@given(message=st.binary(max_size=200), flip=st.integers(0, 63))
def test_gostcrypto_accepts_our_signatures_and_refuses_altered_ones(
    private_key: GostPrivateKey, message: bytes, flip: int
) -> None:
    signature = private_key.sign(message)
    altered = bytearray(signature)
    altered[flip] ^= 0x01

    assert gostcrypto_verify(private_key.public_key, message, signature)
    assert gost.verify(private_key.public_key, message, signature)
    assert not gostcrypto_verify(private_key.public_key, message, bytes(altered))
    assert not gost.verify(private_key.public_key, message, bytes(altered))


@pytest.mark.parametrize("size", [0, 32, 63, 65, 128])
def test_a_signature_of_another_size_fails(private_key: GostPrivateKey, size: int) -> None:
    assert not gost.verify(private_key.public_key, b"x", b"\x01" * size)


def test_the_zero_digest_is_taken_as_one(private_key: GostPrivateKey) -> None:
    r, s = private_key.sign_number(1)
    assert gost.verify_number(private_key.public_key, 0, r, s)
    assert gost.verify_number(private_key.public_key, CRYPTOPRO_A.q, r, s)


# --- keys ---------------------------------------------------------------------------------


def test_a_point_off_the_curve_is_no_key(private_key: GostPrivateKey) -> None:
    key = private_key.public_key
    with pytest.raises(ValueError, match="not a point"):
        GostPublicKey(key.x, key.y + 1)
    with pytest.raises(ValueError, match="not a point"):
        GostPublicKey(key.x + CRYPTOPRO_A.p, key.y)


def test_big_endian_coordinates_are_no_key(private_key: GostPrivateKey) -> None:
    key = private_key.public_key
    big_endian = key.x.to_bytes(32, "big") + key.y.to_bytes(32, "big")
    with pytest.raises(ValueError, match="not a point"):
        GostPublicKey.from_le_bytes(big_endian)


@pytest.mark.parametrize("curve_oid", sorted(CURVES))
def test_keys_round_trip_through_their_der_forms(
    private_key: GostPrivateKey, curve_oid: str
) -> None:
    spki = spki_from_public_key(private_key.public_key, curve_oid)
    assert public_key_from_spki(spki) == private_key.public_key
    assert private_key_from_pkcs8(pkcs8_from_private_key(private_key, curve_oid)) == private_key


def test_a_key_on_another_curve_is_refused(private_key: GostPrivateKey) -> None:
    spki = spki_from_public_key(private_key.public_key)
    # 1.2.643.2.2.36.0 -> 1.2.643.2.2.36.1 (CryptoPro-XchB, another curve).
    other = spki.replace(
        bytes.fromhex("06072a85030202240006"), bytes.fromhex("06072a85030202240106")
    )
    assert other != spki
    with pytest.raises(UnsupportedKey, match="curve"):
        public_key_from_spki(other)


@pytest.mark.parametrize(
    "spki",
    [b"", b"\x30\x00", b"\x30\x80\x00\x00", b"\x30\x81\x05abcde", bytes.fromhex("3003020100")],
)
def test_garbage_is_no_key(spki: bytes) -> None:
    with pytest.raises(DerError):
        public_key_from_spki(spki)


def test_a_truncated_key_is_refused(private_key: GostPrivateKey) -> None:
    spki = spki_from_public_key(private_key.public_key)
    for cut in range(1, len(spki)):
        with pytest.raises(ValueError):
            public_key_from_spki(spki[:cut])
    with pytest.raises(DerError):
        public_key_from_spki(spki + b"\x00")


# --- what OpenSSL's gost engine made (tests/data/gost-openssl/README.md) ------------------

OPENSSL = Path(__file__).resolve().parent.parent / "data" / "gost-openssl"


def test_a_key_and_signature_made_by_openssls_gost_engine() -> None:
    private = private_key_from_pkcs8(pem_blocks((OPENSSL / "key.pem").read_bytes())[0].der)
    public = public_key_from_spki(pem_blocks((OPENSSL / "pub.pem").read_bytes())[0].der)
    message = (OPENSSL / "msg.txt").read_bytes()
    signature = (OPENSSL / "msg.sig").read_bytes()

    assert private.public_key == public
    assert gost.verify(public, message, signature)
    assert gostcrypto_verify(public, message, signature)
    assert not gost.verify(public, message + b".", signature)
    assert not gost.verify(public, message, signature[32:] + signature[:32])  # r, s swapped
    # And what we write is what the engine wrote (its layout, its curve OID).
    der = pem_blocks((OPENSSL / "key.pem").read_bytes())[0].der
    assert pkcs8_from_private_key(private, "1.2.643.2.2.35.1") == der
    assert (
        spki_from_public_key(public, "1.2.643.2.2.35.1")
        == pem_blocks((OPENSSL / "pub.pem").read_bytes())[0].der
    )
