"""Whose facts a roster import may change, and which schools each change touches.

An operator's ``zvonok roster import`` is trusted with the whole district.
An upload through the server (``POST /api/v1/admin/roster``) is made by a
school's admin and may change only what belongs to the schools they
administer (docs/roster.md, "Uploads by a school's admin"):

1. **Rows of their schools** (staff, classes, students, subject teachers) may
   be added or changed for people who are already on one of their schools'
   rosters or on no school's roster at all; they may always be removed.
   Putting a person of another school, who is not on theirs, into their
   school is refused: that is how a stranger would reach another school's
   child.
2. **A person's own record** (names, birth date) changes only if the person
   is on no roster but theirs: a person who is also in another school is
   changed only by the operator.
3. **Guardian links** change only for children who study in their schools
   and in no other, before and after the upload; a link is added only for a
   child who studies there after it and removed only for one who studied
   there before it.  The parent may be of another school (a mother who
   teaches elsewhere), but not a student of another school who is not on
   theirs: a guardian link would put that child into their parents' chats.

"On a school's roster" means a student of one of its classes, on its staff,
or a guardian of one of its students: the people that school's rules reach.

The check is pure: the store reads who is where inside the import's write
transaction, diffs the file, asks :func:`check_upload`, and writes only if no
issue was found.  :func:`row_changes` lists every change with the schools it
touches, for the audit rows the store writes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .diff import RosterChanges, TableChanges
from .document import RosterDocument
from .errors import RosterIssue, RosterOutsideSchool
from .model import OID, Person, SchoolId
from .rows import GuardianRow, MemberRow, RosterRows, StaffRow

_NOBODY: frozenset[SchoolId] = frozenset()
_PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date")


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
    """

    studies: Mapping[OID, frozenset[SchoolId]] = field(default_factory=dict)
    roster: Mapping[OID, frozenset[SchoolId]] = field(default_factory=dict)

    def studies_at(self, oid: OID) -> frozenset[SchoolId]:
        return self.studies.get(oid, _NOBODY)

    def roster_of(self, oid: OID) -> frozenset[SchoolId]:
        return self.roster.get(oid, _NOBODY)


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
    and every school the people it names were or are on the roster of."""
    schools = set() if change.school is None else {change.school}
    if change.table == "subject_teachers":
        owner = class_schools.get(change.row["class"])
        if owner is not None:
            schools.add(owner)
    for oid in change.people:
        schools |= before.roster_of(oid) | after.roster_of(oid)
    return frozenset(schools)


def check_upload(
    doc: RosterDocument,
    changes: RosterChanges,
    current: RosterRows,
    before: Presence,
    admin_of: frozenset[SchoolId],
) -> None:
    """Raise :class:`RosterOutsideSchool` unless every change belongs to the
    schools in ``admin_of`` (the module's three rules).

    ``current`` holds the stored rows the file was diffed against; ``before``
    says where the people the changes name are on the roster now.
    """
    paths = _Paths(doc)
    issues: list[RosterIssue] = []
    reached: set[SchoolId] = {school.id for school in doc.schools}
    for index, school in enumerate(doc.schools):
        if school.id not in admin_of:
            issues.append(
                RosterIssue(f"schools[{index}].id", f"you are not an admin of school {school.id}")
            )

    def elsewhere(oid: OID) -> frozenset[SchoolId]:
        return before.roster_of(oid) - admin_of

    def foreign(oid: OID) -> bool:
        """On another school's roster and on none of the uploader's."""
        return bool(elsewhere(oid)) and not before.roster_of(oid) & admin_of

    for person in changes.people.updated:
        others = elsewhere(person.oid)
        if others:
            reached |= others
            stored = current.people[person.oid]
            for name in _changed_fields(stored, person):
                issues.append(
                    RosterIssue(
                        paths.person(person.oid, name),
                        f"person {person.oid} is also on the roster of {_schools(others)}: "
                        "only the operator's roster import changes them",
                    )
                )
    for staff in (*changes.staff.added, *changes.staff.updated):
        if foreign(staff.oid):
            reached |= elsewhere(staff.oid)
            issues.append(_foreign(paths.staff(staff), staff.oid, elsewhere(staff.oid)))
    for member in (*changes.members.added, *changes.members.updated):
        if foreign(member.oid):
            reached |= elsewhere(member.oid)
            issues.append(_foreign(paths.student(member), member.oid, elsewhere(member.oid)))

    after_studies = _studies_after(changes, before)
    links = [(link, True) for link in changes.guardians.added]
    links += [(link, False) for link in changes.guardians.removed]
    for link, added in links:
        was, will = before.studies_at(link.child), after_studies(link.child)
        outside = (was | will) - admin_of
        pupil = before.studies_at(link.parent) - admin_of
        if outside:
            reason = f"child {link.child} also studies at {_schools(outside)}"
        elif added and pupil and foreign(link.parent):
            outside = pupil
            reason = f"parent {link.parent} is a student of {_schools(pupil)}"
        elif added and not will:
            reason = f"child {link.child} would not study at your school"
        elif not added and not was:
            reason = f"child {link.child} did not study at your school"
        else:
            continue
        reached |= outside
        what = "added" if added else "removed"
        issues.append(
            RosterIssue(
                paths.guardian(link, added),
                f"the guardian link of parent {link.parent} would be {what}, but {reason}: "
                "only the operator's roster import changes it",
            )
        )
    if issues:
        raise RosterOutsideSchool(issues, reached)


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


def _foreign(path: str, oid: OID, schools: frozenset[SchoolId]) -> RosterIssue:
    return RosterIssue(
        path,
        f"person {oid} is on the roster of {_schools(schools)} and not of yours: "
        "only the operator's roster import brings them into your school",
    )


def _schools(schools: Iterable[SchoolId]) -> str:
    ordered = sorted(schools)
    return ("school " if len(ordered) == 1 else "schools ") + ", ".join(ordered)


def _changed_fields(before: Person, after: Person) -> list[str]:
    return [name for name in _PERSON_FIELDS if getattr(before, name) != getattr(after, name)]


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, str) else str(value)


def _each(table: TableChanges[Any]) -> Iterable[tuple[str, tuple[Any, ...]]]:
    return (("added", table.added), ("updated", table.updated), ("removed", table.removed))


class _Paths:
    """Where in the file a refused change is written, as validation names it."""

    def __init__(self, doc: RosterDocument) -> None:
        self._people = {person.oid: index for index, person in enumerate(doc.people)}
        self._staff: dict[tuple[SchoolId, OID], str] = {}
        self._students: dict[tuple[SchoolId, OID], str] = {}
        self._schools: dict[SchoolId, int] = {}
        for s, school in enumerate(doc.schools):
            self._schools[school.id] = s
            for m, member in enumerate(school.staff):
                self._staff[(school.id, member.oid)] = f"schools[{s}].staff[{m}]"
            for c, record in enumerate(school.classes):
                for i, oid in enumerate(record.students):
                    self._students[(school.id, oid)] = f"schools[{s}].classes[{c}].students[{i}]"
        self._guardians = {record.child: index for index, record in enumerate(doc.guardians)}
        self._parents = {
            (record.child, parent): f"guardians[{g}].parents[{p}]"
            for g, record in enumerate(doc.guardians)
            for p, parent in enumerate(record.parents)
        }

    def person(self, oid: OID, name: str) -> str:
        return f"people[{self._people[oid]}].{name}"

    def staff(self, row: StaffRow) -> str:
        return f"{self._staff[(row.school_id, row.oid)]}.roles"

    def student(self, row: MemberRow) -> str:
        return self._students[(row.school_id, row.oid)]

    def guardian(self, link: GuardianRow, added: bool) -> str:
        if added:
            return self._parents[(link.child, link.parent)]
        index = self._guardians.get(link.child)
        if index is not None:
            return f"guardians[{index}].parents"
        # No Guardian record: the child is a student of the file's schools, whose
        # guardians the file replaces with none.
        for (_school, oid), path in self._students.items():
            if oid == link.child:
                return path
        return "guardians"
