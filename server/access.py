"""Who may enter: a verified ESIA token whose person is in the roster.

Both doors, the WebSocket ``hello`` and the HTTP ``Authorization: Bearer``
header, go through :class:`AccessGate`, so they refuse the same tokens with
the same codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from signaling import messages as wire
from signaling.errors import AUTH_UNKNOWN_PERSON

from .auth import AccessToken, TokenVerifier
from .errors import ForbiddenError
from .roster.model import Profile
from .store.base import Store


@dataclass(frozen=True, slots=True)
class Admission:
    """A person let in: the verified token's claims and their roster profile."""

    token: AccessToken
    profile: Profile

    def profile_json(self) -> wire.Profile:
        """The profile as ``welcome`` and ``GET /api/v1/me`` give it, held to the
        protocol's shape (a roster fact outside it is a bug, not a reply)."""
        return msgspec.convert(self.profile.to_json(), wire.Profile)


class AccessGate:
    """Verifies a token, then finds its person in the roster."""

    def __init__(self, verifier: TokenVerifier, store: Store) -> None:
        self._verifier = verifier
        self._store = store

    @property
    def verifier(self) -> TokenVerifier:
        return self._verifier

    async def admit(self, raw_token: str) -> Admission:
        """Return the admission, or raise AuthError / ForbiddenError with a code."""
        token = await self._verifier.verify_async(raw_token)
        profile = await self._store.profile(token.oid)
        if profile is None:
            raise ForbiddenError(
                AUTH_UNKNOWN_PERSON,
                "this Gosuslugi account is not on any school's roster; ask the school to add you",
            )
        return Admission(token, profile)
