"""Errors that reach a client, each with a stable code.

A :class:`ZvonokError` carries a dotted code string (``auth.expired``) of the
catalogue in :mod:`signaling.errors` (``tests/server/test_error_codes.py``
holds the code against it), a human message that is safe to show,
and the HTTP status the catalogue gives the code (one endpoint may say
otherwise, ``http_status=``).  On the WebSocket it becomes an ``error`` frame
with the same code.  Errors from lower layers (sqlite, joserfc, aiohttp) are
caught where they enter our code and re-raised as one of these with
``raise ... from exc``; their details stay in the log.

The subclasses say what kind of refusal it is, for code that must tell them
apart (a refused ``hello`` closes with the code's close code).
"""

from __future__ import annotations

from signaling.errors import STORE_UNAVAILABLE, http_status


class ZvonokError(Exception):
    """Base of every error a client may see."""

    retry_after: float | None = None  # seconds, for refusals that a later retry may pass

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = _status(code) if http_status is None else http_status

    def to_json(self) -> dict[str, str | float]:
        out: dict[str, str | float] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


_status = http_status


class AuthError(ZvonokError):
    """The access token was refused, or the person behind it may not enter."""


class ForbiddenError(ZvonokError):
    """The caller is known but may not do this."""


class StoreUnavailable(ZvonokError):
    """The database could not be reached or failed; the request may be retried."""

    def __init__(self, message: str = "storage is unavailable") -> None:
        super().__init__(STORE_UNAVAILABLE, message)


class ConfigError(Exception):
    """The configuration is invalid; raised at start-up, never to a client."""
