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

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .chat import MAX_KEY
from .fields import MAX_CHAT_ID, MAX_SAFE_INT, Body
from .messages import Message

MAX_REASON = 1000  # characters of a report's reason or a moderator's note
MAX_QUERY = 100  # characters of a people search
MAX_REPORTS = 500  # reports in one report.list
MAX_PEOPLE_FOUND = 200
MAX_MUTE = 30 * 24 * 3600  # seconds: a mute lasts at most 30 days
OUTCOMES = ("removed", "warned", "dismissed")
REPORT_STATUSES = ("open", "resolved")


def _chat(body: Body) -> str:
    return body.text("chat", max_len=MAX_CHAT_ID)


def _person(body: Body) -> int:
    return body.integer("person", lo=1, hi=MAX_SAFE_INT)


def _message_id(body: Body) -> int:
    return body.integer("message_id", lo=1, hi=MAX_SAFE_INT)


def _opt_choice(body: Body, key: str, allowed: tuple[str, ...]) -> str | None:
    value = body.opt_text(key, max_len=32)
    if value is not None and value not in allowed:
        raise body._fail(key, f"one of {', '.join(allowed)}")
    return value


def _choice(body: Body, key: str, allowed: tuple[str, ...]) -> str:
    value = body.text(key, max_len=32)
    if value not in allowed:
        raise body._fail(key, f"one of {', '.join(allowed)}")
    return value


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModDelete(Message):
    """Delete anyone's message as the chat's moderator.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "key": "..."?}``
    """

    TYPE: ClassVar[str] = "moderation.delete"
    chat: str
    message_id: int
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            message_id=_message_id(body),
            key=body.opt_text("key", max_len=MAX_KEY),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chat": self.chat, "message_id": self.message_id}
        if self.key is not None:
            out["key"] = self.key
        return out


@dataclass(frozen=True, slots=True)
class Mute(Message):
    """Keep a member from posting for ``seconds`` (1 s to 30 days).  Reply ``ack``.

    ``{"chat": "class:5a", "person": oid, "seconds": 3600}``
    """

    TYPE: ClassVar[str] = "moderation.mute"
    chat: str
    person: int
    seconds: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            person=_person(body),
            seconds=body.integer("seconds", lo=1, hi=MAX_MUTE),
        )

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "person": self.person, "seconds": self.seconds}


@dataclass(frozen=True, slots=True)
class Unmute(Message):
    """Let a muted member post again.  ``{"chat", "person"}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.unmute"
    chat: str
    person: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), person=_person(body))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "person": self.person}


@dataclass(frozen=True, slots=True)
class SetAnnouncements(Message):
    """Make the chat announcements-only (``on``: only moderators post) or open
    it again.  ``{"chat", "on": bool}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.announcements"
    chat: str
    on: bool

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), on=body.boolean("on"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "on": self.on}


@dataclass(frozen=True, slots=True)
class Pin(Message):
    """Pin a message, or unpin with ``message_id`` nil or absent.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17 | nil}``
    """

    TYPE: ClassVar[str] = "moderation.pin"
    chat: str
    message_id: int | None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), message_id=body.opt_integer("message_id", lo=1))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "message_id": self.message_id}


@dataclass(frozen=True, slots=True)
class Remove(Message):
    """Remove a member from a teacher-made group.  ``{"chat", "person"}``; reply ``ack``."""

    TYPE: ClassVar[str] = "moderation.remove"
    chat: str
    person: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), person=_person(body))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "person": self.person}


@dataclass(frozen=True, slots=True)
class CreateReport(Message):
    """Report a message to the chat's moderators.  Reply ``report.info``.

    ``{"chat": "class:5a", "message_id": 17, "reason": "..."}``; reporting
    the same message again returns the first report.
    """

    TYPE: ClassVar[str] = "report.create"
    chat: str
    message_id: int
    reason: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            message_id=_message_id(body),
            reason=body.text("reason", max_len=MAX_REASON),
        )

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "message_id": self.message_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ResolveReport(Message):
    """Resolve a report as a moderator.  Reply ``report.info``.

    ``{"report": 3, "outcome": "removed" | "warned" | "dismissed", "note": "..."?}``
    """

    TYPE: ClassVar[str] = "report.resolve"
    report: int
    outcome: str
    note: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            report=body.integer("report", lo=1),
            outcome=_choice(body, "outcome", OUTCOMES),
            note=body.opt_text("note", max_len=MAX_REASON),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"report": self.report, "outcome": self.outcome}
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class ListReports(Message):
    """Reports sent to me as a moderator, or (``mine``) the ones I made.

    ``{"mine": false?, "status": "open" | "resolved"?}``; reply ``report.list``.
    """

    TYPE: ClassVar[str] = "reports"
    mine: bool = False
    status: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            mine=body.opt_boolean("mine", False),
            status=_opt_choice(body, "status", REPORT_STATUSES),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mine": self.mine}
        if self.status is not None:
            out["status"] = self.status
        return out


@dataclass(frozen=True, slots=True)
class FindPeople(Message):
    """Search people by name among those the rules let me write to.

    ``{"query": "Иванова"}``; reply ``people.list``.
    """

    TYPE: ClassVar[str] = "people.find"
    query: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(query=body.text("query", max_len=MAX_QUERY))

    def encode(self) -> dict[str, Any]:
        return {"query": self.query}


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReportMessage(Message):
    """A message whose body is one report: ``{"report": {...}}``."""

    report: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(report=body.map("report"))

    def encode(self) -> dict[str, Any]:
        return {"report": self.report}


@dataclass(frozen=True, slots=True)
class ReportInfo(_ReportMessage):
    """One report: the reply to ``report.create`` and ``report.resolve``.

    ``{"report": {"id", "chat", "message_id", "reporter", "author", "reason",
    "created_at", "status", "outcome", "resolved_at", "note", "text"?,
    "resolved_by"?}}``: ``text`` and ``resolved_by`` are for moderators.
    """

    TYPE: ClassVar[str] = "report.info"


@dataclass(frozen=True, slots=True)
class ReportList(Message):
    """The reply to ``reports``.  ``{"reports": [report, ...]}``, newest first."""

    TYPE: ClassVar[str] = "report.list"
    reports: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(reports=body.list_of_maps("reports", MAX_REPORTS))

    def encode(self) -> dict[str, Any]:
        return {"reports": self.reports}


@dataclass(frozen=True, slots=True)
class ReportNew(_ReportMessage):
    """A member reported a message in a chat I moderate.  ``{"report": {...}}``"""

    TYPE: ClassVar[str] = "report.new"


@dataclass(frozen=True, slots=True)
class ReportResolved(_ReportMessage):
    """A report I made was resolved.  ``{"report": {...}}`` with its ``outcome``."""

    TYPE: ClassVar[str] = "report.resolved"


@dataclass(frozen=True, slots=True)
class PeopleList(Message):
    """The reply to ``people.find``: ``{"people": [{"oid", "full_name", "roles"}]}``."""

    TYPE: ClassVar[str] = "people.list"
    people: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(people=body.list_of_maps("people", MAX_PEOPLE_FOUND))

    def encode(self) -> dict[str, Any]:
        return {"people": self.people}
