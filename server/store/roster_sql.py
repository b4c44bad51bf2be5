"""Reading and writing the roster tables, in portable SQL.

Every function takes a :class:`~server.store.sql.SqlConnection` already in a
transaction, so a store decides where transactions begin and end.  Reads
return :class:`~server.roster.rows.RosterRows` snapshots; what they mean
(profiles, the directory, the changes an import makes) is worked out by the
pure code in :mod:`server.roster`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from server.roster.authority import Presence
from server.roster.diff import RosterChanges
from server.roster.model import OID, ClassId, Person, Role, SchoolId
from server.roster.rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    RosterScope,
    SchoolRow,
    StaffRow,
    SubjectTeacherRow,
)

from .sql import SqlConnection, fetch_in

# Column lists, in the order the row decoders below expect.
_PEOPLE = "SELECT oid, last_name, first_name, middle_name, birth_date FROM people"
_SCHOOLS = "SELECT id, name FROM schools"
_STAFF = "SELECT school_id, person_oid, role FROM staff"
_CLASSES = "SELECT id, school_id, name, class_teacher_oid FROM classes"
_MEMBERS = "SELECT school_id, person_oid, class_id FROM class_members"
_SUBJECT_TEACHERS = "SELECT class_id, person_oid, subject FROM subject_teachers"
_GUARDIANS = "SELECT child_oid, parent_oid FROM guardians"


# --------------------------------------------------------------------------
# Row decoding
# --------------------------------------------------------------------------


def person_from_row(row: tuple[Any, ...]) -> Person:
    oid, last_name, first_name, middle_name, birth_date = row
    return Person(
        OID(int(oid)),
        last_name,
        first_name,
        middle_name,
        datetime.date.fromisoformat(birth_date),
    )


def _people(rows: Iterable[tuple[Any, ...]]) -> dict[OID, Person]:
    return {person.oid: person for person in map(person_from_row, rows)}


def _schools(rows: Iterable[tuple[Any, ...]]) -> dict[SchoolId, SchoolRow]:
    return {SchoolId(sid): SchoolRow(SchoolId(sid), name) for sid, name in rows}


def _classes(rows: Iterable[tuple[Any, ...]]) -> dict[ClassId, ClassRow]:
    return {
        ClassId(cid): ClassRow(
            ClassId(cid), SchoolId(sid), name, None if teacher is None else OID(int(teacher))
        )
        for cid, sid, name, teacher in rows
    }


def _staff(rows: Iterable[tuple[Any, ...]]) -> frozenset[StaffRow]:
    return frozenset(StaffRow(SchoolId(sid), OID(int(oid)), Role(role)) for sid, oid, role in rows)


def _members(rows: Iterable[tuple[Any, ...]]) -> frozenset[MemberRow]:
    return frozenset(
        MemberRow(SchoolId(sid), OID(int(oid)), ClassId(cid)) for sid, oid, cid in rows
    )


def _subject_teachers(rows: Iterable[tuple[Any, ...]]) -> frozenset[SubjectTeacherRow]:
    return frozenset(
        SubjectTeacherRow(ClassId(cid), OID(int(oid)), subject) for cid, oid, subject in rows
    )


def _guardians(rows: Iterable[tuple[Any, ...]]) -> frozenset[GuardianRow]:
    return frozenset(GuardianRow(OID(int(child)), OID(int(parent))) for child, parent in rows)


# --------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------


async def has_roster(db: SqlConnection) -> bool:
    rows = await db.fetchall(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM people) OR EXISTS (SELECT 1 FROM schools)"
    )
    return bool(rows)


async def load_person(db: SqlConnection, oid: OID) -> Person | None:
    rows = await db.fetchall(f"{_PEOPLE} WHERE oid = ?", (oid,))
    return person_from_row(rows[0]) if rows else None


async def load_all(db: SqlConnection) -> RosterRows:
    """Every row of every roster table."""
    return RosterRows(
        people=_people(await db.fetchall(_PEOPLE)),
        schools=_schools(await db.fetchall(_SCHOOLS)),
        classes=_classes(await db.fetchall(_CLASSES)),
        staff=_staff(await db.fetchall(_STAFF)),
        members=_members(await db.fetchall(_MEMBERS)),
        subject_teachers=_subject_teachers(await db.fetchall(_SUBJECT_TEACHERS)),
        guardians=_guardians(await db.fetchall(_GUARDIANS)),
    )


async def load_around(db: SqlConnection, oid: OID) -> RosterRows:
    """The rows a profile of ``oid`` is built from.

    The person and their children; their staff rows; the class memberships of
    both; the classes they teach or study in (theirs and their children's);
    and the schools of all of these.
    """
    person = await db.fetchall(f"{_PEOPLE} WHERE oid = ?", (oid,))
    if not person:
        return RosterRows()
    guardians = _guardians(await db.fetchall(f"{_GUARDIANS} WHERE parent_oid = ?", (oid,)))
    around = {oid} | {row.child for row in guardians}
    people = _people([*person, *await fetch_in(db, f"{_PEOPLE} WHERE oid IN ({{}})", around)])
    staff = _staff(await db.fetchall(f"{_STAFF} WHERE person_oid = ?", (oid,)))
    members = _members(await fetch_in(db, f"{_MEMBERS} WHERE person_oid IN ({{}})", around))
    subject_teachers = _subject_teachers(
        await db.fetchall(f"{_SUBJECT_TEACHERS} WHERE person_oid = ?", (oid,))
    )
    classes = _classes(await db.fetchall(f"{_CLASSES} WHERE class_teacher_oid = ?", (oid,)))
    class_ids = {row.class_id for row in members} | {row.class_id for row in subject_teachers}
    classes.update(
        _classes(await fetch_in(db, f"{_CLASSES} WHERE id IN ({{}})", class_ids - set(classes)))
    )
    school_ids = {row.school_id for row in staff} | {row.school_id for row in classes.values()}
    schools = _schools(await fetch_in(db, f"{_SCHOOLS} WHERE id IN ({{}})", school_ids))
    return RosterRows(
        people=people,
        schools=schools,
        classes=classes,
        staff=staff,
        members=members,
        subject_teachers=subject_teachers,
        guardians=guardians,
    )


async def load_scope(db: SqlConnection, scope: RosterScope) -> RosterRows:
    """The stored rows a roster file with this scope is compared with."""
    schools = scope.schools
    classes = _classes(await fetch_in(db, f"{_CLASSES} WHERE school_id IN ({{}})", schools))
    classes.update(
        _classes(
            await fetch_in(db, f"{_CLASSES} WHERE id IN ({{}})", scope.class_ids - set(classes))
        )
    )
    # Only constants and, via fetch_in, placeholders are formatted in: no values.
    subject_teachers_sql = (
        f"{_SUBJECT_TEACHERS} WHERE class_id IN (SELECT id FROM classes WHERE school_id IN ({{}}))"  # noqa: S608
    )
    return RosterRows(
        people=_people(await fetch_in(db, f"{_PEOPLE} WHERE oid IN ({{}})", scope.people)),
        schools=_schools(await fetch_in(db, f"{_SCHOOLS} WHERE id IN ({{}})", schools)),
        classes=classes,
        staff=_staff(await fetch_in(db, f"{_STAFF} WHERE school_id IN ({{}})", schools)),
        members=_members(await fetch_in(db, f"{_MEMBERS} WHERE school_id IN ({{}})", schools)),
        subject_teachers=_subject_teachers(await fetch_in(db, subject_teachers_sql, schools)),
        guardians=_guardians(
            await fetch_in(db, f"{_GUARDIANS} WHERE child_oid IN ({{}})", scope.guardian_children)
        ),
    )


async def load_presence(db: SqlConnection, oids: Iterable[OID]) -> Presence:
    """Where ``oids`` are on the roster: the schools they study at, the
    schools whose roster they are on (student, staff, guardian of a student),
    and the schools whose roster their guardians are on."""
    wanted = sorted(set(oids))
    guardians = [
        (OID(int(child)), OID(int(parent)))
        for child, parent in await fetch_in(db, f"{_GUARDIANS} WHERE child_oid IN ({{}})", wanted)
    ]
    studies, roster = await _roster_of(db, {*wanted, *(parent for _, parent in guardians)})
    family: dict[OID, set[SchoolId]] = {}
    for child, parent in guardians:
        family.setdefault(child, set()).update(roster.get(parent, ()))
    return Presence(
        studies={oid: frozenset(studies[oid]) for oid in wanted if oid in studies},
        roster={oid: frozenset(roster[oid]) for oid in wanted if oid in roster},
        family={oid: frozenset(schools) for oid, schools in family.items() if schools},
    )


async def _roster_of(
    db: SqlConnection, oids: Iterable[OID]
) -> tuple[dict[OID, set[SchoolId]], dict[OID, set[SchoolId]]]:
    """The schools ``oids`` study at, and whose roster they are on."""
    wanted = sorted(set(oids))
    studies: dict[OID, set[SchoolId]] = {}
    roster: dict[OID, set[SchoolId]] = {}
    for oid, school in await fetch_in(
        db, "SELECT person_oid, school_id FROM class_members WHERE person_oid IN ({})", wanted
    ):
        studies.setdefault(OID(int(oid)), set()).add(SchoolId(school))
        roster.setdefault(OID(int(oid)), set()).add(SchoolId(school))
    for oid, school in [
        *await fetch_in(
            db, "SELECT person_oid, school_id FROM staff WHERE person_oid IN ({})", wanted
        ),
        *await fetch_in(
            db,
            "SELECT g.parent_oid, m.school_id FROM guardians g "
            "JOIN class_members m ON m.person_oid = g.child_oid WHERE g.parent_oid IN ({})",
            wanted,
        ),
    ]:
        roster.setdefault(OID(int(oid)), set()).add(SchoolId(school))
    return studies, roster


async def existing_schools(db: SqlConnection, ids: Iterable[str]) -> frozenset[SchoolId]:
    """Those of ``ids`` that are stored schools."""
    rows = await fetch_in(db, "SELECT id FROM schools WHERE id IN ({})", sorted(set(ids)))
    return frozenset(SchoolId(school) for (school,) in rows)


async def admin_schools(db: SqlConnection, oid: int) -> frozenset[SchoolId]:
    """The schools ``oid`` is an admin of, as stored now."""
    rows = await db.fetchall(
        "SELECT school_id FROM staff WHERE person_oid = ? AND role = ?", (oid, Role.ADMIN.value)
    )
    return frozenset(SchoolId(school) for (school,) in rows)


# --------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------


async def apply_changes(db: SqlConnection, changes: RosterChanges) -> None:
    """Write ``changes`` in an order the foreign keys accept at every step.

    Referenced rows (people, schools, classes) come first; rows that go away
    are removed before the rows that replace them are added; classes are
    removed last, when nothing refers to them any more.
    """
    people = changes.people
    await db.executemany(
        "INSERT INTO people (oid, last_name, first_name, middle_name, birth_date) "
        "VALUES (?, ?, ?, ?, ?)",
        [_person_values(p) for p in people.added],
    )
    await db.executemany(
        "UPDATE people SET last_name = ?, first_name = ?, middle_name = ?, birth_date = ? "
        "WHERE oid = ?",
        [(*_person_values(p)[1:], p.oid) for p in people.updated],
    )
    await db.executemany(
        "INSERT INTO schools (id, name) VALUES (?, ?)",
        [(row.id, row.name) for row in changes.schools.added],
    )
    await db.executemany(
        "UPDATE schools SET name = ? WHERE id = ?",
        [(row.name, row.id) for row in changes.schools.updated],
    )
    await db.executemany(
        "INSERT INTO classes (id, school_id, name, class_teacher_oid) VALUES (?, ?, ?, ?)",
        [(row.id, row.school_id, row.name, row.class_teacher) for row in changes.classes.added],
    )
    await db.executemany(
        "UPDATE classes SET name = ?, class_teacher_oid = ? WHERE id = ?",
        [(row.name, row.class_teacher, row.id) for row in changes.classes.updated],
    )

    await db.executemany(
        "DELETE FROM subject_teachers WHERE class_id = ? AND person_oid = ? AND subject = ?",
        [(row.class_id, row.oid, row.subject) for row in changes.subject_teachers.removed],
    )
    await db.executemany(
        "DELETE FROM class_members WHERE school_id = ? AND person_oid = ?",
        [(row.school_id, row.oid) for row in changes.members.removed],
    )
    await db.executemany(
        "DELETE FROM guardians WHERE child_oid = ? AND parent_oid = ?",
        [(row.child, row.parent) for row in changes.guardians.removed],
    )
    await db.executemany(
        "DELETE FROM staff WHERE school_id = ? AND person_oid = ? AND role = ?",
        [(row.school_id, row.oid, row.role.value) for row in changes.staff.removed],
    )

    await db.executemany(
        "UPDATE class_members SET class_id = ? WHERE school_id = ? AND person_oid = ?",
        [(row.class_id, row.school_id, row.oid) for row in changes.members.updated],
    )
    await db.executemany(
        "INSERT INTO class_members (school_id, person_oid, class_id) VALUES (?, ?, ?)",
        [(row.school_id, row.oid, row.class_id) for row in changes.members.added],
    )
    await db.executemany(
        "INSERT INTO subject_teachers (class_id, person_oid, subject) VALUES (?, ?, ?)",
        [(row.class_id, row.oid, row.subject) for row in changes.subject_teachers.added],
    )
    await db.executemany(
        "INSERT INTO staff (school_id, person_oid, role) VALUES (?, ?, ?)",
        [(row.school_id, row.oid, row.role.value) for row in changes.staff.added],
    )
    await db.executemany(
        "INSERT INTO guardians (child_oid, parent_oid) VALUES (?, ?)",
        [(row.child, row.parent) for row in changes.guardians.added],
    )

    await db.executemany(
        "DELETE FROM classes WHERE id = ?", [(row.id,) for row in changes.classes.removed]
    )


def _person_values(person: Person) -> tuple[int, str, str, str | None, str]:
    return (
        person.oid,
        person.last_name,
        person.first_name,
        person.middle_name,
        person.birth_date.isoformat(),
    )
