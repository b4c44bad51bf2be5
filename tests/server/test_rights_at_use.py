"""Rights are asked of the roster when they are used, never kept.

A class teacher who is also a parent is taken off the staff by a roster
upload (she stays a parent); from the next request on she reads no report
sent to her, resolves none, downloads no attendance of her past lesson,
hosts her live lesson no more and moderates nothing, and an admin who lost
the role reads no audit log or settings; the same after an operator's
import that the roster poll brings in (docs/safety.md, "Roster changes take
import pytest

pytestmark = pytest.mark.both_engines
effect at once"; issue 12, point 4).  And a group's non-owner is told
``chat.not_owner`` (issue 12, point 9).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from server.appkeys import STORE
from server.clock import ManualClock
from server.roster.demo import DEMO_ROSTER
from server.roster.document import parse_roster
from signaling import rooms as r
from signaling.chat import ChangeMembers, ChatRemoved
from signaling.client import Client, RequestError
from signaling.messages import Message
from signaling.safety import CreateReport, ListReports, Mute, ReportInfo, ReportList, ResolveReport
from tests.conftest import Running, ServerFactory
from tests.server.test_chats_ws import CLASS_5A, PARENTS_5A, chat_events, next_of, send
from tests.server.test_http_chats import bearer, call
from tests.server.test_rooms_ws import FakeMedia
from tests.server.test_safety_ws import make_group

SCHOOL = "sosh-1"
CLASS = "sosh-1-5a"
ADMIN = 1000100001  # admin only: makes the uploads
TEACHER = 1000100003  # class teacher of 5A; made a parent of ROMA below
HEAD = 1000100002  # teacher and admin; loses the admin role
MATH = 1000100004  # a subject teacher of 5A, its class teacher after the change
ANYA, BORIS, ROMA = 1000100101, 1000100102, 1000100103  # students of 5A
PARENT_OF_ROMA = 1000100205
TIMEOUT = 10.0


def demo() -> dict[str, Any]:
    roster: dict[str, Any] = json.loads(DEMO_ROSTER.read_text("utf-8"))
    for link in roster["guardians"]:
        if link["child"] == ROMA:
            link["parents"].append(TEACHER)  # the class teacher is Roma's mother too
    return roster


def off_staff(before: dict[str, Any]) -> dict[str, Any]:
    """The roster with TEACHER off the staff (still Roma's parent) and HEAD
    a teacher, no longer an admin."""
    roster = copy.deepcopy(before)
    school = roster["schools"][0]
    school["staff"] = [s for s in school["staff"] if s["oid"] != TEACHER]
    for staff in school["staff"]:
        if staff["oid"] == HEAD:
            staff["roles"] = ["teacher"]
    for klass in school["classes"]:
        if klass.get("class_teacher") == TEACHER:
            klass["class_teacher"] = MATH
        klass["subject_teachers"] = [
            t for t in klass.get("subject_teachers", []) if t["oid"] != TEACHER
        ]
    return roster


async def upload(zvonok: Running, roster: dict[str, Any]) -> None:
    url = f"{zvonok.base}/api/v1/admin/roster"
    reply = await call(zvonok, "POST", url, ADMIN, data=json.dumps(roster).encode())
    assert reply.status == 200, reply.body


async def refused(client: Client, message: Message) -> str:
    try:
        await client.request(message)
    except RequestError as refusal:
        return refusal.code
    raise AssertionError(f"{message.TYPE} was not refused")


async def report_texts(zvonok: Running, client: Client, oid: int) -> tuple[list[int], list[int]]:
    """The ids of the reports listed to ``oid`` as a moderator, over the socket and HTTP."""
    listed = await client.request(ListReports())
    assert isinstance(listed, ReportList)
    reply = await call(zvonok, "GET", f"{zvonok.base}/api/v1/reports", oid)
    assert reply.status == 200
    return [x["id"] for x in listed.reports], [x["id"] for x in reply.body["reports"]]


async def csv_status(zvonok: Running, url: str, oid: int) -> tuple[int, str | None]:
    """The status of an attendance download, and the error code if refused."""
    async with zvonok.http.get(url, headers=bearer(zvonok, oid)) as response:
        if response.status == 200:
            assert response.content_type == "text/csv"
            return 200, None
        return response.status, (await response.json())["error"]["code"]


async def lesson(teacher: Client, title: str) -> str:
    room = await teacher.start_room(CLASS, "lesson", title)
    await teacher.join_room(room["id"])
    return str(room["id"])


async def test_a_teacher_taken_off_the_staff_by_an_upload_keeps_no_right(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, media=FakeMedia())
    before = demo()
    await upload(zvonok, before)
    teacher, anya, boris = [await zvonok.connect(oid) for oid in (TEACHER, ANYA, BORIS)]
    head = await zvonok.connect(HEAD)

    # Before: she is sent a child's report and reads its text ...
    bad = await send(boris, CLASS_5A, "ты глупая")
    info = await anya.request(CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="!"))
    assert isinstance(info, ReportInfo)
    report = info.report["id"]
    assert await report_texts(zvonok, teacher, TEACHER) == ([report], [report])
    # ... reads her past lesson's attendance, hosts a live one, moderates
    # the class parents' chat; the head reads the audit log.
    past = await lesson(teacher, "Вчерашний урок")
    await teacher.room_request(r.HostEnd(room=past))
    csv_url = f"{zvonok.base}/api/v1/rooms/{past}/attendance.csv"
    assert await csv_status(zvonok, csv_url, TEACHER) == (200, None)
    live = await lesson(teacher, "Урок сейчас")
    await anya.join_room(live)
    await teacher.room_request(r.HostMute(room=live, person=ANYA, source="microphone"))
    await teacher.request(Mute(chat=PARENTS_5A, person=PARENT_OF_ROMA, seconds=60))
    audit = f"{zvonok.base}/api/v1/schools/{SCHOOL}/audit"
    settings = f"{zvonok.base}/api/v1/schools/{SCHOOL}/settings"
    assert (await call(zvonok, "GET", audit, HEAD)).status == 200
    assert (await call(zvonok, "GET", settings, HEAD)).status == 200

    await upload(zvonok, off_staff(before))

    # Reports: none listed to her, over the socket or HTTP; she resolves none.
    assert await report_texts(zvonok, teacher, TEACHER) == ([], [])
    resolve = ResolveReport(report=report, outcome="dismissed")
    assert await refused(teacher, resolve) == "report.not_found"
    resolve_url = f"{zvonok.base}/api/v1/reports/{report}/resolve"
    reply = await call(zvonok, "POST", resolve_url, TEACHER, json={"outcome": "dismissed"})
    assert (reply.status, reply.code) == (404, "report.not_found")
    # Attendance of her past lesson.
    assert await csv_status(zvonok, csv_url, TEACHER) == (403, "room.forbidden")
    # Hosting the lesson she is in.
    host_mute = r.HostMute(room=live, person=ANYA, source="camera")
    assert await refused(teacher, host_mute) == "room.not_host"
    assert await refused(teacher, r.HostRemove(room=live, person=ANYA)) == "room.not_host"
    assert await refused(teacher, r.HostEnd(room=live)) == "room.not_host"
    # Moderating the parents' chat she is still a member of, as a parent.
    mute = Mute(chat=PARENTS_5A, person=PARENT_OF_ROMA, seconds=60)
    assert await refused(teacher, mute) == "moderation.not_moderator"
    # The head is no admin: no audit log, no settings.
    for url in (audit, settings):
        denied = await call(zvonok, "GET", url, HEAD)
        assert (denied.status, denied.code) == (403, "policy.forbidden")
    await head.close()

    # The report goes with the roster: the new class teacher has it, and resolves it.
    math = await zvonok.connect(MATH)
    assert await report_texts(zvonok, math, MATH) == ([report], [report])
    resolved = await math.request(resolve)
    assert isinstance(resolved, ReportInfo) and resolved.report["status"] == "resolved"


async def test_an_operators_import_takes_the_rights_away_through_the_roster_poll(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    """``zvonok roster import`` writes the store from another process; the
    server hears of it by the roster poll, and the kept profiles go then."""
    zvonok = await make_server(clock, media=FakeMedia())
    before = demo()
    await upload(zvonok, before)
    teacher, boris, anya = [await zvonok.connect(oid) for oid in (TEACHER, BORIS, ANYA)]
    bad = await send(boris, CLASS_5A, "дурак")
    info = await anya.request(CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="!"))
    assert isinstance(info, ReportInfo)
    assert await report_texts(zvonok, teacher, TEACHER) == ([info.report["id"]],) * 2
    live = await lesson(teacher, "Урок")

    # As the CLI does it: straight into the store, not through this server.
    await zvonok.app[STORE].import_roster(parse_roster(off_staff(before)))
    # The poll announces it: she leaves the class chat (bounded wait).
    while (await next_of(teacher, ChatRemoved, timeout=TIMEOUT)) != ChatRemoved(chat=CLASS_5A):
        pass
    assert await report_texts(zvonok, teacher, TEACHER) == ([], [])
    assert await refused(teacher, r.HostEnd(room=live)) == "room.not_host"


async def test_a_meetings_host_taken_off_the_staff_waits_as_a_parent(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    """Hosting lets one skip a meeting's waiting room; being the stored host
    does not, once the roster says she is only a parent of the class."""
    zvonok = await make_server(clock, media=FakeMedia())
    before = demo()
    await upload(zvonok, before)
    teacher = await zvonok.connect(TEACHER)
    meeting = await teacher.start_room(CLASS, "meeting", "Родительское собрание")
    entered = await teacher.join_room(meeting["id"])
    assert not entered.waiting
    await teacher.leave_room(meeting["id"])

    await upload(zvonok, off_staff(before))
    again = await teacher.join_room(meeting["id"])
    assert again.waiting and again.you["role"] == "parent"


async def test_a_groups_non_owner_is_told_chat_not_owner(zvonok: Running) -> None:
    owner, member = await zvonok.connect(MATH), await zvonok.connect(ANYA)
    other_teacher = await zvonok.connect(TEACHER)
    group = await make_group(owner, [ANYA, BORIS, TEACHER])
    for client in (member, other_teacher):
        for change in (
            ChangeMembers(chat=group, add=[ROMA], remove=[]),
            ChangeMembers(chat=group, add=[], remove=[BORIS]),
        ):
            assert await refused(client, change) == "chat.not_owner"
    # The roster's chats keep theirs, and a stranger to the group sees none.
    assert await refused(other_teacher, ChangeMembers(chat=CLASS_5A, add=[ROMA])) == (
        "chat.members_fixed"
    )
    roma = await zvonok.connect(ROMA)
    assert await refused(roma, ChangeMembers(chat=group, add=[ROMA])) == "chat.not_found"
    # Nothing changed: the group's next event is the owner's own change.
    await owner.request(ChangeMembers(chat=group, add=[], remove=[BORIS]))
    made, changed = await chat_events(owner, group, 2)
    assert (made.seq, changed.seq) == (1, 2)
    assert changed.data == {"added": [], "removed": [BORIS]}
