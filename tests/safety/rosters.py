"""Small but rich school rosters for the safety tests, as :class:`RosterRows`.

:func:`rosters` is a hypothesis strategy.  Besides random staff, classes and
guardians it sometimes plants the cases the rules are easy to get wrong on:

* twins in one class with a parent who may also teach at a school (and
  sometimes their very class);
* a person who is a student in one school and on the staff of another;
* an admin who has no other role;
* a parent of children in two different schools (or two classes);
* a guardian of a child who is in no class (so no ``parent`` role), where the
  child or the guardian may be on some school's staff;
* an outsider with no row but their ``people`` row.

Every roster is valid: :func:`to_document` turns it back into a roster file
that :func:`server.roster.document.parse_roster` accepts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from server.roster.model import OID, ClassId, Person, Role, SchoolId
from server.roster.rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    SchoolRow,
    StaffRow,
    SubjectTeacherRow,
)

TODAY = datetime.date(2025, 9, 1)
"""The fixed "today" of every test that needs one (ages, oversight)."""

MAX_PEOPLE = 25
MIN_PEOPLE = 5
SUBJECTS = ("Математика", "Русский язык", "История")
OWN_CHILDS_SUBJECT = "Физкультура"
STAFF_ROLE_SETS: tuple[tuple[Role, ...], ...] = (
    (Role.TEACHER,),
    (Role.ADMIN,),
    (Role.TEACHER, Role.ADMIN),
)


def born(age: int, days_before: int = 0) -> datetime.date:
    """A birth date ``days_before`` days before the ``age``-th birthday that
    falls on :data:`TODAY` (negative: the birthday is still to come, so the
    person is a year younger)."""
    anniversary = TODAY.replace(year=TODAY.year - age)
    return anniversary - datetime.timedelta(days=days_before)


def person(oid: int, birth_date: datetime.date) -> Person:
    return Person(OID(oid), f"Фамилия{oid}", f"Имя{oid}", None, birth_date)


# Ages are drawn by band (young child, teenager, adult) plus the oversight
# threshold, and a birthday anywhere in the year, or in the next few days.
_AGES = st.one_of(
    st.integers(6, 13), st.integers(14, 17), st.integers(18, 65), st.sampled_from([13, 14, 15])
)
_BIRTHS = st.builds(born, _AGES, st.integers(-3, 364))
_CHILD_BIRTHS = st.builds(born, st.integers(6, 16), st.integers(-3, 364))
_ADULT_BIRTHS = st.builds(born, st.integers(30, 55), st.integers(0, 364))


@dataclass
class _Draft:
    """A roster under construction, keyed the way validity is easiest to keep."""

    births: dict[OID, datetime.date] = field(default_factory=dict)
    staff: defaultdict[tuple[SchoolId, OID], set[Role]] = field(
        default_factory=lambda: defaultdict(set)
    )
    member: dict[tuple[SchoolId, OID], ClassId] = field(default_factory=dict)
    guardians: set[GuardianRow] = field(default_factory=set)
    subject_teachers: set[SubjectTeacherRow] = field(default_factory=set)

    def add(self, birth_date: datetime.date) -> OID:
        oid = OID(1000 + len(self.births))
        self.births[oid] = birth_date
        return oid

    def enrol(self, oid: OID, class_id: ClassId, school_id: SchoolId) -> None:
        """A student in at most one class per school: the first one stays."""
        self.member.setdefault((school_id, oid), class_id)

    def guard(self, child: OID, parent: OID) -> None:
        if parent != child and self.births[parent] < self.births[child]:
            self.guardians.add(GuardianRow(child, parent))


@st.composite
def rosters(draw: st.DrawFn) -> RosterRows:
    """A valid roster: 1-3 schools of 1-3 classes, 5-25 people."""
    school_ids = [SchoolId(f"s{index}") for index in range(draw(st.integers(1, 3)))]
    classes = {
        school: [ClassId(f"{school}-c{index}") for index in range(draw(st.integers(1, 3)))]
        for school in school_ids
    }
    school_of = {class_id: school for school, ids in classes.items() for class_id in ids}
    all_classes = sorted(school_of)
    draft = _Draft()

    # The planted cases, each with the number of people it needs.
    plants = {
        "twins": 3,
        "student_and_staff": 1,
        "admin_only": 1,
        "two_schools_parent": 3,
        "guardian_of_child_in_no_class": 2,
        "outsider": 1,
    }
    planted = [name for name in plants if draw(st.booleans())]
    reserved = sum(plants[name] for name in planted)
    count = draw(st.integers(max(1, MIN_PEOPLE - reserved), MAX_PEOPLE - reserved))

    # Random people: staff roles, classes and guardians drawn freely among them.
    randoms = [draft.add(draw(_BIRTHS)) for _ in range(count)]
    for school in school_ids:
        for oid, roles in draw(
            st.lists(
                st.tuples(st.sampled_from(randoms), st.sampled_from(STAFF_ROLE_SETS)), max_size=4
            )
        ):
            draft.staff[(school, oid)].update(roles)
    for oid in randoms:
        for class_id in draw(st.lists(st.sampled_from(all_classes), max_size=2, unique=True)):
            draft.enrol(oid, class_id, school_of[class_id])
    for child in randoms:
        older = [oid for oid in randoms if draft.births[oid] < draft.births[child]]
        if older:
            for parent in draw(st.lists(st.sampled_from(older), max_size=2, unique=True)):
                draft.guard(child, parent)

    if "twins" in planted:
        parent = draft.add(draw(_ADULT_BIRTHS))
        birth = draw(_CHILD_BIRTHS)
        class_id = draw(st.sampled_from(all_classes))
        for _ in range(2):
            twin = draft.add(birth)
            draft.enrol(twin, class_id, school_of[class_id])
            draft.guard(twin, parent)
        teaches_at = draw(st.sampled_from([None, *school_ids]))
        if teaches_at is not None:  # a teacher who is also a parent
            draft.staff[(teaches_at, parent)].add(Role.TEACHER)
            if teaches_at == school_of[class_id] and draw(st.booleans()):  # their twins' class
                draft.subject_teachers.add(SubjectTeacherRow(class_id, parent, OWN_CHILDS_SUBJECT))
    if "student_and_staff" in planted:
        oid = draft.add(draw(st.builds(born, st.integers(15, 30), st.integers(0, 364))))
        class_id = draw(st.sampled_from(all_classes))
        draft.enrol(oid, class_id, school_of[class_id])
        others = [school for school in school_ids if school != school_of[class_id]]
        staff_at = draw(st.sampled_from(others)) if others else school_of[class_id]
        draft.staff[(staff_at, oid)].update(draw(st.sampled_from(STAFF_ROLE_SETS)))
    if "admin_only" in planted:
        oid = draft.add(draw(_ADULT_BIRTHS))
        draft.staff[(draw(st.sampled_from(school_ids)), oid)].add(Role.ADMIN)
    if "two_schools_parent" in planted:
        parent = draft.add(draw(_ADULT_BIRTHS))
        first = draw(st.sampled_from(all_classes))
        elsewhere = [c for c in all_classes if school_of[c] != school_of[first]]
        other_class = [c for c in all_classes if c != first]
        second = draw(st.sampled_from(elsewhere or other_class or [first]))
        for class_id in (first, second):
            child = draft.add(draw(_CHILD_BIRTHS))
            draft.enrol(child, class_id, school_of[class_id])
            draft.guard(child, parent)
    if "guardian_of_child_in_no_class" in planted:
        parent = draft.add(draw(_ADULT_BIRTHS))
        child = draft.add(draw(st.builds(born, st.integers(6, 28), st.integers(0, 364))))
        draft.guard(child, parent)
        variant = draw(st.sampled_from(["plain", "child_on_staff", "guardian_on_staff"]))
        if variant != "plain":
            oid = child if variant == "child_on_staff" else parent
            draft.staff[(draw(st.sampled_from(school_ids)), oid)].update(
                draw(st.sampled_from(STAFF_ROLE_SETS))
            )
    if "outsider" in planted:
        draft.add(draw(_BIRTHS))

    # Class teachers and subject teachers: teachers of the class's school.
    class_rows: dict[ClassId, ClassRow] = {}
    for school in school_ids:
        teachers = sorted(
            oid
            for (where, oid), roles in draft.staff.items()
            if where == school and Role.TEACHER in roles
        )
        for index, class_id in enumerate(classes[school]):
            class_teacher = (
                draw(st.one_of(st.none(), st.sampled_from(teachers))) if teachers else None
            )
            class_rows[class_id] = ClassRow(class_id, school, f"{index + 1}А", class_teacher)
            if teachers:
                for oid, subject in draw(
                    st.lists(
                        st.tuples(st.sampled_from(teachers), st.sampled_from(SUBJECTS)), max_size=3
                    )
                ):
                    draft.subject_teachers.add(SubjectTeacherRow(class_id, oid, subject))

    return RosterRows(
        people={oid: person(oid, birth) for oid, birth in draft.births.items()},
        schools={school: SchoolRow(school, f"Школа {school}") for school in school_ids},
        classes=class_rows,
        staff=frozenset(
            StaffRow(school, oid, role)
            for (school, oid), roles in draft.staff.items()
            for role in roles
        ),
        members=frozenset(
            MemberRow(school, oid, class_id) for (school, oid), class_id in draft.member.items()
        ),
        subject_teachers=frozenset(draft.subject_teachers),
        guardians=frozenset(draft.guardians),
    )


@st.composite
def oversight_ages(draw: st.DrawFn, school_ids: list[SchoolId]) -> dict[str, int]:
    """Per-school ``oversight_age`` settings; a school left out keeps the
    default.  Each school is about as likely to be left out, set to 0 (off),
    set to an age near the children's, or to anything from 0 to 20."""
    ages: dict[str, int] = {}
    for school in school_ids:
        age = draw(
            st.one_of(
                st.none(),
                st.just(0),
                st.sampled_from([10, 13, 14, 15, 16, 18]),
                st.integers(0, 20),
            )
        )
        if age is not None:
            ages[school] = age
    return ages


