"""Every text a person writes that others see goes through the content filter and the
link rule of a post: through the real server on 127.0.0.1 (issue 12, point 2).

Titles of groups and rooms reach the school's children; a moderator's note reaches the
reporter, perhaps a child. Report reasons are read by moderators only and may quote what
is reported, so they are not filtered (docs/content-filter.md, "Where it applies").
"""

from __future__ import annotations

import pytest

from signaling import rooms as r
from signaling.chat import ChatInfo, CreateGroup
from signaling.client import Client, RequestError
from signaling.messages import Message
from signaling.safety import CreateReport, ReportInfo, ReportResolved, ResolveReport
from tests.conftest import Running
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, next_of, send

pytestmark = pytest.mark.both_engines

ANYA, BORIS = 1000100101, 1000100102  # students of 5A
ROOM_CLASS = "sosh-1-5a"
OBSCENE = "Кружок х у й н и"  # spelled out: the filter sees through it


async def refused(client: Client, message: Message) -> str:
    with pytest.raises(RequestError) as caught:
        await client.request(message)
    return caught.value.code


async def test_a_group_title_goes_through_the_filter(zvonok: Running) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    bad = CreateGroup(school="sosh-1", title=OBSCENE, members=[ANYA])
    assert await refused(teacher, bad) == "content.blocked"
    good = await teacher.request(CreateGroup(school="sosh-1", title="Кружок", members=[ANYA]))
    assert isinstance(good, ChatInfo) and good.chat["title"] == "Кружок"


async def test_a_room_title_goes_through_the_filter(zvonok: Running) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    bad = r.StartRoom(class_id=ROOM_CLASS, kind="lesson", title="Урок, бля")
    assert await refused(teacher, bad) == "content.blocked"
    room = await teacher.start_room(ROOM_CLASS, "lesson", "Урок чтения")
    assert room["title"] == "Урок чтения"


async def test_a_moderators_note_to_the_reporter_goes_through_the_filter(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    bad = await send(boris, CLASS_5A, "ты глупая")
    # The reason may quote what was reported: moderators alone read it.
    info = await anya.request(
        CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="он пишет 'сука'")
    )
    assert isinstance(info, ReportInfo)
    report = info.report["id"]
    rude = ResolveReport(report=report, outcome="warned", note="да пошёл он нахуй")
    assert await refused(teacher, rude) == "content.blocked"
    await teacher.request(ResolveReport(report=report, outcome="warned", note="поговорили"))
    told = await next_of(anya, ReportResolved)
    assert isinstance(told, ReportResolved) and told.report["note"] == "поговорили"
