"""Reading a compact JWS from untrusted input, before any key is involved.

The verifier refuses garbage here with ``auth.malformed`` so that joserfc and
cryptography only ever see a well-formed token: three canonical base64url
segments, a header that is a JSON object with a string ``alg``, and nothing
that changes how the JWS is processed (``crit``, RFC 7797's ``b64``).

The payload is decoded from base64url here but parsed as JSON only by
:func:`claims_object`, which the verifier calls after the signature is good:
claims from an unverified token are never looked at.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from server.auth.errors import MALFORMED, refusal

MAX_TOKEN_LENGTH: Final = 16 * 1024
"""Longest token accepted, in characters; ESIA's are well under 2 KiB."""

_BASE64URL_ALPHABET: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

# Header fields that would change how the JWS is processed.  ESIA sends
# neither, and supporting them is how JOSE libraries have been tricked.
_REFUSED_HEADER_FIELDS: Final = ("crit", "b64")


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """The parts of a compact JWS, decoded but not verified.

    The payload, signature and signing input are kept out of ``repr`` so a
    stray log line cannot leak the token through this object.
    """

    header: dict[str, Any]
    alg: str
    payload: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    signing_input: bytes = field(repr=False)


def parse_compact(token: object) -> CompactJWS:
    """Split and decode ``token``; raise ``auth.malformed`` unless it is a usable JWS."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        _malformed()
    segments = token.encode("ascii").split(b".")
    if len(segments) != 3:
        _malformed()
    header_segment, payload_segment, signature_segment = segments
    if not header_segment or not payload_segment:
        _malformed()
    header = _json_object(_base64url_decode(header_segment))
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        _malformed()
    if any(name in header for name in _REFUSED_HEADER_FIELDS):
        _malformed()
    return CompactJWS(
        header=header,
        alg=alg,
        payload=_base64url_decode(payload_segment),
        signature=_base64url_decode(signature_segment),
        signing_input=header_segment + b"." + payload_segment,
    )


def claims_object(jws: CompactJWS) -> dict[str, Any]:
    """The payload of a verified ``jws`` as a JSON object, or ``auth.malformed``."""
    return _json_object(jws.payload)


def _base64url_decode(segment: bytes) -> bytes:
    """Decode unpadded base64url, refusing any other spelling of the same bytes.

    Only the canonical encoding is accepted (no padding, no stray bits in the
    last character), so one token has exactly one textual form.
    """
    if not _BASE64URL_ALPHABET.issuperset(segment) or len(segment) % 4 == 1:
        _malformed()
    try:
        raw = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise refusal(MALFORMED) from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment:
        _malformed()
    return raw


def _json_object(raw: bytes) -> dict[str, Any]:
    """Parse ``raw`` as one JSON object with unique member names and finite numbers."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_unique_members,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; deep nesting
        # is a RecursionError.  Neither message contains the input.
        raise refusal(MALFORMED) from exc
    if not isinstance(value, dict):
        _malformed()
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing duplicate names (parsers disagree on which wins)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def _refuse_constant(name: str) -> NoReturn:
    """Refuse ``NaN``/``Infinity``, which are not JSON."""
    raise ValueError("non-finite number")


def _malformed() -> NoReturn:
    raise refusal(MALFORMED)