def to_document(rows: RosterRows) -> dict[str, Any]:
    """The roster file (decoded JSON) whose rows are ``rows``."""
    role_order = {role: index for index, role in enumerate(Role)}
    staff: defaultdict[SchoolId, defaultdict[OID, list[Role]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows.staff:
        staff[row.school_id][row.oid].append(row.role)
    students: defaultdict[ClassId, list[OID]] = defaultdict(list)
    for member in rows.members:
        students[member.class_id].append(member.oid)
    subjects: defaultdict[ClassId, list[SubjectTeacherRow]] = defaultdict(list)
    for teacher in rows.subject_teachers:
        subjects[teacher.class_id].append(teacher)
    parents: defaultdict[OID, list[OID]] = defaultdict(list)
    for guardian in rows.guardians:
        parents[guardian.child].append(guardian.parent)
    return {
        "version": 1,
        "people": [
            {
                "oid": p.oid,
                "last_name": p.last_name,
                "first_name": p.first_name,
                "birth_date": p.birth_date.isoformat(),
            }
            for p in rows.people.values()
        ],
        "schools": [
            {
                "id": school.id,
                "name": school.name,
                "staff": [
                    {"oid": oid, "roles": sorted(roles, key=role_order.__getitem__)}
                    for oid, roles in sorted(staff[school.id].items())
                ],
                "classes": [
                    {
                        "id": record.id,
                        "name": record.name,
                        "class_teacher": record.class_teacher,
                        "subject_teachers": [
                            {"oid": t.oid, "subject": t.subject}
                            for t in sorted(subjects[record.id], key=lambda t: (t.oid, t.subject))
                        ],
                        "students": sorted(students[record.id]),
                    }
                    for record in rows.classes.values()
                    if record.school_id == school.id
                ],
            }
            for school in rows.schools.values()
        ],
        "guardians": [
            {"child": child, "parents": sorted(listed)} for child, listed in sorted(parents.items())
        ],
    }
