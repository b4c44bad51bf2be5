"""People, ages and the plain-data form of profiles."""

from __future__ import annotations

import datetime
import json

import msgpack
import pytest

from server.roster.model import (
    OID,
    Child,
    ClassId,
    ClassLink,
    DirectoryEntry,
    Person,
    Profile,
    Role,
    SchoolId,
    SchoolRole,
    collation_key,
)

SCHOOL = SchoolId("sosh-1")


def person(oid: int = 1, born: datetime.date = datetime.date(2015, 10, 30)) -> Person:
    return Person(OID(oid), "Шмидт", "Эмма", None, born)


def test_full_name_with_and_without_patronymic() -> None:
    with_middle = Person(OID(1), "Гусев", "Степан", "Николаевич", datetime.date(2016, 1, 10))

    assert with_middle.full_name == "Гусев Степан Николаевич"
    assert person().full_name == "Шмидт Эмма"


@pytest.mark.parametrize(
    ("today", "age"),
    [
        (datetime.date(2026, 10, 29), 10),
        (datetime.date(2026, 10, 30), 11),
        (datetime.date(2033, 10, 29), 17),
        (datetime.date(2033, 10, 30), 18),
    ],
)
def test_age_counts_full_years(today: datetime.date, age: int) -> None:
    assert person().age(today) == age
    assert person().is_minor(today) is (age < 18)


def test_leap_day_birthday_comes_on_first_of_march() -> None:
    leap = person(born=datetime.date(2008, 2, 29))

    assert leap.age(datetime.date(2026, 2, 28)) == 17
    assert leap.age(datetime.date(2026, 3, 1)) == 18
    assert not leap.is_minor(datetime.date(2026, 3, 1))


def test_collation_sorts_yo_with_ye() -> None:
    names = ["Ёлкин", "Яковлев", "Егоров", "Журавлёв", "Ершов"]

    assert sorted(names, key=collation_key) == ["Егоров", "Ёлкин", "Ершов", "Журавлёв", "Яковлев"]


def profile() -> Profile:
    link = ClassLink(ClassId("sosh-1-5a"), "5А", SCHOOL, "student", None)
    teach = ClassLink(ClassId("sosh-1-5b"), "5Б", SCHOOL, "subject_teacher", "Английский язык")
    return Profile(
        person=Person(OID(6), "Новикова", "Ольга", "Дмитриевна", datetime.date(1984, 5, 21)),
        roles=(
            SchoolRole(SCHOOL, "Школа № 1", Role.PARENT),
            SchoolRole(SCHOOL, "Школа № 1", Role.TEACHER),
        ),
        classes=(teach,),
        children=(Child(person(), (link,)),),
    )


def test_has_role_in_any_or_one_school() -> None:
    p = profile()

    assert p.has_role(Role.TEACHER)
    assert p.has_role(Role.PARENT, SCHOOL)
    assert not p.has_role(Role.PARENT, SchoolId("other"))
    assert not p.has_role(Role.ADMIN)


def test_profile_json_is_plain_data() -> None:
    body = profile().to_json()

    assert body == {
        "person": {
            "oid": 6,
            "last_name": "Новикова",
            "first_name": "Ольга",
            "middle_name": "Дмитриевна",
            "full_name": "Новикова Ольга Дмитриевна",
            "birth_date": "1984-05-21",
        },
        "roles": [
            {"school_id": "sosh-1", "school_name": "Школа № 1", "role": "parent"},
            {"school_id": "sosh-1", "school_name": "Школа № 1", "role": "teacher"},
        ],
        "classes": [
            {
                "class_id": "sosh-1-5b",
                "class_name": "5Б",
                "school_id": "sosh-1",
                "relation": "subject_teacher",
                "subject": "Английский язык",
            }
        ],
        "children": [
            {
                "person": person().to_json(),
                "classes": [
                    {
                        "class_id": "sosh-1-5a",
                        "class_name": "5А",
                        "school_id": "sosh-1",
                        "relation": "student",
                        "subject": None,
                    }
                ],
            }
        ],
    }
    assert json.loads(json.dumps(body)) == body
    assert msgpack.unpackb(msgpack.packb(body)) == body
    assert type(body["roles"][0]["role"]) is str  # not the enum


def test_directory_entry_json() -> None:
    p = profile()
    entry = DirectoryEntry(p.person, p.roles, p.classes)

    assert entry.to_json() == {k: v for k, v in p.to_json().items() if k != "children"}
