"""Every refused roster upload is audited where it reached, and refusals are
bounded, over HTTP (issue 12, point 1, F4).

A refusal that reaches for a school leaves a ``roster.refused`` row in that
school's audit log, whatever refused it: a school the uploader does not
administer, a class id of another school, a validation problem in another
school's person.  A flood of uploads is cut off by a per-person rate
(``rate.limited``), so it cannot grow the audit log without bound.
"""

from __future__ import annotations

import json
from typing import Any

from server.clock import ManualClock
from server.config import SafetyConfig
from server.roster.demo import DEMO_ROSTER
from tests.conftest import Running
from tests.server.test_roster_upload_scope import SCHOOL, audit, demo_person, upload
from tests.server.test_safety_ws import (
    ADMIN,
    ANYA,
    CLASS_TEACHER_5A,
    OTHER_SCHOOL,
    STRANGER_TEACHER,
    second_school,
    with_second_school,
)

UPLOAD_BURST = SafetyConfig().roster_upload_burst  # the tests run the defaults


async def refusals(zvonok: Running, school: str, reader: int) -> list[dict[str, Any]]:
    return [e for e in await audit(zvonok, school, reader) if e["action"] == "roster.refused"]


async def test_a_file_for_a_school_she_does_not_administer_is_audited_there(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))

    for uploader in (STRANGER_TEACHER, CLASS_TEACHER_5A):  # another school's admin; a teacher
        reply = await upload(zvonok, uploader, roster)
        assert (reply.status, reply.code) == (403, "roster.outside_school"), reply.body
        assert [i.split(":", 1)[0] for i in reply.body["error"]["issues"]] == ["schools[0].id"]

    rows = await refusals(zvonok, SCHOOL, ADMIN)
    assert [row["actor"] for row in rows] == [STRANGER_TEACHER, CLASS_TEACHER_5A]
    assert rows[0]["details"]["code"] == "roster.outside_school"
    assert [row["actor"] for row in await refusals(zvonok, OTHER_SCHOOL, STRANGER_TEACHER)] == [
        STRANGER_TEACHER
    ]


async def test_a_class_id_of_another_school_is_audited_in_both(zvonok: Running) -> None:
    await with_second_school(zvonok)
    document = second_school()
    document["schools"][0]["classes"][0]["id"] = "sosh-1-5a"

    reply = await upload(zvonok, STRANGER_TEACHER, document)

    assert (reply.status, reply.code) == (422, "roster.invalid"), reply.body
    [issue] = reply.body["error"]["issues"]
    assert issue.startswith("schools[0].classes[0].id: class sosh-1-5a already belongs to")
    for school, reader in ((SCHOOL, ADMIN), (OTHER_SCHOOL, STRANGER_TEACHER)):
        [row] = await refusals(zvonok, school, reader)
        assert (row["actor"], row["details"]["code"]) == (STRANGER_TEACHER, "roster.invalid")


async def test_an_invalid_file_is_audited_in_the_schools_whose_records_it_names(
    zvonok: Running,
) -> None:
    """A validation problem in another school's child is an attempt on her;
    a typo in one's own pupil is audited in one's own school only."""
    await with_second_school(zvonok)
    theirs = second_school()
    theirs["people"].append({**demo_person(ANYA), "birth_date": "2016-02-30"})
    own = second_school()
    own["people"][1]["birth_date"] = "2015-02-30"  # her own pupil

    for document, path in ((theirs, "people[2].birth_date"), (own, "people[1].birth_date")):
        reply = await upload(zvonok, STRANGER_TEACHER, document)
        assert (reply.status, reply.code) == (422, "roster.invalid"), reply.body
        assert [i.split(":", 1)[0] for i in reply.body["error"]["issues"]] == [path]

    [row] = await refusals(zvonok, SCHOOL, ADMIN)
    assert row["details"]["issues"][0].startswith("people[2].birth_date")
    mine = await refusals(zvonok, OTHER_SCHOOL, STRANGER_TEACHER)
    assert [r["details"]["issues"][0].split(":", 1)[0] for r in mine] == [
        "people[2].birth_date",
        "people[1].birth_date",
    ]


async def test_a_flood_of_refused_uploads_is_cut_off_and_its_audit_bounded(
    zvonok: Running, clock: ManualClock
) -> None:
    await with_second_school(zvonok)
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    for _ in range(UPLOAD_BURST):
        reply = await upload(zvonok, STRANGER_TEACHER, roster)
        assert reply.code == "roster.outside_school", reply.body

    flood = [await upload(zvonok, STRANGER_TEACHER, roster) for _ in range(5)]

    for reply in flood:
        assert (reply.status, reply.code) == (429, "rate.limited"), reply.body
        assert int(reply.headers["Retry-After"]) >= 1
    assert len(await refusals(zvonok, SCHOOL, ADMIN)) == UPLOAD_BURST
    # Others are not held up by her flood, and time gives her a try back.
    ok = await upload(zvonok, ADMIN, roster)
    assert ok.status == 200, ok.body
    clock.advance(float(flood[-1].body["error"]["retry_after"]))
    again = await upload(zvonok, STRANGER_TEACHER, roster)
    assert again.code == "roster.outside_school", again.body
    assert len(await refusals(zvonok, SCHOOL, ADMIN)) == UPLOAD_BURST + 1
