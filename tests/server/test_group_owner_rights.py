"""A group's owner has its powers only while she is staff of its school.

A teacher makes a group (and hosts a lesson, whose chat is a group she
owns); a roster upload takes her off the staff, and she stays on the
roster as a parent of a student of the school, so she stays a member of
both chats.  From the next request on she moderates neither (delete, mute,
unmute, pin, announcements-only, remove), over the socket or HTTP, changes
no member, is sent no new report, and lists and resolves none of those sent
to her before; the school's admin still does all of it (docs/safety.md,
"Moderation").  Over real sockets against the real app.
"""

from __future__ import annotations

from typing import Any

from server.clock import ManualClock
from signaling.chat import ChangeMembers, ChatInfo
from signaling.client import Client
from signaling.messages import Message, Ping, Pong
from signaling.safety import (
    CreateReport,
    ModDelete,
    Mute,
    Pin,
    Remove,
    ReportInfo,
    ReportNew,
    ResolveReport,
    SetAnnouncements,
    Unmute,
)
from tests.conftest import Running, ServerFactory
from tests.server.test_chats_ws import send
from tests.server.test_http_chats import call
from tests.server.test_rights_at_use import (
    ADMIN,
    ANYA,
    BORIS,
    PARENT_OF_ROMA,
    ROMA,
    TEACHER,
    demo,
    lesson,
    off_staff,
    refused,
    report_texts,
    upload,
)
from tests.server.test_rooms_ws import FakeMedia
from tests.server.test_safety_ws import make_group


async def events_until_pong(client: Client) -> list[Message]:
    """The events queued for ``client`` before the answer to a ping.

    A report's ``report.new`` is queued on its recipients' connections before
    ``report.create`` is answered, so a ping sent after that answer comes
    back behind it, if it was sent at all.
    """
    assert isinstance(await client.request(Ping()), Pong)
    seen: list[Message] = []
    while True:
        try:
            seen.append(await client.next_event(timeout=0))
        except TimeoutError:
            return seen


def moderator_actions(chat: str, message_id: int, person: int) -> list[Message]:
    return [
        ModDelete(chat=chat, message_id=message_id),
        Mute(chat=chat, person=person, seconds=60),
        Unmute(chat=chat, person=person),
        Pin(chat=chat, message_id=message_id),
        Pin(chat=chat, message_id=None),
        SetAnnouncements(chat=chat, on=True),
        Remove(chat=chat, person=person),
    ]


HTTP_ACTIONS: list[dict[str, Any]] = [
    {"action": "delete"},
    {"action": "mute", "seconds": 60},
    {"action": "unmute"},
    {"action": "pin"},
    {"action": "unpin"},
    {"action": "announcements", "on": True},
    {"action": "remove"},
]


