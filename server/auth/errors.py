"""Stable codes for refused access tokens.

Every refusal by :class:`server.auth.tokens.TokenVerifier` is a
:class:`server.errors.AuthError` carrying one of the codes below and the fixed
message that goes with it.  The messages are constants on purpose: nothing
taken from the token (and certainly not the token itself) ever reaches a
client or a log through them.

The codes are part of the protocol (``docs/protocol.md``, ``docs/auth.md``);
never rename one, only add.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from server.errors import AuthError, ZvonokError

MALFORMED: Final = "auth.malformed"
"""Not a compact JWS we can read: garbage, bad base64url, bad JSON, oversized."""

ALG_NONE: Final = "auth.alg_none"
"""The header asks for no signature at all."""

ALG_NOT_ALLOWED: Final = "auth.alg_not_allowed"
"""The header names an algorithm outside the allow-list (HS256, RS512, ES256...)."""

BAD_SIGNATURE: Final = "auth.bad_signature"
"""Signed by no trusted certificate: a foreign key, or ESIA rotated to one we lack."""

TAMPERED: Final = "auth.tampered"
"""Signed by a trusted certificate's key, but over other content: the token was edited."""

EXPIRED: Final = "auth.expired"
"""``exp`` is in the past, beyond the leeway."""

NOT_YET_VALID: Final = "auth.not_yet_valid"
"""``nbf`` (or ``iat``) is in the future, beyond the leeway."""

WRONG_ISSUER: Final = "auth.wrong_issuer"
"""``iss`` is not the configured identity provider."""

WRONG_CLIENT: Final = "auth.wrong_client"
"""``client_id`` is not our system's mnemonic: the token was issued to someone else."""

WRONG_TOKEN_TYPE: Final = "auth.wrong_token_type"  # noqa: S105 - a code, not a secret
"""The header's ``sbt`` is missing or is not ``access`` (an ID or refresh token, say)."""

BAD_CLAIMS: Final = "auth.bad_claims"
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


BUSY: Final = "auth.busy"
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
