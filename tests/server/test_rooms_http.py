"""The room HTTP API (/api/v1/rooms) over a real socket, next to WebSocket participants."""

from __future__ import annotations

import csv
import io

import pytest

from server.clock import ManualClock
from server.model.rooms import iso_utc
from tests.conftest import Running, ServerFactory
from tests.server.test_chats_ws import CLASS_TEACHER_5A
from tests.server.test_http_chats import bearer, call
from tests.server.test_rooms_ws import (
    ADMIN,
    ANYA,
    BORIS,
    CLASS_5A,
    PARENT_OF_BORIS,
    STUDENT_5B,
    FakeMedia,
    change,
    enter,
    lesson,
)

pytestmark = pytest.mark.both_engines

START = 1_800_000_000.0  # the manual clock's wall time at the start


@pytest.fixture
async def zvonok(make_server: ServerFactory, clock: ManualClock) -> Running:
    return await make_server(clock, media=FakeMedia())


def rooms_url(zvonok: Running, tail: str = "") -> str:
    return f"{zvonok.base}/api/v1/rooms{tail}"


async def csv_of(zvonok: Running, room: str, oid: int) -> tuple[int, str, str]:
    """Status, content type and text of a room's attendance.csv (its BOM checked)."""
    url = rooms_url(zvonok, f"/{room}/attendance.csv")
    async with zvonok.http.get(url, headers=bearer(zvonok, oid)) as response:
        body = await response.read()
        if response.status == 200:
            assert body.startswith(b"\xef\xbb\xbf")  # for Excel: the names are UTF-8
        return response.status, response.headers["Content-Type"], body.decode("utf-8-sig")


async def test_rooms_are_started_listed_and_read_by_whom_the_policy_allows(
    zvonok: Running,
) -> None:
    body = {"class": CLASS_5A, "kind": "lesson", "title": "Окружающий мир"}
    made = await call(zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body)
    assert made.status == 201, made.body
    room = made.body["room"]
    assert (room["kind"], room["title"], room["state"], room["host"]) == (
        "lesson",
        "Окружающий мир",
        "open",
        CLASS_TEACHER_5A,
    )
    meeting = {
        "class": CLASS_5A,
        "kind": "meeting",
        "title": "Собрание",
        "starts_at": START + 86400,
    }
    planned = await call(zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=meeting)
    assert planned.status == 201 and planned.body["room"]["state"] == "scheduled"

    denied = await call(zvonok, "POST", rooms_url(zvonok), ANYA, json=body)
    assert (denied.status, denied.code) == (403, "room.forbidden")
    for bad in ({**body, "kind": "webinar"}, {**body, "title": ""}, {**body, "starts_at": "9:00"}):
        reply = await call(zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=bad)
        assert (reply.status, reply.code) == (400, "request.invalid"), bad
    unknown = {**body, "class": "sosh-9-9z"}
    reply = await call(zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=unknown)
    assert (reply.status, reply.code) == (400, "room.invalid")

    params = {"class": CLASS_5A}
    student = await call(zvonok, "GET", rooms_url(zvonok), ANYA, params=params)
    assert [r["id"] for r in student.body["rooms"]] == [room["id"]]
    parent = await call(zvonok, "GET", rooms_url(zvonok), PARENT_OF_BORIS)
    assert [r["id"] for r in parent.body["rooms"]] == [planned.body["room"]["id"]]
    teacher = await call(zvonok, "GET", rooms_url(zvonok), CLASS_TEACHER_5A, params=params)
    assert len(teacher.body["rooms"]) == 2
    other = await call(zvonok, "GET", rooms_url(zvonok), STUDENT_5B, params=params)
    assert other.body["rooms"] == []

    read = await call(zvonok, "GET", rooms_url(zvonok, f"/{room['id']}"), ANYA)
    assert read.status == 200 and read.body["room"]["id"] == room["id"]
    outsider = await call(zvonok, "GET", rooms_url(zvonok, f"/{room['id']}"), STUDENT_5B)
    assert (outsider.status, outsider.code) == (403, "room.forbidden")
    missing = await call(zvonok, "GET", rooms_url(zvonok, "/no-such-room"), ANYA)
    assert (missing.status, missing.code) == (404, "room.not_found")
    nobody = await call(zvonok, "GET", rooms_url(zvonok))
    assert (nobody.status, nobody.code) == (401, "auth.missing")


