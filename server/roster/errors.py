"""Errors of the roster: a file that cannot be imported, and why.

A roster file is checked as a whole before anything is written, so one
:class:`RosterError` carries every problem found, each naming the record and
the field (``schools[0].classes[1].students[3]``).  It is raised to the
administrator running ``zvonok roster import``, never to a client.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROSTER_INVALID = "roster.invalid"
ROSTER_OUTSIDE_SCHOOL = "roster.outside_school"


@dataclass(frozen=True, slots=True)
class RosterIssue:
    """One problem in a roster file.

    ``path`` names the record and field the way they are written in the file
    (``people[4].birth_date``); it is empty for a problem with the file as a
    whole, such as invalid JSON.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RosterError(Exception):
    """A roster file was refused; nothing was written.

    ``str()`` lists the issues, one per line, in the order they occur in the
    file.  ``schools`` and ``people`` say whose facts the refused file reached
    for: the admins of those schools, and of the schools those people belong
    to, are told of an admin's refused upload.  ``code`` is the refusal's
    stable code for a client.
    """

    code = ROSTER_INVALID

    def __init__(
        self,
        issues: Iterable[RosterIssue],
        schools: Iterable[str] = (),
        people: Iterable[int] = (),
    ) -> None:
        self.issues: tuple[RosterIssue, ...] = tuple(issues)
        if not self.issues:
            raise ValueError("a RosterError needs at least one issue")
        super().__init__("\n".join(str(issue) for issue in self.issues))
        self.schools: frozenset[str] = frozenset(schools)
        self.people: frozenset[int] = frozenset(people)


class RosterOutsideSchool(RosterError):
    """An upload by a school's admin would change facts that belong to other
    schools (:mod:`server.roster.authority`); nothing was written.

    ``schools``: the schools whose facts it reached for, whose admins are
    told of the attempt (and so are the uploader's own).
    """

    code = ROSTER_OUTSIDE_SCHOOL
