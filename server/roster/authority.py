"""Whose facts a roster import may change, and which schools each change touches.

An operator's ``zvonok roster import`` is trusted with the whole district.
An upload through the server (``POST /api/v1/admin/roster``) is made by a
school's admin and may change only what belongs to the schools she
administers (docs/roster.md, "Uploads by a school's admin").  Authority comes
from presence, never from absence: a person is *on* a school's roster as a
student of one of its classes, on its staff, or a guardian of one of its
students; a person *belongs* to those schools and, if they have guardians,
to every school their guardians are on the roster of (a child who left a
school still belongs to it while her family is there).  Then:

1. **The file names only her schools.**
2. **She brings into her school only her people**: a staff row, a class
   membership or a guardian link naming a person as parent is added only for
   a new person (the file creates the record) or one already on her schools'
   roster.  Nobody becomes hers by being nobody's: a person on no roster is
   placed by the operator.  Removing her schools' rows is always allowed.
3. **A person's record** (names, birth date) is read from the file only if
   the person is new, or on her roster and belonging to no other school.
   The file's record of anyone else she may list (a person of her school
   whom another school shares, or a person on no roster at all) is *kept*:
   not compared, not written, and reported the same whether or not it
   matches.  Listing a person who belongs to another school and is not on
   hers refuses the file, whatever it says of them.
4. **A child's guardian links** are read from the file only for a new child
   or a child whose record is hers (rule 3) who studies at her school; links
   are added only to a child who studies there after the upload, and only
   to parents rule 2 lets in.  Other children's links are kept.

Refusals name the record and the field by what the file sent (its place,
the OID written there), never a stored value, and do not depend on whether
the file's values equal the stored ones: a refusal confirms nothing.

The check is pure: the store reads who is where inside the import's write
transaction, diffs the file, asks :func:`decide_upload` for the changes it
may write, and writes only those.  :func:`row_changes` lists every change
with the schools it touches, for the audit rows written in the same
transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .diff import RosterChanges, TableChanges
from .document import RosterDocument
from .errors import RosterIssue, RosterOutsideSchool
from .model import OID, Person, SchoolId
from .rows import GuardianRow, MemberRow, RosterRows, RosterScope, StaffRow

_NOBODY: frozenset[SchoolId] = frozenset()
_PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date")
_OPERATOR = "only the operator's roster import"


@dataclass(frozen=True, slots=True)
class Importer:
    """Who imports a roster file, for the rules and the audit rows.

    ``actor`` is the audit rows' actor: the admin's OID, or 0 for the
    operator.  ``admin``: an upload by a school's admin, held to the rules of
    this module; the operator's import is not.
    """

    actor: int
    admin: bool


OPERATOR = Importer(actor=0, admin=False)
"""``zvonok roster import``: the whole district, audited as actor 0."""


def school_admin(oid: int) -> Importer:
    """An upload through the server by the admin ``oid``."""
    return Importer(actor=oid, admin=True)


@dataclass(frozen=True, slots=True)
class Presence:
    """Where people are on the roster, as far as a query reached.

    ``studies``: the schools a person is a student of.  ``roster``: the
    schools whose roster they are on (student, staff, guardian of a student).
    ``family``: the schools whose roster their guardians are on.
    """

    studies: Mapping[OID, frozenset[SchoolId]] = field(default_factory=dict)
    roster: Mapping[OID, frozenset[SchoolId]] = field(default_factory=dict)
    family: Mapping[OID, frozenset[SchoolId]] = field(default_factory=dict)

    def studies_at(self, oid: OID) -> frozenset[SchoolId]:
        return self.studies.get(oid, _NOBODY)

    def roster_of(self, oid: OID) -> frozenset[SchoolId]:
        return self.roster.get(oid, _NOBODY)

    def schools_of(self, oid: OID) -> frozenset[SchoolId]:
        """The schools a person belongs to: theirs and their guardians'."""
        return self.roster.get(oid, _NOBODY) | self.family.get(oid, _NOBODY)


@dataclass(frozen=True, slots=True)
class RowChange:
    """One row an import adds, updates or removes, and whom it concerns."""

    table: str
    change: str  # "added", "updated" or "removed"
    row: dict[str, Any]
    school: SchoolId | None  # the school the row belongs to, if any
    people: tuple[OID, ...]  # the people the row names

    def details(self) -> dict[str, Any]:
        return {"table": self.table, "change": self.change, "row": self.row}


