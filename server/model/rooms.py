"""The values rooms are made of, shared by the store, the service and the wire.

A *room* is a video lesson (a class's students and the school's teachers)
or a parent meeting (a class's parents and the school's teachers).  What is
kept of it (:class:`RoomRecord`, :class:`AttendanceRow`) is stored; what it
is doing now (who is in, hands, mutes) is the live state of
:mod:`server.rooms.live`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NewType

from signaling import rooms as wire

RoomId = NewType("RoomId", str)
"""A room's id: a random URL-safe token chosen by the server."""

RoomState = Literal["scheduled", "open", "ended"]


class RoomKind(StrEnum):
    LESSON = "lesson"  # a class's students, taught by a teacher
    MEETING = "meeting"  # a class's parents, with a waiting room


class RoomRole(StrEnum):
    """What a person is in a room (the ``role`` of the attendance list)."""

    HOST = "host"  # the teacher who started it
    COHOST = "cohost"  # named by the host; the same controls
    STUDENT = "student"  # a student of the class (lessons)
    PARENT = "parent"  # a parent of a student of the class (meetings)
    STAFF = "staff"  # a teacher or admin of the school


def iso_utc(at: float) -> str:
    """``2027-01-15T08:00:00Z``: a Unix time as ISO 8601 in UTC, to the second."""
    moment = datetime.datetime.fromtimestamp(at, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room as stored."""

    id: RoomId
    kind: RoomKind
    class_id: str
    school_id: str
    host: int
    cohost: int | None
    title: str
    starts_at: float | None  # when it was scheduled for; None: started at once
    created_at: float
    started_at: float | None  # None until the host opens a scheduled room
    ended_at: float | None
    chat_id: str

    @property
    def state(self) -> RoomState:
        if self.ended_at is not None:
            return "ended"
        return "scheduled" if self.started_at is None else "open"

    def hosts(self, oid: int) -> bool:
        """Whether ``oid`` is the host or the co-host."""
        return oid == self.host or (self.cohost is not None and oid == self.cohost)

    def to_json(self, participants: int = 0) -> wire.RoomRecord:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "class_id": self.class_id,
            "school_id": self.school_id,
            "title": self.title,
            "host": self.host,
            "cohost": self.cohost,
            "starts_at": self.starts_at,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "chat": self.chat_id,
            "state": self.state,
            "participants": participants,
        }


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    """One interval a person was present in a room; ``left_at`` None while present."""

    person: int
    full_name: str
    role: RoomRole
    joined_at: float
    left_at: float | None

    def seconds(self, now: float) -> int:
        """Whole seconds present (up to ``now`` for someone still present)."""
        end = now if self.left_at is None else self.left_at
        return max(0, int(end - self.joined_at))
