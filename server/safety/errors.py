"""The refusals of the safety rules, each with a stable code (docs/safety.md)."""

from __future__ import annotations

from server.errors import ForbiddenError, ZvonokError

MUTED = "moderation.muted"
ANNOUNCEMENTS_ONLY = "moderation.announcements_only"
NOT_MODERATOR = "moderation.not_moderator"
MODERATION_INVALID = "moderation.invalid"
CONTENT_BLOCKED = "content.blocked"
LINK_FORBIDDEN = "content.link_forbidden"
REPORT_NOT_FOUND = "report.not_found"
REPORT_RESOLVED = "report.resolved"
SETTINGS_INVALID = "settings.invalid"
SCHOOL_NOT_FOUND = "school.not_found"


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
    http_status = 404

    def __init__(self, report_id: int) -> None:
        super().__init__(REPORT_NOT_FOUND, f"no report {report_id} for you")


class ReportAlreadyResolved(ZvonokError):
    http_status = 409

    def __init__(self, report_id: int) -> None:
        super().__init__(REPORT_RESOLVED, f"report {report_id} was already resolved")
