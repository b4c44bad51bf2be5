"""ESIA tokens sealed at rest with a key that only the browser's cookie holds.

A session's row keeps the ESIA access and refresh tokens, because the
server needs them back to check and renew the session.  A copy of the
database (a backup, a leaked dump) must not let anyone act at ESIA as a
school's people, so each token is sealed with AES-256-GCM under a key
derived (HKDF-SHA256) from the session cookie's secret, which the store
never sees (it keeps only the secret's SHA-256).  The row's key (that
digest) is the associated data, so a sealed token moved to another row
does not open.  Every use of a session comes with its cookie, so the server
always has the key when it needs a token: a request, a WebSocket ``hello``,
an open socket's renewal timer (which holds the secret it was admitted by).
"""

from __future__ import annotations

import base64
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION: Final = "v1."
_INFO: Final = b"zvonok web session tokens v1"
_NONCE: Final = 12


class Unsealable(Exception):
    """A sealed token that this key does not open (another cookie, another row, altered)."""


def session_key(secret: str) -> bytes:
    """The sealing key of the session whose cookie carries ``secret``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret.encode("utf-8")
    )


def seal(key: bytes, row: str, token: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, token.encode("utf-8"), row.encode("ascii"))
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, row: str, value: str) -> str:
    if not value.startswith(VERSION):
        raise Unsealable("not sealed")  # a row written before tokens were sealed
    try:
        raw = base64.urlsafe_b64decode(value[len(VERSION) :])
        plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], row.encode("ascii"))
    except (ValueError, InvalidTag) as exc:
        raise Unsealable("does not open") from exc
    return plain.decode("utf-8")
