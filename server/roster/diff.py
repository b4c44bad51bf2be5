"""What importing a roster file changes, worked out before anything is written.

A roster file is authoritative for a scope (:class:`~server.roster.rows.RosterScope`):
the people it lists (added or updated, never deleted), the schools it lists
(their name, staff and classes; classes of those schools missing from the
file are removed with their members and teachers), the members and teachers
of those classes, and the guardians of every child who is a student in the
file's schools or is named as a child in its ``guardians``.  Rows outside the
scope are left alone, so a file may carry one school out of several.

:func:`diff_roster` compares the file with the stored rows of its scope and
returns the rows to add, update and remove, table by table; a store applies
them in one transaction.  A file that matches the database gives no changes,
which is what makes importing the same file twice a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .document import RosterDocument
from .errors import RosterError, RosterIssue
from .model import ROLE_ORDER, Person
from .rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    RosterScope,
    SchoolRow,
    StaffRow,
    SubjectTeacherRow,
)

if TYPE_CHECKING:
    from server.model.chats import MembershipChange

R = TypeVar("R")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class TableCounts:
    """How many rows of one table an import added, updated and removed."""

    added: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def describe(self) -> str:
        """``"3 added, 1 removed"``; empty when nothing changed."""
        counts = (("added", self.added), ("updated", self.updated), ("removed", self.removed))
        return ", ".join(f"{count} {what}" for what, count in counts if count)

    def to_json(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "removed": self.removed}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import changed, per table (the names are the table names)."""

    people: TableCounts = TableCounts()
    schools: TableCounts = TableCounts()
    staff: TableCounts = TableCounts()
    classes: TableCounts = TableCounts()
    class_members: TableCounts = TableCounts()
    subject_teachers: TableCounts = TableCounts()
    guardians: TableCounts = TableCounts()
    chats: tuple[MembershipChange, ...] = ()
    """The membership changes the import made to roster chats (class, parents,
    staff), in the same transaction; they follow from the table changes."""
    kept: tuple[str, ...] = ()
    """Where an admin's file says what is not read, ``people[3]: ...``
    (:mod:`server.roster.authority`, rules 3 and 4)."""

    def tables(self) -> dict[str, TableCounts]:
        """The counts by table name, in a fixed order."""
        return {
            "people": self.people,
            "schools": self.schools,
            "staff": self.staff,
            "classes": self.classes,
            "class_members": self.class_members,
            "subject_teachers": self.subject_teachers,
            "guardians": self.guardians,
        }

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything at all."""
        return any(counts.changed for counts in self.tables().values())

    def summary(self) -> str:
        """One line for the administrator, e.g. ``people: 2 updated; class_members: 1 removed``."""
        parts = [f"{name}: {c.describe()}" for name, c in self.tables().items() if c.changed]
        return "; ".join(parts) if parts else "no changes"

    def to_json(self) -> dict[str, dict[str, int]]:
        return {name: counts.to_json() for name, counts in self.tables().items()}


@dataclass(frozen=True, slots=True)
class TableChanges(Generic[R]):
    """Rows of one table to add, update (new values, same key) and remove."""

    added: tuple[R, ...] = ()
    updated: tuple[R, ...] = ()
    removed: tuple[R, ...] = ()

    def counts(self) -> TableCounts:
        return TableCounts(len(self.added), len(self.updated), len(self.removed))


@dataclass(frozen=True, slots=True)
class RosterChanges:
    """Everything an import will write, each table's rows in a stable order."""

    people: TableChanges[Person]
    schools: TableChanges[SchoolRow]
    staff: TableChanges[StaffRow]
    classes: TableChanges[ClassRow]
    members: TableChanges[MemberRow]
    subject_teachers: TableChanges[SubjectTeacherRow]
    guardians: TableChanges[GuardianRow]

    @property
    def report(self) -> ImportReport:
        return ImportReport(
            people=self.people.counts(),
            schools=self.schools.counts(),
            staff=self.staff.counts(),
            classes=self.classes.counts(),
            class_members=self.members.counts(),
            subject_teachers=self.subject_teachers.counts(),
            guardians=self.guardians.counts(),
        )


