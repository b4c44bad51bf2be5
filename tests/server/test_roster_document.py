"""Validation of roster files: every problem found, named by record and field."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from server.roster.document import (
    ClassRecord,
    GuardianRecord,
    SchoolRecord,
    StaffMember,
    SubjectTeacher,
    load_roster_file,
    parse_roster,
    parse_roster_bytes,
)
from server.roster.errors import RosterError, RosterIssue
from server.roster.model import OID, ClassId, Person, Role, SchoolId
from server.roster.rows import RosterRows
from server.roster.views import build_profile

TEACHER, ADMIN, STUDENT_A, STUDENT_B, MOTHER, FATHER = 101, 102, 201, 202, 301, 302


def valid() -> dict[str, Any]:
    """A small valid roster: one school, one class, two students, two parents."""
    return {
        "version": 1,
        "people": [
            {
                "oid": TEACHER,
                "last_name": "Морозова",
                "first_name": "Ирина",
                "middle_name": "Александровна",
                "birth_date": "1981-02-17",
            },
            {
                "oid": ADMIN,
                "last_name": "Соколова",
                "first_name": "Елена",
                "middle_name": "Викторовна",
                "birth_date": "1968-04-12",
            },
            {
                "oid": STUDENT_A,
                "last_name": "Гусев",
                "first_name": "Степан",
                "middle_name": "Николаевич",
                "birth_date": "2016-01-10",
            },
            {
                "oid": STUDENT_B,
                "last_name": "Шмидт",
                "first_name": "Эмма",
                "birth_date": "2015-10-30",
            },
            {
                "oid": MOTHER,
                "last_name": "Гусева",
                "first_name": "Светлана",
                "middle_name": "Анатольевна",
                "birth_date": "1982-02-08",
            },
            {
                "oid": FATHER,
                "last_name": "Гусев",
                "first_name": "Николай",
                "middle_name": None,
                "birth_date": "1985-05-13",
            },
        ],
        "schools": [
            {
                "id": "sosh-1",
                "name": "Школа № 1",
                "staff": [
                    {"oid": TEACHER, "roles": ["teacher"]},
                    {"oid": ADMIN, "roles": ["admin", "teacher"]},
                ],
                "classes": [
                    {
                        "id": "sosh-1-5a",
                        "name": "5А",
                        "class_teacher": TEACHER,
                        "subject_teachers": [
                            {"oid": TEACHER, "subject": "Русский язык"},
                            {"oid": ADMIN, "subject": "История"},
                        ],
                        "students": [STUDENT_A, STUDENT_B],
                    }
                ],
            }
        ],
        "guardians": [{"child": STUDENT_A, "parents": [MOTHER, FATHER]}],
    }


def issues_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(RosterError) as caught:
        parse_roster(data)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def paths_of(data: object) -> list[str]:
    return [path for path, _ in issues_of(data)]


def test_valid_document_parses_into_records() -> None:
    doc = parse_roster(valid())

    assert doc.version == 1
    assert doc.people[3] == Person(
        OID(STUDENT_B), "Шмидт", "Эмма", None, datetime.date(2015, 10, 30)
    )
    assert doc.people[5].middle_name is None
    assert doc.schools == (
        SchoolRecord(
            SchoolId("sosh-1"),
            "Школа № 1",
            staff=(
                StaffMember(OID(TEACHER), (Role.TEACHER,)),
                StaffMember(OID(ADMIN), (Role.TEACHER, Role.ADMIN)),  # normalised order
            ),
            classes=(
                ClassRecord(
                    ClassId("sosh-1-5a"),
                    "5А",
                    OID(TEACHER),
                    (
                        SubjectTeacher(OID(TEACHER), "Русский язык"),
                        SubjectTeacher(OID(ADMIN), "История"),
                    ),
                    (OID(STUDENT_A), OID(STUDENT_B)),
                ),
            ),
        ),
    )
    assert doc.guardians == (GuardianRecord(OID(STUDENT_A), (OID(MOTHER), OID(FATHER))),)


def test_optional_sections_default_to_empty_and_text_is_trimmed() -> None:
    data: dict[str, Any] = {"version": 1, "people": [valid()["people"][0]]}
    data["people"][0]["last_name"] = "  Морозова "
    data["people"][0]["middle_name"] = "   "

    doc = parse_roster(data)

    assert doc.schools == () and doc.guardians == ()
    assert doc.people[0].last_name == "Морозова"
    assert doc.people[0].middle_name is None


def test_unknown_person_is_named_by_record_and_field() -> None:
    data = valid()
    data["schools"][0]["classes"][0]["students"].append(1000100042)

    assert issues_of(data) == [
        ("schools[0].classes[0].students[2]", "person 1000100042 is not in people")
    ]


def test_duplicate_oid() -> None:
    data = valid()
    data["people"].append(copy.deepcopy(data["people"][0]))

    assert issues_of(data) == [
        ("people[6].oid", f"duplicate OID {TEACHER}: already listed at people[0]")
    ]


@pytest.mark.parametrize("bad", ["2015-02-30", "15.03.2016", "20160315", "2016-3-5", "1899-12-31"])
def test_bad_birth_date(bad: str) -> None:
    data = valid()
    data["people"][2]["birth_date"] = bad

    assert paths_of(data) == ["people[2].birth_date"]


def test_teacher_who_is_not_staff() -> None:
    data = valid()
    data["schools"][0]["staff"] = [{"oid": ADMIN, "roles": ["admin"]}]

    issues = issues_of(data)

    assert [path for path, _ in issues] == [
        "schools[0].classes[0].class_teacher",
        "schools[0].classes[0].subject_teachers[0].oid",
        "schools[0].classes[0].subject_teachers[1].oid",
    ]
    assert all("is not a teacher of school sosh-1" in message for _, message in issues)


def test_student_in_two_classes_of_one_school() -> None:
    data = valid()
    data["schools"][0]["classes"].append({"id": "sosh-1-5b", "name": "5Б", "students": [STUDENT_B]})

    assert issues_of(data) == [
        (
            "schools[0].classes[1].students[0]",
            f"person {STUDENT_B} is already a student of class sosh-1-5a of school sosh-1: "
            "schools[0].classes[0].students[1]",
        )
    ]


def test_student_may_be_in_classes_of_two_schools() -> None:
    data = valid()
    data["schools"].append(
        {
            "id": "music-1",
            "name": "ДШИ № 1",
            "classes": [{"id": "m-1", "name": "1", "students": [STUDENT_A]}],
        }
    )

    parse_roster(data)


def test_self_guardian_and_younger_guardian() -> None:
    data = valid()
    data["guardians"] = [{"child": MOTHER, "parents": [MOTHER, STUDENT_A]}]

    assert issues_of(data) == [
        ("guardians[0].parents[0]", f"person {MOTHER} cannot be their own guardian"),
        (
            "guardians[0].parents[1]",
            f"guardian {STUDENT_A} (born 2016-01-10) is not older than "
            f"child {MOTHER} (born 1982-02-08)",
        ),
    ]


def test_wrong_types_are_reported_with_json_type_names() -> None:
    data = valid()
    data["people"][0]["oid"] = "101"
    data["people"][1]["first_name"] = 7
    data["people"][2]["oid"] = True
    data["schools"][0]["staff"] = {"oid": TEACHER}
    data["schools"][0]["classes"][0]["students"] = [STUDENT_A, 2.5]
    data["guardians"] = "none"

    issues = dict(issues_of(data))

    assert issues["people[0].oid"] == "expected an integer, got string"
    assert issues["people[1].first_name"] == "expected a string, got integer"
    assert issues["people[2].oid"] == "expected an integer, got boolean"
    assert issues["schools[0].staff"] == "expected an array, got object"
    assert issues["schools[0].classes[0].students[1]"] == "expected an integer, got number"
    assert issues["guardians"] == "expected an array, got string"


def test_unknown_missing_and_out_of_range_fields() -> None:
    data = valid()
    data["people"][0]["birthdate"] = data["people"][0].pop("birth_date")
    data["people"].append({**data["people"][1], "oid": 2**63})
    data["schools"][0]["staff"][0]["roles"] = ["teacher", "student"]
    data["schools"][0]["classes"][0]["id"] = "5 А"
    data["version"] = 2

    assert issues_of(data) == [
        ("version", "unsupported version 2: this server reads version 1"),
        ("people[0].birthdate", "unknown field"),
        ("people[0].birth_date", "missing required field"),
        ("people[6].oid", f"OID {2**63} is out of range (1 to 2^63-1)"),
        (
            "schools[0].staff[0].roles[1]",
            'invalid staff role \'student\': expected one of "teacher", "admin"',
        ),
        (
            "schools[0].classes[0].id",
            "invalid id '5 А': use 1 to 64 ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        ),
    ]


def test_duplicates_of_schools_classes_and_names() -> None:
    data = valid()
    school = data["schools"][0]
    school["classes"].append({"id": "sosh-1-5a", "name": "5а"})
    data["schools"].append({"id": "sosh-1", "name": "Другая"})

    assert paths_of(data) == [
        "schools[0].classes[1].id",
        "schools[0].classes[1].name",
        "schools[1].id",
    ]


def test_all_errors_are_reported_at_once() -> None:
    data = valid()
    data["people"][2]["birth_date"] = "2016-13-01"
    data["people"].append(copy.deepcopy(data["people"][0]))
    data["schools"][0]["classes"][0]["students"].append(999)
    data["guardians"][0]["parents"].append(MOTHER)

    with pytest.raises(RosterError) as caught:
        parse_roster(data)

    assert [issue.path for issue in caught.value.issues] == [
        "people[2].birth_date",
        "people[6].oid",
        "schools[0].classes[0].students[2]",
        "guardians[0].parents[2]",
    ]
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    assert lines[2] == "schools[0].classes[0].students[2]: person 999 is not in people"


def test_not_an_object_at_the_top() -> None:
    assert issues_of([1, 2]) == [("", "expected an object, got array")]


def test_missing_people_does_not_flood_with_unknown_references() -> None:
    data = valid()
    del data["people"]

    assert issues_of(data) == [("people", "missing required field")]


def test_load_roster_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text(json.dumps(valid(), ensure_ascii=False), encoding="utf-8")

    assert load_roster_file(path) == parse_roster(valid())


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text('{\n  "version": 1,\n  "people": [,]\n}\n', encoding="utf-8")

    with pytest.raises(RosterError) as caught:
        load_roster_file(path)

    (issue,) = caught.value.issues
    assert issue.path == ""
    assert issue.message.startswith("invalid JSON at line 3, column 14:")


def test_duplicate_keys_in_the_file_are_an_error(tmp_path: Path) -> None:
    text = json.dumps(valid(), ensure_ascii=False)
    text = text.replace('"version": 1', '"version": 1, "version": 1', 1)
    path = tmp_path / "roster.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(RosterError) as caught:
        load_roster_file(path)

    assert caught.value.issues == (RosterIssue("version", "field is given more than once"),)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe{}", "the file is not valid UTF-8 (byte 0)"),
        (b'{"version": NaN}', "invalid JSON: NaN is not allowed"),
    ],
)
def test_undecodable_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "roster.json"
    path.write_bytes(content)

    with pytest.raises(RosterError) as caught:
        load_roster_file(path)

    assert str(caught.value) == expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="cannot read"):
        load_roster_file(tmp_path / "absent.json")


def test_the_example_in_the_documentation_is_valid_and_means_what_it_says() -> None:
    text = (Path(__file__).parents[2] / "docs" / "roster.md").read_text(encoding="utf-8")
    example = text.split("## Example", 1)[1].split("```json", 1)[1].split("```", 1)[0]

    doc = parse_roster(json.loads(example))
    rows = RosterRows.from_document(doc)

    def roles(oid: int) -> list[Role]:
        profile = build_profile(rows, OID(oid))
        assert profile is not None
        return [role.role for role in profile.roles]

    assert roles(1000100004) == [Role.TEACHER]  # Волкова
    assert roles(1000100006) == [Role.PARENT, Role.TEACHER]  # Новикова
    assert roles(1000100001) == [Role.ADMIN]  # Соколова
    assert roles(1000100201) == [Role.PARENT]  # Белов Дмитрий
    assert roles(1000100202) == []  # Шмидт Томас


def test_json_nested_too_deeply_is_an_invalid_file_not_a_crash() -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster_bytes(b"[" * 100_000)
    assert str(caught.value) == "invalid JSON: nested too deeply"
