"""Sign-in with ESIA access tokens.

:class:`TokenVerifier` checks an ESIA access token and returns its claims as
an :class:`AccessToken`, or raises :class:`~server.errors.AuthError` with one
of the codes in :mod:`server.auth.errors`.  :class:`DevIdentityProvider`
stands in for ESIA in development.  See ``docs/auth.md``.
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
