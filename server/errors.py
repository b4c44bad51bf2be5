"""Errors that reach a client, each with a stable code.

A :class:`ZvonokError` carries a dotted code string (``auth.expired``), a
human message that is safe to show, and the HTTP status used when it crosses
the HTTP API.  On the WebSocket it becomes an ``error`` frame with the same
code.  Errors from lower layers (sqlite, joserfc, aiohttp) are caught where
they enter our code and re-raised as one of these with ``raise ... from exc``;
their details stay in the log.

The codes themselves are listed in ``docs/protocol.md``.
"""

from __future__ import annotations


class ZvonokError(Exception):
    """Base of every error a client may see."""

    http_status = 400
    retry_after: float | None = None  # seconds, for refusals that a later retry may pass

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        if http_status is not None:
            self.http_status = http_status

    def to_json(self) -> dict[str, str | float]:
        out: dict[str, str | float] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


class AuthError(ZvonokError):
    """The access token was refused, or the person behind it may not enter."""

    http_status = 401


class ForbiddenError(ZvonokError):
    """The caller is known but may not do this."""

    http_status = 403


class StoreUnavailable(ZvonokError):
    """The database could not be reached or failed; the request may be retried."""

    http_status = 503

    def __init__(self, message: str = "storage is unavailable") -> None:
        super().__init__("store.unavailable", message)


class ConfigError(Exception):
    """The configuration is invalid; raised at start-up, never to a client."""
