"""A school admin's roster upload reaches only their own school, over HTTP.

The attacks of issue 12 replayed through ``POST /api/v1/admin/roster`` on a
real server: the admin of a second school uploads files that reach for the
demo school's people.  Each is refused whole (403 ``roster.outside_school``,
every refused record named), nothing is written, and both schools' audit
logs say who tried.  What an upload may do is audited in every school it
touches (docs/roster.md, "Uploads by a school's admin").
"""

from __future__ import annotations

import copy
import json
from typing import Any

from server.roster.demo import DEMO_ROSTER
from signaling.chat import OpenDirect
from tests.conftest import Running
from tests.server.test_http_chats import Reply, call
from tests.server.test_safety_ws import (
    ADMIN,
    ANYA,
    BORIS,
    OTHER_SCHOOL,
    PARENT_OF_101,
    STRANGER_STUDENT,
    STRANGER_TEACHER,
    TEACHER_5B_ONLY,
    refused,
    second_school,
    with_second_school,
)

SCHOOL = "sosh-1"


def demo_person(oid: int) -> dict[str, Any]:
    """A demo school's person record exactly as stored."""
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    [record] = [p for p in roster["people"] if p["oid"] == oid]
    return dict(record)


async def upload(zvonok: Running, oid: int, document: dict[str, Any]) -> Reply:
    return await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        oid,
        data=json.dumps(document).encode(),
    )


async def audit(zvonok: Running, school: str, oid: int) -> list[dict[str, Any]]:
    reply = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/{school}/audit", oid)
    assert reply.status == 200, reply.body
    entries: list[dict[str, Any]] = reply.body["entries"]
    return entries


async def children_of(zvonok: Running, oid: int) -> list[int]:
    reply = await call(zvonok, "GET", f"{zvonok.base}/api/v1/me", oid)
    assert reply.status == 200, reply.body
    return sorted(child["person"]["oid"] for child in reply.body["children"])


async def profile(zvonok: Running, oid: int) -> dict[str, Any]:
    reply = await call(zvonok, "GET", f"{zvonok.base}/api/v1/me", oid)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def assert_refused(reply: Reply, *paths: str) -> None:
    assert (reply.status, reply.code) == (403, "roster.outside_school"), reply.body
    issues: list[str] = reply.body["error"]["issues"]
    named = [issue.split(":", 1)[0] for issue in issues]
    assert sorted(named) == sorted(paths), issues


async def test_another_schools_admin_cannot_take_a_child_as_her_own(zvonok: Running) -> None:
    await with_second_school(zvonok)
    parents_before = await children_of(zvonok, PARENT_OF_101)
    assert ANYA in parents_before
    attack = second_school()
    attack["people"].append(demo_person(ANYA))
    attack["guardians"] = [{"child": ANYA, "parents": [STRANGER_TEACHER]}]

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    # The link she would add and the real parents' links she would remove.
    assert_refused(reply, "guardians[0].parents[0]", "guardians[0].parents", "guardians[0].parents")
    assert await children_of(zvonok, PARENT_OF_101) == parents_before
    assert await children_of(zvonok, STRANGER_TEACHER) == []
    stranger = await zvonok.connect(STRANGER_TEACHER)
    assert (await refused(stranger, OpenDirect(person=ANYA))).code == "policy.forbidden"
    # The demo school's admins see the attempt, and so do her own school's.
    for school, reader in ((SCHOOL, ADMIN), (OTHER_SCHOOL, STRANGER_TEACHER)):
        [row] = [e for e in await audit(zvonok, school, reader) if e["action"] == "roster.refused"]
        assert row["actor"] == STRANGER_TEACHER
        assert any("guardians[0].parents[0]" in issue for issue in row["details"]["issues"])


