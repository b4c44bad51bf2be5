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

from server.appkeys import STORE
from server.roster.demo import DEMO_ROSTER
from server.roster.document import parse_roster
from server.roster.model import OID
from server.roster.rows import RosterRows
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

    # The child belongs to the demo school: neither her record nor her
    # guardians are the second school's to name.
    assert_refused(reply, "people[2]", "guardians[0].child")
    assert await children_of(zvonok, PARENT_OF_101) == parents_before
    assert await children_of(zvonok, STRANGER_TEACHER) == []
    stranger = await zvonok.connect(STRANGER_TEACHER)
    assert (await refused(stranger, OpenDirect(person=ANYA))).code == "policy.forbidden"
    # The demo school's admins see the attempt, and so do her own school's.
    for school, reader in ((SCHOOL, ADMIN), (OTHER_SCHOOL, STRANGER_TEACHER)):
        [row] = [e for e in await audit(zvonok, school, reader) if e["action"] == "roster.refused"]
        assert row["actor"] == STRANGER_TEACHER
        assert any(issue.startswith("guardians[0].child") for issue in row["details"]["issues"])


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

    assert_refused(reply, "people[2]", "people[3]")
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

    # Each is refused as listed, and as placed in her school.
    assert_refused(
        reply,
        "people[2]",
        "people[3]",
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

    assert_refused(reply, "people[2]", "guardians[0].parents[0]")
    assert await children_of(zvonok, pupil) == []


async def test_a_refused_upload_writes_nothing_even_where_it_was_allowed(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    attack = second_school()
    attack["schools"][0]["name"] = "Школа № 2 (новое имя)"  # hers to change
    attack["people"].append({**demo_person(ADMIN), "first_name": "Чужое"})

    reply = await upload(zvonok, STRANGER_TEACHER, attack)

    assert_refused(reply, "people[2]")
    assert [e["action"] for e in await audit(zvonok, OTHER_SCHOOL, STRANGER_TEACHER)] == [
        "roster.refused"
    ]
    again = await upload(zvonok, STRANGER_TEACHER, second_school())
    assert again.status == 200, again.body
    assert again.body["summary"] == "no changes"  # the new name was never written


async def test_an_allowed_upload_is_audited_in_every_school_it_touches(
    zvonok: Running,
) -> None:
    """A teacher of the demo school who also teaches at the second school,
    and is the mother of one of its pupils (the operator put her there).
    The second school may take her off its staff, and the demo school is
    told; her record, and her child's record and guardians, belong to both
    schools, so what the file says of them is kept as stored; when her child
    leaves the second school, the demo school, his mother's, is told too."""
    mother = demo_person(TEACHER_5B_ONLY)
    shared = second_school()
    shared["people"].append(copy.deepcopy(mother))
    shared["schools"][0]["staff"].append({"oid": TEACHER_5B_ONLY, "roles": ["teacher"]})
    shared["guardians"] = [{"child": STRANGER_STUDENT, "parents": [TEACHER_5B_ONLY]}]
    await zvonok.app[STORE].import_roster(parse_roster(shared))
    document = second_school()
    document["people"].append({**mother, "first_name": "Другая"})
    document["people"][1]["first_name"] = "Павел"
    document["guardians"] = [{"child": STRANGER_STUDENT, "parents": []}]

    reply = await upload(zvonok, STRANGER_TEACHER, document)

    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "staff: 1 removed"
    kept = [note.split(":", 1)[0] for note in reply.body["kept"]]
    assert kept == ["people[1]", "people[2]", "guardians[0]"]
    assert await children_of(zvonok, TEACHER_5B_ONLY) == [STRANGER_STUDENT]
    assert (await profile(zvonok, TEACHER_5B_ONLY))["person"]["first_name"] == mother["first_name"]
    change = {
        "table": "staff",
        "change": "removed",
        "row": {"oid": TEACHER_5B_ONLY, "role": "teacher"},
    }
    for school, reader in ((SCHOOL, ADMIN), (OTHER_SCHOOL, STRANGER_TEACHER)):
        entries = await audit(zvonok, school, reader)
        assert [e["action"] for e in entries] == ["roster.import", "roster.change"]
        assert entries[1]["details"] == change
        assert entries[1]["actor"] == STRANGER_TEACHER

    document["schools"][0]["classes"][0]["students"] = []
    reply = await upload(zvonok, STRANGER_TEACHER, document)

    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "class_members: 1 removed"
    [left] = [e for e in await audit(zvonok, SCHOOL, ADMIN) if e["target"] == STRANGER_STUDENT]
    assert left["details"]["table"] == "class_members"


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


# -- a person on no roster is nobody's to claim (issue 12, F2) ----------------------

BORIS_FATHER, BORIS_MOTHER = 1000100203, 1000100204  # Boris is their only child
TWIN_OF_ANYA = 1000100128  # in 5Б: Anya's parents stay on the demo school's roster


async def leave_demo_school(zvonok: Running, oid: int) -> None:
    """The demo school's admin takes a pupil off its roster; the file still
    lists her record and her guardians, as a hand-edited file would."""
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    for klass in roster["schools"][0]["classes"]:
        if oid in klass["students"]:
            klass["students"].remove(oid)
    reply = await upload(zvonok, ADMIN, roster)
    assert reply.status == 200, reply.body
    rows = await zvonok.app[STORE].roster_rows()
    assert not [m for m in rows.members if m.oid == oid]


async def stored(zvonok: Running) -> RosterRows:
    return await zvonok.app[STORE].roster_rows()


def guardians_of(rows: RosterRows, child: int) -> list[int]:
    return sorted(link.parent for link in rows.guardians if link.child == child)


async def test_a_child_who_left_school_is_not_claimed_then_taken(zvonok: Running) -> None:
    """The two-step takeover: enrol a child who studies nowhere now (so on
    no school's roster), aged to an adult; then, as her school, replace her
    guardians.  The first step is refused: an admin brings into her school
    only new people and people already on its roster, so nobody becomes
    hers by being nobody's."""
    await with_second_school(zvonok)
    await leave_demo_school(zvonok, BORIS)
    before = await stored(zvonok)
    boris = demo_person(BORIS)
    claim = second_school()
    claim["people"] += [
        {**boris, "birth_date": "1990-01-01"},
        demo_person(BORIS_FATHER),
        demo_person(BORIS_MOTHER),
    ]
    claim["schools"][0]["classes"][0]["students"].append(BORIS)
    claim["guardians"] = [{"child": BORIS, "parents": [BORIS_FATHER, BORIS_MOTHER]}]

    reply = await upload(zvonok, STRANGER_TEACHER, claim)

    assert_refused(reply, "schools[0].classes[0].students[1]")
    take = second_school()
    take["people"].append(boris)
    take["guardians"] = [{"child": BORIS, "parents": [STRANGER_TEACHER]}]
    reply = await upload(zvonok, STRANGER_TEACHER, take)
    # What a file says of a person on no roster is not read: her record and
    # guardians stay as they are until the operator's import changes them.
    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "no changes"
    assert [kept.split(":", 1)[0] for kept in reply.body["kept"]] == ["people[2]", "guardians[0]"]
    after = await stored(zvonok)
    assert after.people[BORIS] == before.people[BORIS]
    assert guardians_of(after, BORIS) == [BORIS_FATHER, BORIS_MOTHER]
    assert not [m for m in after.members if m.oid == BORIS]


async def test_a_child_whose_family_is_at_another_school_belongs_to_it(zvonok: Running) -> None:
    """Anya left the demo school, but her parents are still on its roster
    (her twin studies there): she is that school's child, so another school's
    upload that names her is refused and the demo school hears of it."""
    await with_second_school(zvonok)
    await leave_demo_school(zvonok, ANYA)
    before = await stored(zvonok)
    mother, father = guardians_of(before, ANYA)
    claim = second_school()
    claim["people"] += [
        {**demo_person(ANYA), "birth_date": "1990-01-01"},
        demo_person(mother),
        demo_person(father),
    ]
    claim["schools"][0]["classes"][0]["students"].append(ANYA)
    claim["guardians"] = [{"child": ANYA, "parents": [mother, father]}]

    reply = await upload(zvonok, STRANGER_TEACHER, claim)

    assert_refused(
        reply,
        "people[2]",
        "people[3]",
        "people[4]",
        "schools[0].classes[0].students[1]",
        "guardians[0].child",
    )
    after = await stored(zvonok)
    assert after.people[ANYA] == before.people[ANYA]
    assert not [m for m in after.members if m.oid == ANYA]
    [row] = [e for e in await audit(zvonok, SCHOOL, ADMIN) if e["action"] == "roster.refused"]
    assert row["actor"] == STRANGER_TEACHER


async def test_a_person_on_no_roster_is_not_brought_in_as_a_parent(zvonok: Running) -> None:
    """Naming Boris's father, on no roster since Boris left, the parent of a
    new pupil would make him hers, and the next upload could rewrite him."""
    await with_second_school(zvonok)
    await leave_demo_school(zvonok, BORIS)
    newborn = 2000000103
    document = second_school()
    document["people"] += [
        demo_person(BORIS_FATHER),
        {"oid": newborn, "last_name": "Новый", "first_name": "Сын", "birth_date": "2019-01-01"},
    ]
    document["schools"][0]["classes"][0]["students"].append(newborn)
    document["guardians"] = [{"child": newborn, "parents": [BORIS_FATHER]}]

    reply = await upload(zvonok, STRANGER_TEACHER, document)

    assert_refused(reply, "guardians[0].parents[0]")
    after = await stored(zvonok)
    assert newborn not in after.people
    assert not [
        link for link in after.guardians if link.parent == BORIS_FATHER and link.child != BORIS
    ]


# -- a refusal tells nothing stored (issue 12, F3) ----------------------------------


async def test_a_right_guess_is_answered_as_a_wrong_one(zvonok: Running) -> None:
    """Listing another school's child with her stored values, or with other
    ones, gets the same refusal, and both attempts are audited there: an
    admin cannot confirm a child's birth date or parents by guessing."""
    await with_second_school(zvonok)
    anya = demo_person(ANYA)
    parents = guardians_of(await stored(zvonok), ANYA)
    answers = []
    for record, guessed in (
        (anya, parents),  # right
        ({**anya, "birth_date": "2016-02-15"}, parents),  # a wrong birth date
        (anya, parents[:1]),  # wrong parents
    ):
        document = second_school()
        document["people"] += [record, *(demo_person(oid) for oid in parents)]
        document["guardians"] = [{"child": ANYA, "parents": guessed}]
        answers.append(await upload(zvonok, STRANGER_TEACHER, document))

    right, *wrong = answers
    assert_refused(right, "people[2]", "people[3]", "people[4]", "guardians[0].child")
    for other in wrong:
        assert (other.status, other.body) == (right.status, right.body)
    refused = [e for e in await audit(zvonok, SCHOOL, ADMIN) if e["action"] == "roster.refused"]
    assert len(refused) == 3


async def test_refusals_name_only_what_the_file_sent(zvonok: Running) -> None:
    """Issues name the record and the field by what the uploader sent (its
    place in the file, the OID she wrote), never a stored value: not the
    other school, not a guardian she did not name, not a stored name or date."""
    await with_second_school(zvonok)
    rows = await stored(zvonok)
    attack = second_school()
    attack["people"] += [
        {**demo_person(ANYA), "first_name": "Угадай"},
        demo_person(TEACHER_5B_ONLY),
        demo_person(1000100117),
    ]
    attack["schools"][0]["classes"][0]["students"].append(1000100117)
    attack["schools"][0]["staff"].append({"oid": TEACHER_5B_ONLY, "roles": ["teacher"]})
    attack["guardians"] = [{"child": ANYA, "parents": [STRANGER_TEACHER]}]
    taken = second_school()
    taken["schools"][0]["classes"][0]["id"] = "sosh-1-5a"  # the demo school's class

    issues: list[str] = []
    for document in (attack, taken):
        reply = await upload(zvonok, STRANGER_TEACHER, document)
        assert reply.status in (403, 422), reply.body
        issues += reply.body["error"]["issues"]

    said = " ".join(issues)
    sent = json.dumps([attack, taken], ensure_ascii=False)
    stored_values = {"5Б"} | {str(link.parent) for link in rows.guardians}
    for oid in (ANYA, TEACHER_5B_ONLY, 1000100117):
        record = rows.people[OID(oid)]
        stored_values |= {record.last_name, record.first_name, record.birth_date.isoformat()}
    leaked = sorted(
        v for v in stored_values if v in said.replace("sosh-1-5a", "") and v not in sent
    )
    assert leaked == [], issues
    assert SCHOOL not in said.replace("sosh-1-5a", ""), issues  # the class's school is not named
