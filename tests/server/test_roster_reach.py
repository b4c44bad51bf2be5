"""Which schools and people a refused roster file's issues point at."""

from __future__ import annotations

import json

import pytest

from server.roster.document import decode_roster_bytes, parse_roster
from server.roster.errors import RosterError, RosterIssue
from server.roster.reach import reach_of

FILE = {
    "version": 1,
    "people": [
        {"oid": 11, "last_name": "А", "first_name": "Б", "birth_date": "1980-01-01"},
        {"oid": 12, "last_name": "В", "first_name": "Г", "birth_date": "2016-02-30"},
        {"oid": 13, "last_name": "Д", "first_name": "Е", "birth_date": "2015-01-01"},
    ],
    "schools": [
        {
            "id": "s1",
            "name": "Школа",
            "staff": [{"oid": 11, "roles": ["director"]}],
            "classes": [{"id": "s1-1", "name": "1А", "students": [13, 99]}],
        },
        {"id": 7, "name": "не школа"},
    ],
    "guardians": [{"child": 13, "parents": [11, 12]}],
}


def issues_of(data: object) -> list[RosterIssue]:
    with pytest.raises(RosterError) as caught:
        parse_roster(data)
    return list(caught.value.issues)


def test_each_issue_names_the_people_on_its_path() -> None:
    data = decode_roster_bytes(json.dumps(FILE).encode())
    issues = issues_of(data)
    by_path = {issue.path.split(".")[0]: issue for issue in issues}

    assert reach_of(data, [by_path["people[1]"]]).people == {12}
    staff = [i for i in issues if i.path.startswith("schools[0].staff[0]")]
    assert reach_of(data, staff).people == {11}
    student = [i for i in issues if i.path == "schools[0].classes[0].students[1]"]
    assert reach_of(data, student).people == {99}
    parent = RosterIssue("guardians[0].parents[1]", "…")
    assert reach_of(data, [parent]).people == {13, 12}


def test_every_school_the_file_names_is_reached_and_nothing_more() -> None:
    data = decode_roster_bytes(json.dumps(FILE).encode())

    reach = reach_of(data, [RosterIssue("", "a problem with the file as a whole")])

    assert reach.schools == {"s1"}  # 7 is no school id
    assert reach.people == frozenset()
    assert reach_of(None, issues_of(None)).schools == frozenset()
    broken = RosterIssue("people[9].oid.deeper[3]", "past the end of the file")
    assert reach_of(data, [broken]).people == frozenset()