async def test_a_group_owner_off_the_staff_moderates_nothing_and_changes_no_member(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok: Running = await make_server(clock, media=FakeMedia())
    before = demo()  # TEACHER is Roma's mother as well as 5A's class teacher
    await upload(zvonok, before)
    teacher, anya, boris = [await zvonok.connect(oid) for oid in (TEACHER, ANYA, BORIS)]
    group = await make_group(teacher, [ANYA, BORIS, ROMA])
    live = await lesson(teacher, "Урок")
    joined = await anya.join_room(live)
    assert joined.chat is not None
    lesson_chat = joined.chat

    # Before: she owns both chats and moderates them.
    first = await send(boris, group, "первое")
    await teacher.request(Mute(chat=group, person=BORIS, seconds=60))
    await teacher.request(Unmute(chat=group, person=BORIS))
    in_lesson = await send(anya, lesson_chat, "на уроке")
    await teacher.request(Pin(chat=lesson_chat, message_id=in_lesson.message_id))
    reported = await anya.request(
        CreateReport(chat=group, message_id=first.message_id, reason="грубо")
    )
    assert isinstance(reported, ReportInfo)
    old_report = reported.report["id"]
    assert [
        e.report["id"] for e in await events_until_pong(teacher) if isinstance(e, ReportNew)
    ] == [old_report]

    await upload(zvonok, off_staff(before))
    # Still a member of both, as Roma's parent: the roster keeps her in the school.
    second = await send(boris, group, "второе")
    await send(teacher, group, "я ещё здесь")  # a member may post

    # Moderation, over the socket, in her group and in her lesson's chat.
    for chat, message_id, person in (
        (group, second.message_id, BORIS),
        (lesson_chat, in_lesson.message_id, ANYA),
    ):
        for action in moderator_actions(chat, message_id, person):
            assert await refused(teacher, action) == "moderation.not_moderator", action
    # ... and over HTTP.
    for body in HTTP_ACTIONS:
        full = {**body, "message_id": second.message_id, "person": BORIS}
        url = f"{zvonok.base}/api/v1/chats/{group}/moderation"
        reply = await call(zvonok, "POST", url, TEACHER, json=full)
        assert (reply.status, reply.code) == (403, "moderation.not_moderator"), body

    # Members: neither added nor removed by her.
    for change in (
        ChangeMembers(chat=group, add=[PARENT_OF_ROMA]),
        ChangeMembers(chat=group, remove=[BORIS]),
        ChangeMembers(chat=lesson_chat, remove=[ANYA]),
    ):
        assert await refused(teacher, change) == "chat.not_owner", change

    # Reports: the old one is no longer hers, a new one never reaches her.
    assert await report_texts(zvonok, teacher, TEACHER) == ([], [])
    resolve = ResolveReport(report=old_report, outcome="dismissed")
    assert await refused(teacher, resolve) == "report.not_found"
    new = await anya.request(CreateReport(chat=group, message_id=second.message_id, reason="!"))
    assert isinstance(new, ReportInfo)
    assert not [e for e in await events_until_pong(teacher) if isinstance(e, ReportNew)]
    assert await report_texts(zvonok, teacher, TEACHER) == ([], [])
    # A moderator of the chat can be muted; she now can.
    admin = await zvonok.connect(ADMIN)
    await admin.request(Mute(chat=group, person=TEACHER, seconds=60))

    # The school's admin keeps every power and has both reports.
    listed = await report_texts(zvonok, admin, ADMIN)
    assert sorted(listed[0]) == sorted([old_report, new.report["id"]]) == sorted(listed[1])
    await admin.request(ModDelete(chat=group, message_id=second.message_id))
    await admin.request(Remove(chat=group, person=BORIS))
    await admin.request(ResolveReport(report=old_report, outcome="warned"))
    # Nothing she tried changed the group: after the upload, only her post
    # and the admin's actions are in its log.
    url = f"{zvonok.base}/api/v1/chats/{group}/events"
    page = await call(zvonok, "GET", url, ANYA, params={"after": str(second.seq)})
    assert [(e["kind"], e["author"]) for e in page.body["events"]] == [
        ("message", TEACHER),
        ("moderation", ADMIN),
        ("delete", ADMIN),
        ("members", ADMIN),
    ]


async def test_a_teacher_who_stays_staff_keeps_her_groups(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    """The control: the same upload, but she stays a teacher of the school
    (no longer 5A's): as staff she keeps every power of her group."""
    zvonok: Running = await make_server(clock, media=FakeMedia())
    before = demo()
    await upload(zvonok, before)
    teacher, boris = await zvonok.connect(TEACHER), await zvonok.connect(BORIS)
    group = await make_group(teacher, [ANYA, BORIS, ROMA])
    posted = await send(boris, group, "привет")
    changed = off_staff(before)
    school = changed["schools"][0]
    school["staff"].append({"oid": TEACHER, "roles": ["teacher"]})
    await upload(zvonok, changed)
    await teacher.request(Pin(chat=group, message_id=posted.message_id))
    info = await teacher.request(ChangeMembers(chat=group, add=[PARENT_OF_ROMA], remove=[BORIS]))
    assert isinstance(info, ChatInfo)
    await teacher.request(Mute(chat=group, person=ANYA, seconds=60))
    url = f"{zvonok.base}/api/v1/reports"
    reported = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/chats/{group}/reports",
        ANYA,
        json={"message_id": posted.message_id, "reason": "!"},
    )
    assert reported.status == 201
    assert [r["id"] for r in (await call(zvonok, "GET", url, TEACHER)).body["reports"]] == [
        reported.body["report"]["id"]
    ]