def diff_roster(
    doc: RosterDocument, current: RosterRows, *, name_owners: bool = True
) -> RosterChanges:
    """The changes that make the stored rows match ``doc`` within its scope.

    ``current`` holds the stored rows of ``RosterScope.of(doc)`` (rows beyond
    the scope are ignored).  Raises :class:`RosterError` if a class in the
    file already belongs to another school: class ids are permanent.  Its
    message names that school only if ``name_owners`` (the operator's import;
    a school's admin is not told which school has the class).
    """
    scope = RosterScope.of(doc)
    _check_class_owners(doc, current, name_owners)
    wanted = RosterRows.from_document(doc)

    scoped_classes = {
        class_id: row for class_id, row in current.classes.items() if row.school_id in scope.schools
    }
    members_now = {
        (row.school_id, row.oid): row for row in current.members if row.school_id in scope.schools
    }
    members_wanted = {(row.school_id, row.oid): row for row in wanted.members}

    return RosterChanges(
        people=_diff_keyed(
            wanted.people,
            {oid: current.people[oid] for oid in wanted.people if oid in current.people},
            key=lambda person: person.oid,
        ),
        schools=_diff_keyed(
            wanted.schools,
            {sid: row for sid, row in current.schools.items() if sid in scope.schools},
            key=lambda row: row.id,
            removable=False,
        ),
        staff=_diff_set(
            wanted.staff,
            (row for row in current.staff if row.school_id in scope.schools),
            key=lambda row: (row.school_id, row.oid, ROLE_ORDER[row.role]),
        ),
        classes=_diff_keyed(wanted.classes, scoped_classes, key=lambda row: row.id),
        members=_diff_keyed(members_wanted, members_now, key=lambda row: (row.school_id, row.oid)),
        subject_teachers=_diff_set(
            wanted.subject_teachers,
            (row for row in current.subject_teachers if row.class_id in scoped_classes),
            key=lambda row: (row.class_id, row.oid, row.subject),
        ),
        guardians=_diff_set(
            wanted.guardians,
            (row for row in current.guardians if row.child in scope.guardian_children),
            key=lambda row: (row.child, row.parent),
        ),
    )


def _check_class_owners(doc: RosterDocument, current: RosterRows, name_owners: bool) -> None:
    issues: list[RosterIssue] = []
    owners: set[str] = set()
    for school_index, school in enumerate(doc.schools):
        for class_index, record in enumerate(school.classes):
            stored = current.classes.get(record.id)
            if stored is not None and stored.school_id != school.id:
                owners.add(stored.school_id)
                owner = f"school {stored.school_id}" if name_owners else "another school"
                issues.append(
                    RosterIssue(
                        f"schools[{school_index}].classes[{class_index}].id",
                        f"class {record.id} already belongs to {owner}; "
                        "a class cannot move to another school, give it a new id",
                    )
                )
    if issues:
        raise RosterError(issues, schools=owners)


def _diff_keyed(
    wanted: Mapping[K, R],
    stored: Mapping[K, R],
    *,
    key: Callable[[R], Any],
    removable: bool = True,
) -> TableChanges[R]:
    """Rows with a key whose other columns may change (an update)."""
    added = [row for k, row in wanted.items() if k not in stored]
    updated = [row for k, row in wanted.items() if k in stored and stored[k] != row]
    removed = [row for k, row in stored.items() if k not in wanted] if removable else []
    return TableChanges(
        tuple(sorted(added, key=key)),
        tuple(sorted(updated, key=key)),
        tuple(sorted(removed, key=key)),
    )


def _diff_set(
    wanted: frozenset[R], stored: Iterable[R], *, key: Callable[[R], Any]
) -> TableChanges[R]:
    """Rows that are all key: they are only ever added or removed."""
    stored_set = frozenset(stored)
    return TableChanges(
        added=tuple(sorted(wanted - stored_set, key=key)),
        removed=tuple(sorted(stored_set - wanted, key=key)),
    )