@dataclass(frozen=True, slots=True)
class Upload:
    """What an admin's upload may write: ``changes``, the file's changes
    without what is kept; ``kept``, where the file says what is not read
    (``people[3]: ...``), in file order."""

    changes: RosterChanges
    kept: tuple[str, ...] = ()


def people_named(changes: RosterChanges) -> frozenset[OID]:
    """Everyone a change names: whose presence the check and the audit need."""
    return frozenset(oid for change in row_changes(changes, {}) for oid in change.people)


def row_changes(changes: RosterChanges, stored: Mapping[OID, Person]) -> list[RowChange]:
    """Every row ``changes`` writes, in table order.  ``stored`` holds the
    stored records of updated people, so an update says what it changed."""
    found: list[RowChange] = []
    for person in changes.people.added:
        found.append(RowChange("people", "added", {"oid": person.oid}, None, (person.oid,)))
    for person in changes.people.updated:
        before = stored.get(person.oid)
        row: dict[str, Any] = {"oid": person.oid}
        if before is not None:
            row["fields"] = {
                name: [_plain(getattr(before, name)), _plain(getattr(person, name))]
                for name in _changed_fields(before, person)
            }
        found.append(RowChange("people", "updated", row, None, (person.oid,)))
    for kind, school_rows in _each(changes.schools):
        for school in school_rows:
            found.append(
                RowChange("schools", kind, {"id": school.id, "name": school.name}, school.id, ())
            )
    for kind, class_rows in _each(changes.classes):
        for record in class_rows:
            teacher = () if record.class_teacher is None else (record.class_teacher,)
            row = {"id": record.id, "name": record.name, "class_teacher": record.class_teacher}
            found.append(RowChange("classes", kind, row, record.school_id, teacher))
    for kind, staff_rows in _each(changes.staff):
        for staff in staff_rows:
            row = {"oid": staff.oid, "role": staff.role.value}
            found.append(RowChange("staff", kind, row, staff.school_id, (staff.oid,)))
    for kind, member_rows in _each(changes.members):
        for member in member_rows:
            row = {"oid": member.oid, "class": member.class_id}
            found.append(RowChange("class_members", kind, row, member.school_id, (member.oid,)))
    for kind, teacher_rows in _each(changes.subject_teachers):
        for teacher in teacher_rows:
            row = {"oid": teacher.oid, "class": teacher.class_id, "subject": teacher.subject}
            found.append(RowChange("subject_teachers", kind, row, None, (teacher.oid,)))
    for kind, guardian_rows in _each(changes.guardians):
        for link in guardian_rows:
            row = {"child": link.child, "parent": link.parent}
            found.append(RowChange("guardians", kind, row, None, (link.child, link.parent)))
    return found


def touched_schools(
    change: RowChange,
    before: Presence,
    after: Presence,
    class_schools: Mapping[str, SchoolId],
) -> frozenset[SchoolId]:
    """The schools whose admins are told of ``change``: the row's own school
    and every school the people it names belonged to or belong to (their
    guardians' schools included)."""
    schools = set() if change.school is None else {change.school}
    if change.table == "subject_teachers":
        owner = class_schools.get(change.row["class"])
        if owner is not None:
            schools.add(owner)
    for oid in change.people:
        schools |= before.schools_of(oid) | after.schools_of(oid)
    return frozenset(schools)


