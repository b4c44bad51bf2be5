"""The refusals of chat requests; their codes are the catalogue's (signaling/errors.py)."""

from __future__ import annotations

from server.errors import ForbiddenError, ZvonokError
from signaling.errors import (
    CHAT_INVALID,
    CHAT_MEMBERS_FIXED,
    CHAT_NOT_FOUND,
    CHAT_NOT_OWNER,
    IDEMPOTENCY_CONFLICT,
    MESSAGE_DELETED,
    MESSAGE_EMPTY,
    MESSAGE_NOT_AUTHOR,
    MESSAGE_NOT_FOUND,
    MESSAGE_TOO_LONG,
    PERSON_NOT_FOUND,
    POLICY_FORBIDDEN,
    RATE_LIMITED,
)

__all__ = [
    "CHAT_INVALID",
    "CHAT_MEMBERS_FIXED",
    "CHAT_NOT_FOUND",
    "CHAT_NOT_OWNER",
    "IDEMPOTENCY_CONFLICT",
    "MESSAGE_DELETED",
    "MESSAGE_EMPTY",
    "MESSAGE_NOT_AUTHOR",
    "MESSAGE_NOT_FOUND",
    "MESSAGE_TOO_LONG",
    "PERSON_NOT_FOUND",
    "POLICY_FORBIDDEN",
    "RATE_LIMITED",
]


class NotFound(ZvonokError):
    """No such chat or message *for this person*: not being a member of a
    chat looks the same as the chat not existing, so ids cannot be probed."""


class Conflict(ZvonokError):
    """The request contradicts stored state (a deleted message, a reused key)."""


class RateLimited(ZvonokError):
    """Too many sends; ``retry_after`` says when the next one will be taken."""

    def __init__(self, retry_after: float, message: str = "too many messages; slow down") -> None:
        super().__init__(RATE_LIMITED, message)
        self.retry_after: float | None = retry_after


def chat_not_found(chat_id: str) -> NotFound:
    return NotFound(CHAT_NOT_FOUND, f"no chat {chat_id[:80]!r} among yours")


def message_not_found(chat_id: str, message_id: int) -> NotFound:
    return NotFound(MESSAGE_NOT_FOUND, f"no message {message_id} in chat {chat_id[:80]!r}")


def members_fixed(kind: str) -> Conflict:
    return Conflict(CHAT_MEMBERS_FIXED, f"the members of a {kind} chat cannot be changed")


def not_owner(message: str = "only the owner of a group may change its members") -> ForbiddenError:
    return ForbiddenError(CHAT_NOT_OWNER, message)


def forbidden(message: str) -> ForbiddenError:
    return ForbiddenError(POLICY_FORBIDDEN, message)
