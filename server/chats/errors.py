"""The refusals of chat requests, each with a stable code (docs/protocol.md)."""

from __future__ import annotations

from server.errors import ForbiddenError, ZvonokError

CHAT_NOT_FOUND = "chat.not_found"
CHAT_MEMBERS_FIXED = "chat.members_fixed"
CHAT_NOT_OWNER = "chat.not_owner"
CHAT_INVALID = "chat.invalid"
MESSAGE_NOT_FOUND = "message.not_found"
MESSAGE_NOT_AUTHOR = "message.not_author"
MESSAGE_DELETED = "message.deleted"
MESSAGE_TOO_LONG = "message.too_long"
MESSAGE_EMPTY = "message.empty"
IDEMPOTENCY_CONFLICT = "idempotency.conflict"
PERSON_NOT_FOUND = "person.not_found"
POLICY_FORBIDDEN = "policy.forbidden"
RATE_LIMITED = "rate.limited"


class NotFound(ZvonokError):
    """No such chat or message *for this person*: not being a member of a
    chat looks the same as the chat not existing, so ids cannot be probed."""

    http_status = 404


class Conflict(ZvonokError):
    """The request contradicts stored state (a deleted message, a reused key)."""

    http_status = 409


class RateLimited(ZvonokError):
    """Too many sends; ``retry_after`` says when the next one will be taken."""

    http_status = 429

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