def decide_upload(
    doc: RosterDocument,
    changes: RosterChanges,
    current: RosterRows,
    before: Presence,
    admin_of: frozenset[SchoolId],
) -> Upload:
    """The changes an upload by an admin of ``admin_of`` may write, and what
    of the file is kept; :class:`RosterOutsideSchool` if it reaches for
    anything else (the module's four rules).

    ``current`` holds the stored rows the file was diffed against (every
    stored person the file lists among them); ``before`` says where the
    people the file and the changes name are on the roster now.
    """
    rules = _Rules(current, before, admin_of)
    paths = _Paths(doc)
    found = _Found()

    for index, school in enumerate(doc.schools):  # rule 1
        if school.id not in admin_of:
            found.refuse(f"schools[{index}].id", f"you are not an admin of school {school.id}")
            found.reached.add(school.id)

    kept_people: set[OID] = set()
    for index, person in enumerate(doc.people):  # rule 3
        oid = person.oid
        if rules.stranger(oid):
            found.refuse(
                f"people[{index}]",
                f"person {oid} belongs to another school's roster, not yours: "
                f"{_OPERATOR} changes them or brings them into your school",
            )
            found.reached |= before.schools_of(oid)
        elif not rules.record_mine(oid):
            kept_people.add(oid)
            found.keep(
                f"people[{index}]",
                f"person {oid} is not yours alone: their record is kept as stored "
                f"({_OPERATOR} changes it)",
            )

    placed: list[tuple[OID, str]] = [(row.oid, paths.staff(row)) for row in changes.staff.added]
    placed += [
        (row.oid, paths.student(row)) for row in (*changes.members.added, *changes.members.updated)
    ]
    for oid, path in placed:  # rule 2
        if not rules.may_bring_in(oid):
            found.refuse(path, _not_yours(oid, "brings them into your school"))
            found.reached |= before.schools_of(oid)

    kept_children: set[OID] = set()
    studies_after = _studies_after(changes, before)
    for child in sorted(RosterScope.of(doc).guardian_children):  # rule 4
        record = paths.guardian_record(child)
        if rules.stranger(child):
            if record is not None:
                found.refuse(
                    f"{record}.child",
                    f"the guardians of person {child} are not your school's to change: "
                    f"{_OPERATOR} changes them",
                )
            continue
        if not rules.links_mine(child):
            kept_children.add(child)
            found.keep(
                record or paths.any_student(child),
                f"the guardians of person {child} are kept as stored: they are not "
                f"your school's alone to change ({_OPERATOR} changes them)",
            )
    for link in changes.guardians.added:
        if link.child in kept_children or rules.stranger(link.child):
            continue
        path = paths.parent(link)
        if not studies_after(link.child):
            found.refuse(
                path,
                f"child {link.child} would not study at your school: "
                "a guardian is added only to a child of your school",
            )
        if not rules.may_bring_in(link.parent):
            found.refuse(path, _not_yours(link.parent, "makes them a parent here"))
            found.reached |= before.schools_of(link.parent)

    if found.issues:
        raise RosterOutsideSchool(found.sorted_issues(), found.reached)
    allowed = replace(
        changes,
        people=_without(changes.people, lambda person: person.oid in kept_people),
        guardians=_without(changes.guardians, lambda link: link.child in kept_children),
    )
    return Upload(allowed, found.sorted_kept())


@dataclass(frozen=True, slots=True)
class _Rules:
    """The module's rules for one uploader, over the stored rows and presence."""

    current: RosterRows
    before: Presence
    mine: frozenset[SchoolId]

    def stored(self, oid: OID) -> bool:
        return oid in self.current.people

    def on_mine(self, oid: OID) -> bool:
        return bool(self.before.roster_of(oid) & self.mine)

    def elsewhere(self, oid: OID) -> bool:
        return bool(self.before.schools_of(oid) - self.mine)

    def stranger(self, oid: OID) -> bool:
        """Stored, belonging to another school, and not on hers."""
        return self.stored(oid) and not self.on_mine(oid) and self.elsewhere(oid)

    def may_bring_in(self, oid: OID) -> bool:
        """New, or already on her roster (rule 2)."""
        return not self.stored(oid) or self.on_mine(oid)

    def record_mine(self, oid: OID) -> bool:
        """New, or on her roster and belonging to no other school (rule 3)."""
        return not self.stored(oid) or (self.on_mine(oid) and not self.elsewhere(oid))

    def links_mine(self, child: OID) -> bool:
        """New, or hers (rule 3) and studying at her school (rule 4)."""
        return not self.stored(child) or (
            self.record_mine(child) and bool(self.before.studies_at(child))
        )


