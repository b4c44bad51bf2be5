"""The roster as stored rows, one small value type per table.

A :class:`RosterRows` is a snapshot of some of the roster tables: all of them
(for the directory), the rows around one person (for a profile), or the rows
a roster file is authoritative for (for an import).  Stores read rows into
it; the pure code in :mod:`server.roster.diff` and :mod:`server.roster.views`
works on it, so every store implementation shares one meaning of the data.

The tables are described in ``docs/roster.md`` and created by
``server/store/migrations/0001_roster.sql``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .document import RosterDocument
from .model import OID, ClassId, Person, Role, SchoolId


@dataclass(frozen=True, slots=True)
class SchoolRow:
    """``schools``: a school and its name."""

    id: SchoolId
    name: str


@dataclass(frozen=True, slots=True)
class ClassRow:
    """``classes``: a class, the school it belongs to and its class teacher."""

    id: ClassId
    school_id: SchoolId
    name: str
    class_teacher: OID | None


@dataclass(frozen=True, slots=True)
class StaffRow:
    """``staff``: one staff role (teacher or admin) of a person in a school."""

    school_id: SchoolId
    oid: OID
    role: Role


@dataclass(frozen=True, slots=True)
class MemberRow:
    """``class_members``: a student's class in a school (at most one per school)."""

    school_id: SchoolId
    oid: OID
    class_id: ClassId


@dataclass(frozen=True, slots=True)
class SubjectTeacherRow:
    """``subject_teachers``: a teacher of one subject in one class."""

    class_id: ClassId
    oid: OID
    subject: str


@dataclass(frozen=True, slots=True)
class GuardianRow:
    """``guardians``: ``parent`` is a guardian (legal representative) of ``child``."""

    child: OID
    parent: OID


@dataclass(frozen=True)
class RosterRows:
    """Rows of every roster table, as far as a query reached."""

    people: Mapping[OID, Person] = field(default_factory=dict)
    schools: Mapping[SchoolId, SchoolRow] = field(default_factory=dict)
    classes: Mapping[ClassId, ClassRow] = field(default_factory=dict)
    staff: frozenset[StaffRow] = frozenset()
    members: frozenset[MemberRow] = frozenset()
    subject_teachers: frozenset[SubjectTeacherRow] = frozenset()
    guardians: frozenset[GuardianRow] = frozenset()

    @classmethod
    def from_document(cls, doc: RosterDocument) -> RosterRows:
        """The rows a valid roster file asks for, within its scope."""
        classes: dict[ClassId, ClassRow] = {}
        staff: set[StaffRow] = set()
        members: set[MemberRow] = set()
        subject_teachers: set[SubjectTeacherRow] = set()
        for school in doc.schools:
            for member in school.staff:
                staff.update(StaffRow(school.id, member.oid, role) for role in member.roles)
            for record in school.classes:
                classes[record.id] = ClassRow(
                    record.id, school.id, record.name, record.class_teacher
                )
                members.update(MemberRow(school.id, oid, record.id) for oid in record.students)
                subject_teachers.update(
                    SubjectTeacherRow(record.id, teacher.oid, teacher.subject)
                    for teacher in record.subject_teachers
                )
        return cls(
            people={person.oid: person for person in doc.people},
            schools={school.id: SchoolRow(school.id, school.name) for school in doc.schools},
            classes=classes,
            staff=frozenset(staff),
            members=frozenset(members),
            subject_teachers=frozenset(subject_teachers),
            guardians=frozenset(
                GuardianRow(record.child, parent)
                for record in doc.guardians
                for parent in record.parents
            ),
        )


@dataclass(frozen=True, slots=True)
class RosterScope:
    """What a roster file is authoritative for; a store loads these rows to diff.

    ``people``: the OIDs listed (upserted, never deleted).  ``schools``: their
    name, staff and classes, with the members and teachers of those classes.
    ``class_ids``: the classes named in the file, loaded wherever they are so
    that a class already owned by another school is caught.
    ``guardian_children``: the children whose guardian links the file replaces.
    """

    people: frozenset[OID]
    schools: frozenset[SchoolId]
    class_ids: frozenset[ClassId]
    guardian_children: frozenset[OID]

    @classmethod
    def of(cls, doc: RosterDocument) -> RosterScope:
        students = {
            oid for school in doc.schools for record in school.classes for oid in record.students
        }
        return cls(
            people=frozenset(person.oid for person in doc.people),
            schools=frozenset(school.id for school in doc.schools),
            class_ids=frozenset(record.id for school in doc.schools for record in school.classes),
            guardian_children=frozenset(students | {record.child for record in doc.guardians}),
        )
