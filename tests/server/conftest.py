"""Fixtures of the server tests that live in their own modules."""

from tests.signin_server import start_sign_in_server

__all__ = ["start_sign_in_server"]
