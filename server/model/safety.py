"""The values of moderation, reports and the audit log, shared by the store,
the services and the wire."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from server.model.chats import ChatKind
from signaling.safety import Report as ReportJson


class Outcome(StrEnum):
    """How a moderator resolved a report."""

    REMOVED = "removed"  # the message was deleted
    WARNED = "warned"  # the author was warned or muted
    DISMISSED = "dismissed"  # nothing wrong found


@dataclass(frozen=True, slots=True)
class ChatFacts:
    """What the safety checks need to know about a chat, in one read."""

    id: str
    kind: ChatKind
    school_id: str | None
    class_id: str | None
    owner: int | None
    announcements: bool
    pinned: int | None
    members: tuple[int, ...]
    youngest: datetime.date | None  # the latest birth date among the members

    def has_minor(self, today: datetime.date) -> bool:
        """Whether a member is under 18 on ``today``."""
        if self.youngest is None:
            return False
        y = self.youngest
        try:
            adult_on = y.replace(year=y.year + 18)
        except ValueError:  # born on 29 February
            adult_on = datetime.date(y.year + 18, 3, 1)
        return today < adult_on


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the audit log, before it is written."""

    school_id: str | None
    actor: int
    action: str
    chat_id: str | None = None
    target: int | None = None
    message_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored audit row: its id (ascending in commit order) and time."""

    id: int
    at: float
    record: AuditRecord

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": self.id,
            "at": self.at,
            "school_id": r.school_id,
            "actor": r.actor,
            "action": r.action,
            "chat": r.chat_id,
            "target": r.target,
            "message_id": r.message_id,
            "details": r.details,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """A member's report of a message, with the text as it was when reported."""

    id: int
    chat_id: str
    message_id: int
    reporter: int
    author: int
    text: str
    reason: str
    created_at: float
    status: str  # "open" | "resolved"
    outcome: Outcome | None = None
    resolved_by: int | None = None
    resolved_at: float | None = None
    note: str | None = None

    def to_json(self, *, with_text: bool = True) -> ReportJson:
        """The report for a moderator; the reporter's own view leaves out
        the kept text and the moderator's identity and nothing else."""
        out: ReportJson = {
            "id": self.id,
            "chat": self.chat_id,
            "message_id": self.message_id,
            "reporter": self.reporter,
            "author": self.author,
            "reason": self.reason,
            "created_at": self.created_at,
            "status": "resolved" if self.status == "resolved" else "open",
            "outcome": None if self.outcome is None else self.outcome.value,
            "resolved_at": self.resolved_at,
            "note": self.note,
        }
        if with_text:
            out["text"] = self.text
            out["resolved_by"] = self.resolved_by
        return out
