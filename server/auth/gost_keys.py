"""GOST R 34.10-2012 keys in the containers ESIA and operators hand us.

``cryptography`` reads a GOST certificate but not its key (it raises
``UnsupportedAlgorithm``), and no maintained Python ASN.1 package is among
our dependencies, so the few DER structures involved are read here, strictly
(definite lengths, minimal encodings, nothing left over):

- SubjectPublicKeyInfo (RFC 5280 section 4.1, RFC 4491 / RFC 9215 for GOST):
  ``SEQUENCE { SEQUENCE { id-tc26-gost3410-12-256, SEQUENCE { curve OID
  [, digest OID] } }, BIT STRING { OCTET STRING (64) LE(x) ‖ LE(y) } }``,
  alone in a ``PUBLIC KEY`` PEM block (ESIA's test contour publishes bare
  keys) or inside a certificate;
- the development identity provider's private key, PKCS#8 ``PrivateKeyInfo``
  with the same algorithm identifier and the privateKey OCTET STRING holding
  the 32 bytes of LE(d), as OpenSSL's gost engine writes it (checked against
  ``openssl genpkey -engine gost``: it reads ours, we read its).

Only the CryptoPro-A curve is accepted, under any of its three OIDs; a key
on another curve is a :class:`~server.errors.ConfigError`, never a guess.
"""

from __future__ import annotations

import base64
import binascii
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from server.auth.gost import CRYPTOPRO_A, GostCurve, GostPrivateKey, GostPublicKey

GOST_2012_256: Final = "1.2.643.7.1.1.1.1"
"""id-tc26-gost3410-12-256: a GOST R 34.10-2012 key with a 256-bit order."""

STREEBOG_256: Final = "1.2.643.7.1.1.2.2"
"""id-tc26-gost3411-12-256: the digest a 2012 256-bit key is used with."""

CURVES: Final[dict[str, GostCurve]] = {
    "1.2.643.2.2.35.1": CRYPTOPRO_A,  # id-GostR3410-2001-CryptoPro-A-ParamSet
    "1.2.643.2.2.36.0": CRYPTOPRO_A,  # id-GostR3410-2001-CryptoPro-XchA-ParamSet (ESIA's)
    "1.2.643.7.1.2.1.1.2": CRYPTOPRO_A,  # id-tc26-gost-3410-2012-256-paramSetB
}
"""Curve OIDs accepted, each naming the same CryptoPro-A curve."""

DEFAULT_CURVE_OID: Final = "1.2.643.2.2.36.0"
"""The curve OID written into keys we make: the one ESIA's certificates carry."""

_SEQUENCE: Final = 0x30
_OCTET_STRING: Final = 0x04
_BIT_STRING: Final = 0x03
_OID: Final = 0x06
_INTEGER: Final = 0x02


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


# --- reading --------------------------------------------------------------------------


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, contents, next offset) of the DER element at ``offset``."""
    if offset + 2 > len(data):
        raise DerError("truncated DER element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte DER tags are not used here")
    first = data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise DerError("bad DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        if length < 0x80 or data[offset] == 0:
            raise DerError("non-minimal DER length")
        offset += count
    end = offset + length
    if end > len(data):
        raise DerError("truncated DER element")
    return tag, data[offset:end], end


def _one(data: bytes, tag: int) -> bytes:
    """The contents of ``data``, which must be exactly one element with ``tag``."""
    found, contents, end = _read(data, 0)
    if found != tag or end != len(data):
        raise DerError(f"expected one DER element with tag {tag:#x}")
    return contents


def _children(contents: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(tag, contents, whole encoding) of each element in a constructed value."""
    offset = 0
    while offset < len(contents):
        tag, inner, end = _read(contents, offset)
        yield tag, inner, contents[offset:end]
        offset = end


