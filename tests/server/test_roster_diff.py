"""The changes an import makes (pure), and roles derived from rows."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from server.roster.diff import ImportReport, TableCounts, diff_roster
from server.roster.document import RosterDocument, parse_roster
from server.roster.errors import RosterError
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
from server.roster.views import build_directory, build_profile

S1, S2 = SchoolId("s1"), SchoolId("s2")
A, B, OTHER = ClassId("s1-a"), ClassId("s1-b"), ClassId("s2-a")
TEACHER, KID1, KID2, MUM, OUTSIDER = OID(10), OID(21), OID(22), OID(30), OID(40)


def person(oid: int, last: str, born: str) -> dict[str, Any]:
    return {"oid": oid, "last_name": last, "first_name": "Имя", "birth_date": born}


def doc_data() -> dict[str, Any]:
    return {
        "version": 1,
        "people": [
            person(TEACHER, "Учителева", "1980-01-01"),
            person(KID1, "Первый", "2015-10-01"),
            person(KID2, "Второй", "2016-03-01"),
            person(MUM, "Первая", "1985-05-05"),
        ],
        "schools": [
            {
                "id": S1,
                "name": "Школа 1",
                "staff": [{"oid": TEACHER, "roles": ["teacher"]}],
                "classes": [
                    {
                        "id": A,
                        "name": "5А",
                        "class_teacher": TEACHER,
                        "subject_teachers": [{"oid": TEACHER, "subject": "Математика"}],
                        "students": [KID1, KID2],
                    },
                    {"id": B, "name": "5Б"},
                ],
            }
        ],
        "guardians": [{"child": KID1, "parents": [MUM]}],
    }


def doc(data: dict[str, Any] | None = None) -> RosterDocument:
    return parse_roster(data if data is not None else doc_data())


def outside_rows() -> RosterRows:
    """Rows of another school and a child the file does not mention."""
    return RosterRows(
        people={OUTSIDER: Person(OUTSIDER, "Чужой", "Имя", None, datetime.date(1990, 1, 1))},
        schools={S2: SchoolRow(S2, "Школа 2")},
        classes={OTHER: ClassRow(OTHER, S2, "1А", OUTSIDER)},
        staff=frozenset({StaffRow(S2, OUTSIDER, Role.TEACHER)}),
        members=frozenset({MemberRow(S2, KID1, OTHER)}),
        subject_teachers=frozenset({SubjectTeacherRow(OTHER, OUTSIDER, "Пение")}),
        guardians=frozenset({GuardianRow(OUTSIDER, MUM)}),
    )


def merge(a: RosterRows, b: RosterRows) -> RosterRows:
    return RosterRows(
        people={**a.people, **b.people},
        schools={**a.schools, **b.schools},
        classes={**a.classes, **b.classes},
        staff=a.staff | b.staff,
        members=a.members | b.members,
        subject_teachers=a.subject_teachers | b.subject_teachers,
        guardians=a.guardians | b.guardians,
    )


def test_everything_is_added_to_an_empty_roster() -> None:
    report = diff_roster(doc(), RosterRows()).report

    assert report == ImportReport(
        people=TableCounts(added=4),
        schools=TableCounts(added=1),
        staff=TableCounts(added=1),
        classes=TableCounts(added=2),
        class_members=TableCounts(added=2),
        subject_teachers=TableCounts(added=1),
        guardians=TableCounts(added=1),
    )
    assert report.changed
    assert report.summary().startswith("people: 4 added; schools: 1 added; staff: 1 added;")


def test_the_same_file_changes_nothing() -> None:
    current = merge(RosterRows.from_document(doc()), outside_rows())

    report = diff_roster(doc(), current).report

    assert not report.changed
    assert report.summary() == "no changes"


def test_rows_outside_the_scope_are_never_removed() -> None:
    changes = diff_roster(doc(), outside_rows())

    assert changes.staff.removed == ()
    assert changes.classes.removed == ()
    assert changes.members.removed == ()
    assert changes.subject_teachers.removed == ()
    assert changes.guardians.removed == ()


def test_dropped_class_goes_with_its_members_and_teachers() -> None:
    current = RosterRows.from_document(doc())
    data = doc_data()
    del data["schools"][0]["classes"][0]

    changes = diff_roster(doc(data), current)

    assert [row.id for row in changes.classes.removed] == [A]
    assert {row.oid for row in changes.members.removed} == {KID1, KID2}
    assert len(changes.subject_teachers.removed) == 1
    assert changes.report.classes == TableCounts(removed=1)


def test_moving_a_student_is_an_update_and_dropping_one_a_removal() -> None:
    current = RosterRows.from_document(doc())
    data = doc_data()
    data["schools"][0]["classes"][0]["students"] = []
    data["schools"][0]["classes"][1]["students"] = [KID1]

    changes = diff_roster(doc(data), current)

    assert changes.members.updated == (MemberRow(S1, KID1, B),)
    assert changes.members.removed == (MemberRow(S1, KID2, A),)
    assert changes.members.added == ()


def test_names_and_class_teacher_changes_are_updates() -> None:
    current = RosterRows.from_document(doc())
    data = doc_data()
    data["people"][1]["last_name"] = "Переименованный"
    data["schools"][0]["name"] = "Школа № 1"
    data["schools"][0]["classes"][0]["class_teacher"] = None

    report = diff_roster(doc(data), current).report

    assert report.people == TableCounts(updated=1)
    assert report.schools == TableCounts(updated=1)
    assert report.classes == TableCounts(updated=1)
    assert report.summary() == "people: 1 updated; schools: 1 updated; classes: 1 updated"


def test_guardians_of_children_in_scope_are_replaced() -> None:
    current = merge(
        RosterRows.from_document(doc()),
        RosterRows(guardians=frozenset({GuardianRow(KID2, OUTSIDER)})),
    )

    changes = diff_roster(doc(), current)

    # KID2 is a student of the file's school, so the file's (empty) list wins.
    assert changes.guardians.removed == (GuardianRow(KID2, OUTSIDER),)


def test_guardians_of_a_child_who_left_the_school_stay() -> None:
    current = RosterRows.from_document(doc())
    data = doc_data()
    data["schools"][0]["classes"][0]["students"] = [KID2]
    data["guardians"] = []

    changes = diff_roster(doc(data), current)

    assert KID1 not in RosterScope.of(doc(data)).guardian_children
    assert changes.guardians.removed == ()


def test_a_child_named_in_guardians_with_no_parents_loses_them() -> None:
    current = RosterRows(guardians=frozenset({GuardianRow(OUTSIDER, MUM)}))
    data = doc_data()
    data["people"].append(person(OUTSIDER, "Чужой", "2010-01-01"))
    data["guardians"].append({"child": OUTSIDER, "parents": []})

    changes = diff_roster(doc(data), current)

    assert changes.guardians.removed == (GuardianRow(OUTSIDER, MUM),)


def test_class_owned_by_another_school_is_an_error() -> None:
    current = RosterRows(classes={B: ClassRow(B, S2, "5Б", None)})

    with pytest.raises(RosterError) as caught:
        diff_roster(doc(), current)

    (issue,) = caught.value.issues
    assert issue.path == "schools[0].classes[1].id"
    assert issue.message.startswith(f"class {B} already belongs to school {S2}")


# --------------------------------------------------------------------------
# Derived roles
# --------------------------------------------------------------------------


def rows_with_outside() -> RosterRows:
    return merge(RosterRows.from_document(doc()), outside_rows())


def test_roles_are_derived_from_rows() -> None:
    rows = rows_with_outside()

    mum = build_profile(rows, MUM)
    kid = build_profile(rows, KID1)
    teacher = build_profile(rows, TEACHER)

    assert mum is not None and kid is not None and teacher is not None
    # Parent in S1 (KID1 studies there) and in S2 (KID1 studies there too); the
    # outsider child is in no class, so gives no role but is listed.
    assert [(r.school_id, r.role) for r in mum.roles] == [(S1, Role.PARENT), (S2, Role.PARENT)]
    assert [c.person.oid for c in mum.children] == [KID1, OUTSIDER]
    assert [(r.school_id, r.role) for r in kid.roles] == [(S1, Role.STUDENT), (S2, Role.STUDENT)]
    assert [(c.class_id, c.relation, c.subject) for c in teacher.classes] == [
        (A, "class_teacher", None),
        (A, "subject_teacher", "Математика"),
    ]
    assert build_profile(rows, OID(999)) is None


def test_directory_order_is_school_role_class_name() -> None:
    rows = rows_with_outside()
    data = doc_data()
    data["people"].append(person(50, "Безролевой", "1990-01-01"))
    rows = merge(rows, RosterRows.from_document(doc(data)))

    names = [entry.person.last_name for entry in build_directory(rows)]

    # Школа 1: students (by class, then name), parents, teachers; then Школа 2;
    # then people without a role.
    assert names == ["Второй", "Первый", "Первая", "Учителева", "Чужой", "Безролевой"]


def test_rows_from_document_is_what_a_store_would_hold() -> None:
    rows = RosterRows.from_document(doc())

    assert rows.classes[A] == ClassRow(A, S1, "5А", TEACHER)
    assert rows.members == frozenset({MemberRow(S1, KID1, A), MemberRow(S1, KID2, A)})
    assert dataclasses.asdict(RosterScope.of(doc())) == {
        "people": frozenset({TEACHER, KID1, KID2, MUM}),
        "schools": frozenset({S1}),
        "class_ids": frozenset({A, B}),
        "guardian_children": frozenset({KID1, KID2}),
    }
