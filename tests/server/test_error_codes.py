"""The one catalogue of error codes (signaling/errors.py) against the code that uses it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from media import errors as media_errors
from server import http_limits
from server.auth import errors as auth_errors
from server.errors import chats as chat_errors
from server.errors import rooms as room_errors
from server.errors import safety as safety_errors
from server.roster import errors as roster_errors
from signaling.errors import CODES, CloseCode

ROOT = Path(__file__).resolve().parents[2]


def test_the_status_is_the_catalogues() -> None:
    assert chat_errors.chat_not_found("x").http_status == 404
    assert chat_errors.RateLimited(1.0).http_status == 429
    assert room_errors.not_in_room().http_status == 409
    assert safety_errors.content_blocked().http_status == 403
    assert media_errors.bad_sdp("x").http_status == 422


@pytest.mark.parametrize(
    "module",
    [
        auth_errors,
        chat_errors,
        room_errors,
        safety_errors,
        media_errors,
        roster_errors,
        http_limits,
    ],
)
def test_every_code_a_package_names_is_in_the_catalogue(module: object) -> None:
    named = {
        value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }
    assert named and named <= set(CODES)


def test_no_code_is_written_out_in_the_server() -> None:
    """Codes come from the catalogue's constants, not string literals of their own."""
    literal = re.compile(r'(?:Error|refusal|close)\(\s*"([a-z_]+\.[a-z_]+)"')
    found = {
        f"{path.relative_to(ROOT)}: {m[1]}"
        for package in ("server", "media")
        for path in (ROOT / package).rglob("*.py")
        for m in literal.finditer(path.read_text(encoding="utf-8"))
    }
    assert found == set()


MIRROR_EXCEPTIONS = {"auth.cross_site"}  # 403 over HTTP; a socket's hello refused as 4401


def test_close_codes_mirror_the_http_status() -> None:
    for entry in CODES.values():
        mirrored = entry.close is not None and entry.http is not None and entry.close >= 4000
        if mirrored and entry.code not in MIRROR_EXCEPTIONS:
            assert entry.close is not None
            assert entry.close - 4000 == entry.http, entry.code


def test_every_auth_refusal_closes_as_unauthorized() -> None:
    for code in auth_errors.CODES:
        assert CODES[code].close is CloseCode.UNAUTHORIZED
        assert CODES[code].http == 401
