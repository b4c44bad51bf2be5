"""Streebog-256 (GOST R 34.11-2012), the hash under ESIA's GOST signatures.

The pure-Python implementation in ``gostcrypto`` takes about 5 ms for a
900-byte token, which alone would spend the verification budget.  RHash's
C library (``librhash``, packaged by Debian as ``librhash0``/``librhash1``,
already on the machine as a dependency of cmake) does it in about 20 µs.
RHash's own Python binding on PyPI (``rhash-Rhash``) loads only
``librhash.so.1`` and so fails on Debian 12, whose library is
``librhash.so.0``; the one function needed, ``rhash_msg``, is bound here with
ctypes instead (its signature has not changed since RHash 1.2).  Without the
library the hash falls back to ``gostcrypto`` (correct, slower) and says so
once in the log.

Both emit the digest in the byte order OpenSSL's gost engine prints: the hash
of the empty string begins ``3f539a21``.  The signature code reads it as a
little-endian integer (``docs/auth.md``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from typing import Final

import gostcrypto

logger = logging.getLogger(__name__)

DIGEST_SIZE: Final = 32

_RHASH_GOST12_256: Final = 0x4000
"""RHash's id for GOST R 34.11-2012 256-bit (``RHASH_GOST12_256`` in rhash.h)."""

_LIBRARY_NAMES: Final = ("librhash.so.1", "librhash.so.0")


def _load_rhash() -> Callable[[bytes], bytes] | None:
    names = [ctypes.util.find_library("rhash"), *_LIBRARY_NAMES]
    for name in names:
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        break
    else:
        return None
    library.rhash_library_init()
    rhash_msg = library.rhash_msg
    rhash_msg.argtypes = [ctypes.c_uint, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
    rhash_msg.restype = ctypes.c_int

    def digest(data: bytes) -> bytes:
        out = ctypes.create_string_buffer(64)  # rhash_msg may write up to the largest digest
        if rhash_msg(_RHASH_GOST12_256, data, len(data), out) != 0:
            raise RuntimeError("librhash refused to hash")
        return out.raw[:DIGEST_SIZE]

    return digest


def _gostcrypto_digest(data: bytes) -> bytes:
    return bytes(gostcrypto.gosthash.new("streebog256", data=data).digest())


_FAST = _load_rhash()

IMPLEMENTATION: Final = "librhash" if _FAST is not None else "gostcrypto"
"""Which implementation :func:`streebog256` uses, for the start-up log and the bench."""


def streebog256(data: bytes) -> bytes:
    """The Streebog-256 digest of ``data`` (32 bytes, OpenSSL's byte order)."""
    if _FAST is not None:
        return _FAST(data)
    return _gostcrypto_digest(data)


def reference_streebog256(data: bytes) -> bytes:
    """The same digest by ``gostcrypto``'s pure-Python code: the cross-check in tests."""
    return _gostcrypto_digest(data)


def log_implementation() -> None:
    """Say once, at start-up, which Streebog is in use; warn when it is the slow one."""
    if _FAST is None:
        logger.warning(
            "librhash not found: GOST token hashes use pure-Python Streebog (about 5 ms each); "
            "install Debian's librhash0 (or librhash1)"
        )
    else:
        logger.debug("Streebog-256 by librhash")