def _oid(contents: bytes) -> str:
    if not contents or contents[-1] & 0x80:
        raise DerError("bad OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for index, byte in enumerate(contents):
        if value == 0 and byte == 0x80:
            raise DerError("non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
        elif index == len(contents) - 1:
            raise DerError("bad OBJECT IDENTIFIER")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def _algorithm_curve(encoded: bytes) -> GostCurve:
    """The curve named by a GOST 2012-256 AlgorithmIdentifier; DerError for anything else."""
    parts = list(_children(_one(encoded, _SEQUENCE)))
    if len(parts) != 2 or parts[0][0] != _OID:
        raise DerError("bad AlgorithmIdentifier")
    algorithm = _oid(parts[0][1])
    if algorithm != GOST_2012_256:
        raise UnsupportedKey(f"key algorithm {algorithm} is not GOST R 34.10-2012 256-bit")
    if parts[1][0] != _SEQUENCE:
        raise DerError("GOST key parameters must be a SEQUENCE")
    params = list(_children(parts[1][1]))
    if not 1 <= len(params) <= 2 or any(tag != _OID for tag, _, _ in params):
        raise DerError("GOST key parameters are one or two OIDs")
    curve_oid = _oid(params[0][1])
    if curve_oid not in CURVES:
        raise UnsupportedKey(f"GOST curve {curve_oid} is not supported (only CryptoPro-A)")
    if len(params) == 2 and (digest := _oid(params[1][1])) != STREEBOG_256:
        raise UnsupportedKey(f"GOST key digest {digest} is not Streebog-256")
    return CURVES[curve_oid]


class UnsupportedKey(DerError):
    """A well-formed key of an algorithm or curve we do not verify."""


def is_gost_spki(spki: bytes) -> bool:
    """Whether the SubjectPublicKeyInfo ``spki`` names a GOST R 34.10-2012 256-bit key."""
    try:
        parts = list(_children(_one(spki, _SEQUENCE)))
        algorithm = list(_children(_one(parts[0][2], _SEQUENCE)))
        return algorithm[0][0] == _OID and _oid(algorithm[0][1]) == GOST_2012_256
    except (DerError, IndexError):
        return False


def public_key_from_spki(spki: bytes) -> GostPublicKey:
    """The GOST key in a DER SubjectPublicKeyInfo; DerError or ValueError if it is not one."""
    parts = list(_children(_one(spki, _SEQUENCE)))
    if len(parts) != 2 or parts[1][0] != _BIT_STRING:
        raise DerError("bad SubjectPublicKeyInfo")
    curve = _algorithm_curve(parts[0][2])
    bits = parts[1][1]
    if not bits or bits[0] != 0:
        raise DerError("the public key BIT STRING must have no unused bits")
    return GostPublicKey.from_le_bytes(_one(bits[1:], _OCTET_STRING), curve)


def certificate_spki(certificate_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 section 4.1)."""
    certificate = list(_children(_one(certificate_der, _SEQUENCE)))
    if not certificate or certificate[0][0] != _SEQUENCE:
        raise DerError("bad certificate")
    tbs = list(_children(certificate[0][1]))
    # version [0] EXPLICIT is optional; then serial, signature, issuer, validity, subject, SPKI.
    index = 6 if tbs and tbs[0][0] == 0xA0 else 5
    if len(tbs) <= index or tbs[index][0] != _SEQUENCE:
        raise DerError("bad TBSCertificate")
    return tbs[index][2]


def private_key_from_pkcs8(der: bytes) -> GostPrivateKey:
    """The GOST key in a DER PKCS#8 PrivateKeyInfo.

    OpenSSL's gost engine writes the privateKey OCTET STRING as the 32 bytes
    of LE(d) themselves; some other tools wrap them once more in an OCTET
    STRING (LE) or an INTEGER (big-endian).  The lengths tell them apart.
    """
    parts = list(_children(_one(der, _SEQUENCE)))
    if len(parts) < 3 or parts[0][:2] != (_INTEGER, b"\x00") or parts[2][0] != _OCTET_STRING:
        raise DerError("bad PrivateKeyInfo")
    curve = _algorithm_curve(parts[1][2])
    secret = parts[2][1]
    if len(secret) == 32:
        return GostPrivateKey(int.from_bytes(secret, "little"), curve)
    inner_tag, inner, end = _read(secret, 0)
    if end != len(secret):
        raise DerError("bad GOST private key")
    if inner_tag == _OCTET_STRING:
        d = int.from_bytes(inner, "little")
    elif inner_tag == _INTEGER:
        d = int.from_bytes(inner, "big")
    else:
        raise DerError("bad GOST private key")
    return GostPrivateKey(d, curve)


# --- writing ---------------------------------------------------------------------------


def _element(tag: int, contents: bytes) -> bytes:
    length = len(contents)
    if length < 0x80:
        return bytes([tag, length]) + contents
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + contents


def _encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _element(_OID, bytes(out))


def _algorithm_identifier(curve_oid: str) -> bytes:
    params = _element(_SEQUENCE, _encode_oid(curve_oid) + _encode_oid(STREEBOG_256))
    return _element(_SEQUENCE, _encode_oid(GOST_2012_256) + params)


def spki_from_public_key(key: GostPublicKey, curve_oid: str = DEFAULT_CURVE_OID) -> bytes:
    """``key`` as a DER SubjectPublicKeyInfo, the body of a ``PUBLIC KEY`` PEM block."""
    if CURVES.get(curve_oid) != key.curve:
        raise ValueError(f"{curve_oid} does not name the key's curve")
    point = _element(_OCTET_STRING, key.le_bytes())
    return _element(
        _SEQUENCE, _algorithm_identifier(curve_oid) + _element(_BIT_STRING, b"\x00" + point)
    )


def pkcs8_from_private_key(key: GostPrivateKey, curve_oid: str = DEFAULT_CURVE_OID) -> bytes:
    """``key`` as a DER PKCS#8 PrivateKeyInfo, the body of a ``PRIVATE KEY`` PEM block."""
    if CURVES.get(curve_oid) != key.curve:
        raise ValueError(f"{curve_oid} does not name the key's curve")
    return _element(
        _SEQUENCE,
        _element(_INTEGER, b"\x00")
        + _algorithm_identifier(curve_oid)
        + _element(_OCTET_STRING, key.d.to_bytes(32, "little")),
    )


@dataclass(frozen=True, slots=True)
class PemBlock:
    """One ``-----BEGIN label-----`` block of a PEM file, decoded."""

    label: str
    der: bytes


def pem_blocks(pem: bytes) -> list[PemBlock]:
    """Every PEM block in ``pem``, in order; DerError for a block that does not decode."""
    blocks = []
    pattern = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
    for match in pattern.finditer(pem):
        body = b"".join(match.group(2).split())
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DerError("a PEM block is not base64") from exc
        blocks.append(PemBlock(match.group(1).decode("ascii"), der))
    return blocks


def pem_encode(label: str, der: bytes) -> bytes:
    """``der`` as one PEM block with ``label``."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode("ascii")
