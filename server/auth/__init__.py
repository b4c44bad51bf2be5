"""Sign-in with ESIA access tokens.

:class:`TokenVerifier` checks an ESIA access token and returns its claims as
an :class:`AccessToken`, or raises :class:`~server.errors.AuthError` with one
of the codes in :mod:`server.auth.errors`.  It verifies RS256 and ESIA's
GOST R 34.10-2012 (:mod:`server.auth.gost`, checked in worker processes by
:mod:`server.auth.offload`).  :class:`DevIdentityProvider` stands in for
ESIA in development, signing either way.  See ``docs/auth.md``.
"""

from server.auth import errors
from server.auth.certificates import TrustedCertificate
from server.auth.devidp import DevIdentityProvider
from server.auth.esia import ESIA_ISSUER
from server.auth.tokens import AccessToken, TokenVerifier

__all__ = [
    "ESIA_ISSUER",
    "AccessToken",
    "DevIdentityProvider",
    "TokenVerifier",
    "TrustedCertificate",
    "errors",
]