async def test_another_schools_admin_cannot_rename_or_age_the_demo_schools_people(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    director, child = demo_person(ADMIN), demo_person(ANYA)
    attack = second_school()
    attack["people"] += [
        {**director, "last_name": "Самозванка"},
        {**child, "birth_date": "1990-01-01"},  # an adult: the filters for minors would be off
    ]

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    assert_refused(reply, "people[2].last_name", "people[3].birth_date")
    assert (await profile(zvonok, ADMIN))["person"]["last_name"] == director["last_name"]
    assert (await profile(zvonok, ANYA))["person"]["birth_date"] == child["birth_date"]


async def test_another_schools_admin_cannot_enrol_or_hire_the_demo_schools_people(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    attack = second_school()
    attack["people"] += [demo_person(ANYA), demo_person(TEACHER_5B_ONLY)]
    school = attack["schools"][0]
    school["classes"][0]["students"].append(ANYA)  # into her class chat
    school["staff"].append({"oid": TEACHER_5B_ONLY, "roles": ["admin"]})

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    # Enrolling her would also drop her parents' links: the file has no
    # Guardian record for her, so it names her two parents' links by her place.
    assert_refused(
        reply,
        "schools[0].classes[0].students[1]",
        "schools[0].classes[0].students[1]",
        "schools[0].classes[0].students[1]",
        "schools[0].staff[1].roles",
    )
    assert [link["school_id"] for link in (await profile(zvonok, ANYA))["classes"]] == [SCHOOL]


async def test_another_schools_admin_cannot_make_a_pupil_a_parent_of_hers(
    zvonok: Running,
) -> None:
    """A guardian link to a child of her own school would put the demo
    school's pupil into her school's parents' chat."""
    await with_second_school(zvonok)
    pupil = 1000100117  # the demo school's oldest student
    attack = second_school()
    attack["people"] += [
        demo_person(pupil),
        {"oid": 2000000102, "last_name": "Новый", "first_name": "Сын", "birth_date": "2019-01-01"},
    ]
    attack["schools"][0]["classes"][0]["students"].append(2000000102)
    attack["guardians"] = [{"child": 2000000102, "parents": [pupil]}]

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    assert_refused(reply, "guardians[0].parents[0]")
    assert await children_of(zvonok, pupil) == []


async def test_a_refused_upload_writes_nothing_even_where_it_was_allowed(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    attack = second_school()
    attack["schools"][0]["name"] = "Школа № 2 (новое имя)"  # hers to change
    attack["people"].append({**demo_person(ADMIN), "first_name": "Чужое"})

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    assert_refused(reply, "people[2].first_name")
    assert [e["action"] for e in await audit(zvonok, OTHER_SCHOOL, STRANGER_TEACHER)] == [
        "roster.refused"
    ]
    again = await upload(zvonok, STRANGER_TEACHER, second_school())
    assert again.status == 200, again.body
    assert again.body["summary"] == "no changes"  # the new name was never written


async def test_an_allowed_upload_is_audited_in_every_school_it_touches(
    zvonok: Running,
) -> None:
    """A child of the second school whose mother teaches at the demo school:
    the link is the second school's to make, and both schools are told."""
    await with_second_school(zvonok)
    mother = demo_person(TEACHER_5B_ONLY)
    document = second_school()
    document["people"].append(copy.deepcopy(mother))
    document["guardians"] = [{"child": STRANGER_STUDENT, "parents": [TEACHER_5B_ONLY]}]

    reply = await upload(zvonok, STRANGER_TEACHER, document)

    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "guardians: 1 added"
    assert await children_of(zvonok, TEACHER_5B_ONLY) == [STRANGER_STUDENT]
    change = {
        "table": "guardians",
        "change": "added",
        "row": {"child": STRANGER_STUDENT, "parent": TEACHER_5B_ONLY},
    }
    for school, reader in ((SCHOOL, ADMIN), (OTHER_SCHOOL, STRANGER_TEACHER)):
        entries = await audit(zvonok, school, reader)
        assert [e["action"] for e in entries] == ["roster.import", "roster.change"]
        assert entries[1]["details"] == change
        assert entries[1]["actor"] == STRANGER_TEACHER


async def test_the_demo_schools_admin_still_runs_her_own_roster(zvonok: Running) -> None:
    """The rules do not get in the way of a school's own changes: renaming its
    child, a new pupil with new parents, a teacher leaving."""
    await with_second_school(zvonok)
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    [anya] = [p for p in roster["people"] if p["oid"] == ANYA]
    anya["first_name"] = "Артемий"
    pupil = {"oid": 3000000001, "last_name": "Новый", "first_name": "Ученик"}
    mother = {"oid": 3000000002, "last_name": "Новая", "first_name": "Мама"}
    roster["people"].append({**pupil, "birth_date": "2015-01-01"})
    roster["people"].append({**mother, "birth_date": "1985-01-01"})
    school = roster["schools"][0]
    school["classes"][0]["students"].append(3000000001)
    roster["guardians"].append({"child": 3000000001, "parents": [3000000002]})

    reply = await upload(zvonok, ADMIN, roster)

    assert reply.status == 200, reply.body
    assert (await profile(zvonok, ANYA))["person"]["first_name"] == "Артемий"
    assert await children_of(zvonok, 3000000002) == [3000000001]
    rows = [e for e in await audit(zvonok, SCHOOL, ADMIN) if e["action"] == "roster.change"]
    tables = sorted((e["details"]["table"], e["details"]["change"]) for e in rows)
    assert tables == [
        ("class_members", "added"),
        ("guardians", "added"),
        ("people", "added"),
        ("people", "added"),
        ("people", "updated"),
    ]
    [renamed] = [e for e in rows if e["details"]["change"] == "updated"]
    renaming = {"first_name": ["Артём", "Артемий"]}
    assert renamed["details"]["row"] == {"oid": ANYA, "fields": renaming}
    assert await audit(zvonok, OTHER_SCHOOL, STRANGER_TEACHER) == []


async def test_names_an_admin_uploads_hold_no_link_and_no_obscene_class_name(
    zvonok: Running,
) -> None:
    """Names are shown to the school's children: none holds a link, and the
    names of classes and subjects pass the content filter. People's names do
    not go through it: real surnames hold the roots it blocks."""
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    [anya] = [i for i, p in enumerate(roster["people"]) if p["oid"] == ANYA]
    [boris] = [i for i, p in enumerate(roster["people"]) if p["oid"] == BORIS]
    roster["people"][anya]["first_name"] = "vk.com/club1"
    roster["schools"][0]["classes"][0]["name"] = "5А блядь"
    subjects = roster["schools"][0]["classes"][0]["subject_teachers"]
    subjects[0]["subject"] = "Математика t.me/secret"

    reply = await upload(zvonok, ADMIN, roster)

    assert (reply.status, reply.code) == (422, "roster.invalid"), reply.body
    named = sorted(issue.split(":", 1)[0] for issue in reply.body["error"]["issues"])
    assert named == [
        f"people[{anya}].first_name",
        "schools[0].classes[0].name",
        "schools[0].classes[0].subject_teachers[0].subject",
    ]
    assert (await profile(zvonok, ANYA))["person"]["first_name"] == "Артём"
    # A real surname with a blocked root is a child's name, not an insult.
    clean = json.loads(DEMO_ROSTER.read_text("utf-8"))
    clean["people"][boris]["last_name"] = "Сукин"
    accepted = await upload(zvonok, ADMIN, clean)
    assert accepted.status == 200, accepted.body
    assert (await profile(zvonok, BORIS))["person"]["last_name"] == "Сукин"
