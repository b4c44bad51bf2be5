"""Stable codes for refused access tokens.

Every refusal by :class:`server.auth.tokens.TokenVerifier` is a
:class:`server.errors.AuthError` carrying one of the codes below and the fixed
message that goes with it.  The messages are constants on purpose: nothing
taken from the token (and certainly not the token itself) ever reaches a
client or a log through them.

The codes are part of the protocol: the catalogue (``signaling/errors.py``)
defines them, with what each means (``docs/auth.md`` is generated from it);
never rename one, only add.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from server.errors import AuthError, ZvonokError
from signaling import errors as wire

MALFORMED: Final = wire.AUTH_MALFORMED
"""Not a compact JWS we can read: garbage, bad base64url, bad JSON, oversized."""

ALG_NONE: Final = wire.AUTH_ALG_NONE
"""The header asks for no signature at all."""

ALG_NOT_ALLOWED: Final = wire.AUTH_ALG_NOT_ALLOWED
"""The header names an algorithm outside the allow-list (HS256, RS512, ES256...)."""

BAD_SIGNATURE: Final = wire.AUTH_BAD_SIGNATURE
"""Signed by no trusted certificate: a foreign key, or ESIA rotated to one we lack."""

TAMPERED: Final = wire.AUTH_TAMPERED
"""Signed by a trusted certificate's key, but over other content: the token was edited."""

EXPIRED: Final = wire.AUTH_EXPIRED
"""``exp`` is in the past, beyond the leeway."""

NOT_YET_VALID: Final = wire.AUTH_NOT_YET_VALID
"""``nbf`` (or ``iat``) is in the future, beyond the leeway."""

WRONG_ISSUER: Final = wire.AUTH_WRONG_ISSUER
"""``iss`` is not the configured identity provider."""

WRONG_CLIENT: Final = wire.AUTH_WRONG_CLIENT
"""``client_id`` is not our system's mnemonic: the token was issued to someone else."""

WRONG_TOKEN_TYPE: Final = wire.AUTH_WRONG_TOKEN_TYPE
"""The header's ``sbt`` is missing or is not ``access`` (an ID or refresh token, say)."""

BAD_CLAIMS: Final = wire.AUTH_BAD_CLAIMS
"""A required claim is missing or has the wrong type."""

MESSAGES: Final[Mapping[str, str]] = {
    MALFORMED: "the access token is malformed",
    ALG_NONE: "unsigned access tokens are not accepted",
    ALG_NOT_ALLOWED: "the access token's signature algorithm is not accepted",
    BAD_SIGNATURE: "the access token is not signed by a trusted identity provider",
    TAMPERED: "the access token was altered after it was signed",
    WRONG_TOKEN_TYPE: "this is not an access token",
    BAD_CLAIMS: "the access token lacks required claims or has malformed ones",
    WRONG_ISSUER: "the access token was issued by an unexpected identity provider",
    WRONG_CLIENT: "the access token was issued to another system",
    EXPIRED: "the access token has expired",
    NOT_YET_VALID: "the access token is not valid yet",
}
"""The one message shown for each code."""

CODES: Final[tuple[str, ...]] = tuple(MESSAGES)
"""Every refusal code, in the order the verifier checks for them."""


def refusal(code: str) -> AuthError:
    """The :class:`AuthError` for ``code``, with its fixed, client-safe message."""
    return AuthError(code, MESSAGES[code])


BUSY: Final = wire.AUTH_BUSY
"""Too many sign-ins are being verified at once; not a refusal of the token, retry shortly."""

BUSY_RETRY_AFTER: Final = 1.0
"""Seconds after which a sign-in refused with ``auth.busy`` may be retried."""


class VerifierBusy(ZvonokError):
    """The token could not be checked now (the bounded queue of checks is full): retry.

    Not an :class:`AuthError`: on the WebSocket the ``hello`` gets an ``error``
    frame and the connection stays open for a retried ``hello``; over HTTP it is a 503.
    """

    http_status = 503
    retry_after = BUSY_RETRY_AFTER


def busy() -> VerifierBusy:
    """The error for a full verification queue."""
    return VerifierBusy(BUSY, "too many sign-ins are being checked; retry in a second")
