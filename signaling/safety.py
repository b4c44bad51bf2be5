"""The moderation, report and people messages of the Zvonok protocol.

Client requests and the reply each one gets::

    moderation.delete         -> ack         report.create   -> report.info
    moderation.mute           -> ack         report.resolve  -> report.info
    moderation.unmute         -> ack         reports         -> report.list
    moderation.announcements  -> ack         people.find     -> people.list
    moderation.pin            -> ack
    moderation.remove         -> ack

Events the server sends on its own: ``report.new`` (to a chat's moderators)
and ``report.resolved`` (to the reporter).  Every moderation action is also
a chat event (``chat.event`` of kind ``moderation``, ``delete`` or
``members``) that the chat's members receive in order.  Who may do what is
in ``docs/safety.md``; these classes check shapes only.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, NotRequired, TypedDict

from msgspec import UNSET, Meta, UnsetType

from .fields import (
    MAX_KEY,
    MAX_MUTE,
    MAX_QUERY,
    MAX_REASON,
    ChatId,
    Key,
    MuteSeconds,
    Oid,
    Outcome,
    PositiveId,
    Query,
    Reason,
    ReportStatus,
    Time,
)
from .messages import SchoolRole
from .schema import ClientMessage, ServerMessage

__all__ = ["MAX_KEY", "MAX_MUTE", "MAX_QUERY", "MAX_REASON"]

MAX_REPORTS = 500  # reports in one report.list
MAX_PEOPLE_FOUND = 200
OUTCOMES: tuple[Outcome, ...] = ("removed", "warned", "dismissed")
REPORT_STATUSES: tuple[ReportStatus, ...] = ("open", "resolved")


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


class ModDelete(ClientMessage, frozen=True):
    """Delete anyone's message as the chat's moderator.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "key": "..."?}``
    """

    TYPE: ClassVar[str] = "moderation.delete"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    message_id: PositiveId
    key: Key | None = None


class Mute(ClientMessage, frozen=True):
    """Keep a member from posting for ``seconds`` (1 s to 30 days).  Reply ``ack``.

    ``{"chat": "class:5a", "person": oid, "seconds": 3600}``
    """

    TYPE: ClassVar[str] = "moderation.mute"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    person: Oid
    seconds: MuteSeconds


class Unmute(ClientMessage, frozen=True):
    """Let a muted member post again.  ``{"chat", "person"}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.unmute"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    person: Oid


class SetAnnouncements(ClientMessage, frozen=True):
    """Make the chat announcements-only (``on``: only moderators post) or open
    it again.  ``{"chat", "on": bool}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.announcements"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    on: bool


class Pin(ClientMessage, frozen=True, omit_defaults=False):
    """Pin a message, or unpin with ``message_id`` nil or absent.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17 | nil}``
    """

    TYPE: ClassVar[str] = "moderation.pin"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    message_id: PositiveId | None = None


class Remove(ClientMessage, frozen=True):
    """Remove a member from a teacher-made group.  ``{"chat", "person"}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.remove"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    person: Oid


class CreateReport(ClientMessage, frozen=True):
    """Report a message to the chat's moderators.  Reply ``report.info``.

    ``{"chat": "class:5a", "message_id": 17, "reason": "..."}``; reporting
    the same message again returns the first report.
    """

    TYPE: ClassVar[str] = "report.create"
    REPLY: ClassVar[tuple[str, ...]] = ("report.info",)
    chat: ChatId
    message_id: PositiveId
    reason: Reason


class ResolveReport(ClientMessage, frozen=True):
    """Resolve a report as a moderator.  Reply ``report.info``.

    ``{"report": 3, "outcome": "removed" | "warned" | "dismissed", "note": "..."?}``
    """

    TYPE: ClassVar[str] = "report.resolve"
    REPLY: ClassVar[tuple[str, ...]] = ("report.info",)
    report: PositiveId
    outcome: Outcome
    note: Reason | None = None


class ListReports(ClientMessage, frozen=True, omit_defaults=False):
    """Reports sent to me as a moderator, or (``mine``) the ones I made.

    ``{"mine": false, "status": "open" | "resolved"?}``; reply ``report.list``.
    ``mine`` defaults to false and is always sent.
    """

    TYPE: ClassVar[str] = "reports"
    REPLY: ClassVar[tuple[str, ...]] = ("report.list",)
    mine: bool = False
    status: ReportStatus | UnsetType = UNSET


class FindPeople(ClientMessage, frozen=True):
    """Search people by name among those the rules let me write to.

    ``{"query": "Иванова"}``; reply ``people.list``.
    """

    TYPE: ClassVar[str] = "people.find"
    REPLY: ClassVar[tuple[str, ...]] = ("people.list",)
    query: Query


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


class Report(TypedDict):
    """A report of a message.  ``text`` (the message as it was when reported,
    kept after a delete) and ``resolved_by`` are there for moderators only."""

    id: PositiveId
    chat: ChatId
    message_id: PositiveId
    reporter: Oid
    author: Oid
    reason: Reason
    created_at: Time
    status: ReportStatus
    outcome: Outcome | None
    resolved_at: Time | None
    note: Reason | None
    text: NotRequired[str]
    resolved_by: NotRequired[Oid | None]


class PersonFound(TypedDict):
    """An entry of ``people.list``: someone the rules let the asker write to."""

    oid: Oid
    full_name: Annotated[str, Meta(min_length=1, max_length=602)]
    roles: list[SchoolRole]


class ReportInfo(ServerMessage, frozen=True):
    """One report: the reply to ``report.create`` and ``report.resolve``.  ``{"report"}``"""

    TYPE: ClassVar[str] = "report.info"
    report: Report


class ReportList(ServerMessage, frozen=True):
    """The reply to ``reports``.  ``{"reports": [report, ...]}``, newest first."""

    TYPE: ClassVar[str] = "report.list"
    reports: Annotated[list[Report], Meta(max_length=MAX_REPORTS)]


class ReportNew(ServerMessage, frozen=True):
    """A member reported a message in a chat I moderate.  ``{"report": {...}}``"""

    TYPE: ClassVar[str] = "report.new"
    report: Report


class ReportResolved(ServerMessage, frozen=True):
    """A report I made was resolved.  ``{"report": {...}}`` with its ``outcome``."""

    TYPE: ClassVar[str] = "report.resolved"
    report: Report


class PeopleList(ServerMessage, frozen=True):
    """The reply to ``people.find``: ``{"people": [{"oid", "full_name", "roles"}]}``."""

    TYPE: ClassVar[str] = "people.list"
    people: Annotated[list[PersonFound], Meta(max_length=MAX_PEOPLE_FOUND)]