async def test_the_host_downloads_attendance_as_csv(zvonok: Running, clock: ManualClock) -> None:
    teacher, room = await lesson(zvonok)  # the host enters at START
    clock.advance(60)
    anya = await enter(zvonok, room, ANYA)  # START + 60
    clock.advance(600)
    await anya.leave_room(room)  # START + 660
    clock.advance(30)
    await anya.join_room(room)  # START + 690
    await enter(zvonok, room, BORIS)
    clock.advance(100)  # now START + 790; the live count is in the room's info
    info = await call(zvonok, "GET", rooms_url(zvonok, f"/{room}"), ANYA)
    assert info.body["room"]["participants"] == 3

    status, content_type, text = await csv_of(zvonok, room, CLASS_TEACHER_5A)
    assert (status, content_type) == (200, "text/csv; charset=utf-8")
    assert text.splitlines()[0] == "person_oid,full_name,role,joined_at,left_at,seconds"
    rows = list(csv.DictReader(io.StringIO(text)))
    got = [
        (
            int(r["person_oid"]),
            r["full_name"],
            r["role"],
            r["joined_at"],
            r["left_at"],
            int(r["seconds"]),
        )
        for r in rows
    ]
    t = iso_utc
    assert got == [
        (CLASS_TEACHER_5A, "Морозова Ирина Александровна", "host", t(START), "", 790),
        (ANYA, "Белов Артём Дмитриевич", "student", t(START + 60), t(START + 660), 600),
        (ANYA, "Белов Артём Дмитриевич", "student", t(START + 690), "", 100),
        (BORIS, "Гусев Степан Николаевич", "student", t(START + 690), "", 100),
    ]
    assert t(START + 60) == "2027-01-15T08:01:00Z"

    # The school's admins read it too; a student and a parent do not.
    assert (await csv_of(zvonok, room, ADMIN))[0] == 200
    for oid in (ANYA, PARENT_OF_BORIS):
        denied = await call(zvonok, "GET", rooms_url(zvonok, f"/{room}/attendance.csv"), oid)
        assert (denied.status, denied.code) == (403, "room.forbidden")

    # A grace that runs out ends the interval when the connection did.
    await anya.close()
    await change(teacher, ANYA, "away")
    clock.advance(31)
    await change(teacher, ANYA, "left")
    _, _, text = await csv_of(zvonok, room, CLASS_TEACHER_5A)
    last = [r for r in csv.DictReader(io.StringIO(text)) if int(r["person_oid"]) == ANYA][-1]
    assert (last["left_at"], last["seconds"]) == (t(START + 790), "100")


async def test_a_start_retried_with_its_idempotency_key_returns_the_first_room(
    zvonok: Running,
) -> None:
    body = {"class": CLASS_5A, "kind": "meeting", "title": "Собрание 5А"}
    headers = {"Idempotency-Key": "meeting-1"}
    made = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body, headers=headers
    )
    again = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body, headers=headers
    )
    assert (made.status, again.status) == (201, 200)
    assert again.body["room"] == made.body["room"]
    listed = await call(zvonok, "GET", rooms_url(zvonok), CLASS_TEACHER_5A)
    assert [x["id"] for x in listed.body["rooms"]] == [made.body["room"]["id"]]
    other = {**body, "title": "Другое собрание"}
    conflict = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=other, headers=headers
    )
    assert (conflict.status, conflict.body["error"]["code"]) == (409, "idempotency.conflict")
    too_long = {"Idempotency-Key": "k" * 129}
    refused = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body, headers=too_long
    )
    assert (refused.status, refused.body["error"]["code"]) == (400, "request.invalid")


async def test_a_masked_title_retried_with_its_key_returns_the_first_room(
    zvonok: Running,
) -> None:
    """In a school that masks, the stored title is not the asked one: a retry
    is compared by what it asked, not by what was stored."""
    admin = 1000100001
    settings = await call(
        zvonok,
        "PUT",
        f"{zvonok.base}/api/v1/schools/sosh-1/settings",
        admin,
        json={"filter": "mask"},
    )
    assert settings.status == 200, settings.body
    body = {"class": CLASS_5A, "kind": "lesson", "title": "Урок, блядь, математики"}
    headers = {"Idempotency-Key": "masked-1"}
    made = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body, headers=headers
    )
    assert made.status == 201, made.body
    assert "блядь" not in made.body["room"]["title"]
    again = await call(
        zvonok, "POST", rooms_url(zvonok), CLASS_TEACHER_5A, json=body, headers=headers
    )
    assert again.status == 200, again.body
    assert again.body["room"] == made.body["room"]
