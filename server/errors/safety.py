"""The refusals of the safety rules, each with a stable code (docs/safety.md)."""

from __future__ import annotations

from server.errors import ForbiddenError, ZvonokError
from signaling.errors import (
    CONTENT_BLOCKED,
    MODERATION_INVALID,
    REPORT_NOT_FOUND,
    REPORT_RESOLVED,
    SCHOOL_NOT_FOUND,
    SETTINGS_INVALID,
)
from signaling.errors import CONTENT_LINK_FORBIDDEN as LINK_FORBIDDEN
from signaling.errors import MODERATION_ANNOUNCEMENTS_ONLY as ANNOUNCEMENTS_ONLY
from signaling.errors import MODERATION_MUTED as MUTED
from signaling.errors import MODERATION_NOT_MODERATOR as NOT_MODERATOR

__all__ = [
    "ANNOUNCEMENTS_ONLY",
    "CONTENT_BLOCKED",
    "LINK_FORBIDDEN",
    "MODERATION_INVALID",
    "MUTED",
    "NOT_MODERATOR",
    "REPORT_NOT_FOUND",
    "REPORT_RESOLVED",
    "SCHOOL_NOT_FOUND",
    "SETTINGS_INVALID",
]


class Muted(ForbiddenError):
    """The member is muted in this chat until ``retry_after`` seconds from now."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(MUTED, "a moderator has muted you in this chat")
        self.retry_after: float | None = round(max(retry_after, 0.001), 3)


def announcements_only() -> ForbiddenError:
    return ForbiddenError(ANNOUNCEMENTS_ONLY, "only the chat's moderators post here now")


def not_moderator() -> ForbiddenError:
    return ForbiddenError(NOT_MODERATOR, "only the chat's moderators may do this")


def invalid(message: str) -> ZvonokError:
    return ZvonokError(MODERATION_INVALID, message)


def content_blocked() -> ForbiddenError:
    return ForbiddenError(CONTENT_BLOCKED, "the message has words this chat does not allow")


def link_forbidden() -> ForbiddenError:
    return ForbiddenError(LINK_FORBIDDEN, "only teachers may post links in this chat")


class ReportNotFound(ZvonokError):
    def __init__(self, report_id: int) -> None:
        super().__init__(REPORT_NOT_FOUND, f"no report {report_id} for you")


class ReportAlreadyResolved(ZvonokError):
    def __init__(self, report_id: int) -> None:
        super().__init__(REPORT_RESOLVED, f"report {report_id} was already resolved")