class _Found:
    """Issues, kept notes and the schools reached, each said once."""

    def __init__(self) -> None:
        self.issues: dict[RosterIssue, None] = {}
        self.kept: dict[RosterIssue, None] = {}
        self.reached: set[SchoolId] = set()

    def refuse(self, path: str, message: str) -> None:
        self.issues[RosterIssue(path, message)] = None

    def keep(self, path: str, message: str) -> None:
        self.kept[RosterIssue(path, message)] = None

    def sorted_issues(self) -> list[RosterIssue]:
        return sorted(self.issues, key=lambda issue: _file_order(issue.path))

    def sorted_kept(self) -> tuple[str, ...]:
        return tuple(str(note) for note in sorted(self.kept, key=lambda n: _file_order(n.path)))


# The order fields are written in a file, so issues can be listed that way.
_FIELD_ORDER = {
    name: rank
    for rank, name in enumerate(
        [
            "people",
            "schools",
            "guardians",
            "oid",
            "id",
            "name",
            "staff",
            "roles",
            "classes",
            "class_teacher",
            "subject_teachers",
            "students",
            "child",
            "parents",
        ]
    )
}
_TOKEN = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


def _file_order(path: str) -> tuple[tuple[int, int, str], ...]:
    """Sorts paths in the order their records are written in the file."""
    return tuple(
        (0, _FIELD_ORDER.get(name, len(_FIELD_ORDER)), name) if name else (1, int(index), "")
        for name, index in _TOKEN.findall(path)
    )


def _not_yours(oid: OID, what: str) -> str:
    return f"person {oid} is not on your school's roster: {_OPERATOR} {what}"


def _without(table: TableChanges[Any], kept: Callable[[Any], bool]) -> TableChanges[Any]:
    return TableChanges(
        tuple(row for row in table.added if not kept(row)),
        tuple(row for row in table.updated if not kept(row)),
        tuple(row for row in table.removed if not kept(row)),
    )


def _studies_after(
    changes: RosterChanges, before: Presence
) -> Callable[[OID], frozenset[SchoolId]]:
    """Where a child studies once ``changes`` are written (other schools'
    memberships are never in an import's changes unless it names them)."""
    gained: dict[OID, set[SchoolId]] = {}
    lost: dict[OID, set[SchoolId]] = {}
    for member in changes.members.added:
        gained.setdefault(member.oid, set()).add(member.school_id)
    for member in changes.members.removed:
        lost.setdefault(member.oid, set()).add(member.school_id)

    def studies(oid: OID) -> frozenset[SchoolId]:
        now = (before.studies_at(oid) - lost.get(oid, set())) | gained.get(oid, set())
        return frozenset(now)

    return studies


def _changed_fields(before: Person, after: Person) -> list[str]:
    return [name for name in _PERSON_FIELDS if getattr(before, name) != getattr(after, name)]


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, str) else str(value)


def _each(table: TableChanges[Any]) -> Iterable[tuple[str, tuple[Any, ...]]]:
    return (("added", table.added), ("updated", table.updated), ("removed", table.removed))


class _Paths:
    """Where in the file a record is written, as validation names it."""

    def __init__(self, doc: RosterDocument) -> None:
        self._staff: dict[tuple[SchoolId, OID], str] = {}
        self._students: dict[tuple[SchoolId, OID], str] = {}
        for s, school in enumerate(doc.schools):
            for m, member in enumerate(school.staff):
                self._staff[(school.id, member.oid)] = f"schools[{s}].staff[{m}]"
            for c, record in enumerate(school.classes):
                for i, oid in enumerate(record.students):
                    self._students[(school.id, oid)] = f"schools[{s}].classes[{c}].students[{i}]"
        self._guardians = {
            record.child: f"guardians[{g}]" for g, record in enumerate(doc.guardians)
        }
        self._parents = {
            (record.child, parent): f"guardians[{g}].parents[{p}]"
            for g, record in enumerate(doc.guardians)
            for p, parent in enumerate(record.parents)
        }

    def staff(self, row: StaffRow) -> str:
        return f"{self._staff[(row.school_id, row.oid)]}.roles"

    def student(self, row: MemberRow) -> str:
        return self._students[(row.school_id, row.oid)]

    def any_student(self, oid: OID) -> str:
        return min(
            (path for (_school, student), path in self._students.items() if student == oid),
            key=_file_order,
        )

    def guardian_record(self, child: OID) -> str | None:
        return self._guardians.get(child)

    def parent(self, link: GuardianRow) -> str:
        return self._parents[(link.child, link.parent)]
