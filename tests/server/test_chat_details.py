"""``chat.details``: who is in a chat, and its moderation state as the asker may see it.

Over real sockets against the real app: members are named with their roles
in the chat's school and whether they moderate it; a mute is told to the
chat's moderators and to the muted member, never to classmates; a removed
member, a stranger and another class's student get ``chat.not_found``, as
for a chat that does not exist; a moderator who is not a member may look.
"""

from __future__ import annotations

import pytest

from server.clock import ManualClock
from signaling.chat import ChatDetails, GetDetails
from signaling.client import Client
from signaling.safety import Mute, Pin, Remove, SetAnnouncements
from tests.conftest import Running
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, send
from tests.server.test_safety_ws import (
    ADMIN,
    ANYA,
    BORIS,
    STUDENT_5B,
    make_group,
    refused,
)

pytestmark = pytest.mark.both_engines


async def details(client: Client, chat: str) -> ChatDetails:
    reply = await client.request(GetDetails(chat=chat))
    assert isinstance(reply, ChatDetails)
    return reply


async def test_members_are_named_with_their_roles_and_who_moderates(zvonok: Running) -> None:
    anya = await zvonok.connect(ANYA)
    got = await details(anya, CLASS_5A)
    by_oid = {m["oid"]: m for m in got.members}
    assert by_oid[ANYA]["full_name"] == "Белов Артём Дмитриевич"
    assert by_oid[ANYA]["roles"] == ["student"] and not by_oid[ANYA]["moderator"]
    teacher = by_oid[CLASS_TEACHER_5A]
    assert teacher["full_name"] == "Морозова Ирина Александровна"
    assert "teacher" in teacher["roles"] and teacher["moderator"]
    assert [m["oid"] for m in got.members] == sorted(by_oid)
    assert (got.owner, got.moderator, got.announcements, got.pinned) == (None, False, False, None)
    assert (await details(await zvonok.connect(CLASS_TEACHER_5A), CLASS_5A)).moderator


async def test_a_mute_is_told_to_moderators_and_the_muted_not_to_classmates(
    zvonok: Running, clock: ManualClock
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    posted = await send(anya, CLASS_5A, "закрепите меня")
    await teacher.request(Mute(chat=CLASS_5A, person=ANYA, seconds=600))
    await teacher.request(Pin(chat=CLASS_5A, message_id=posted.message_id))
    await teacher.request(SetAnnouncements(chat=CLASS_5A, on=True))
    until = clock.time() + 600

    def mute_of(got: ChatDetails, oid: int) -> float | None:
        return next(m["muted_until"] for m in got.members if m["oid"] == oid)

    seen_by_teacher = await details(teacher, CLASS_5A)
    assert mute_of(seen_by_teacher, ANYA) == until and seen_by_teacher.muted_until is None
    seen_by_anya = await details(anya, CLASS_5A)
    assert seen_by_anya.muted_until == until and mute_of(seen_by_anya, ANYA) == until
    seen_by_boris = await details(boris, CLASS_5A)
    assert mute_of(seen_by_boris, ANYA) is None and seen_by_boris.muted_until is None
    for got in (seen_by_teacher, seen_by_anya, seen_by_boris):
        assert (got.pinned, got.announcements) == (posted.message_id, True)
    clock.advance(601)  # a mute that has passed reads as none
    assert (await details(anya, CLASS_5A)).muted_until is None
    assert mute_of(await details(teacher, CLASS_5A), ANYA) is None


async def test_outsiders_and_removed_members_are_told_the_chat_does_not_exist(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    group = await make_group(teacher, [ANYA, BORIS])
    boris, other_class = await zvonok.connect(BORIS), await zvonok.connect(STUDENT_5B)
    assert (await details(boris, group)).owner == CLASS_TEACHER_5A
    assert (await refused(other_class, GetDetails(chat=CLASS_5A))).code == "chat.not_found"
    assert (await refused(other_class, GetDetails(chat=group))).code == "chat.not_found"
    assert (await refused(boris, GetDetails(chat="group:nope"))).code == "chat.not_found"
    admin = await zvonok.connect(ADMIN)
    # The school's admin moderates the group without being in it, and may look.
    assert (await details(admin, group)).moderator
    await admin.request(Remove(chat=group, person=BORIS))
    assert (await refused(boris, GetDetails(chat=group))).code == "chat.not_found"
    assert BORIS not in {m["oid"] for m in (await details(teacher, group)).members}
