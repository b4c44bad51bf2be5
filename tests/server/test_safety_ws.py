"""The safety rules through the real server, over sockets on 127.0.0.1.

Crafted attempts from a newcomer's clients are refused with codes and store
nothing; moderators' actions reach every member in order and leave audit
rows; reports reach moderators and their outcome the reporter; a roster
change takes effect on open connections at once (docs/safety.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.model.chats import direct_chat_id
from server.model.safety import AuditRecord
from server.roster.demo import DEMO_ROSTER
from server.roster.document import parse_roster
from signaling.chat import (
    AckMsg,
    ChangeMembers,
    ChatEventMsg,
    ChatInfo,
    ChatList,
    ChatRemoved,
    CreateGroup,
    Delete,
    Edit,
    History,
    ListChats,
    OpenDirect,
    React,
    Send,
)
from signaling.client import Client, RequestError
from signaling.safety import (
    CreateReport,
    FindPeople,
    ListReports,
    ModDelete,
    Mute,
    PeopleList,
    Pin,
    Remove,
    ReportInfo,
    ReportList,
    ReportNew,
    ReportResolved,
    ResolveReport,
    SetAnnouncements,
    Unmute,
)
from tests.conftest import Running, ServerFactory, relaxed_chat
from tests.server.test_chats_ws import (
    CLASS_5A,
    CLASS_TEACHER_5A,
    chat_events,
    key,
    last_seq,
    next_of,
    send,
)
from tests.server.test_http_chats import call, post_message

pytestmark = pytest.mark.both_engines

CLASS_5B = "class:sosh-1-5b"
STAFF_CHAT = "staff:sosh-1"
ADMIN = 1000100001  # admin only
STUDENT_5B = 1000100126
ANYA, BORIS = 1000100101, 1000100102  # students of 5A
PARENT_OF_101 = 1000100201  # a guardian of Anya (5A), and of a twin in 5B
PARENT_OF_102 = 1000100203  # a guardian of Boris, whose only child is in 5A
TEACHER_5B_ONLY = 1000100005  # teaches 5B only
OTHER_SCHOOL = "sosh-2"
STRANGER_TEACHER = 2000000001  # a teacher of sosh-2
STRANGER_STUDENT = 2000000101  # a student of sosh-2


def second_school() -> dict[str, Any]:
    """A roster file for another school, with a teacher and a student."""
    return {
        "version": 1,
        "people": [
            {
                "oid": STRANGER_TEACHER,
                "last_name": "Чужая",
                "first_name": "Анна",
                "birth_date": "1980-05-05",
            },
            {
                "oid": STRANGER_STUDENT,
                "last_name": "Чужой",
                "first_name": "Пётр",
                "birth_date": "2015-03-03",
            },
        ],
        "schools": [
            {
                "id": OTHER_SCHOOL,
                "name": "Школа № 2",
                "staff": [{"oid": STRANGER_TEACHER, "roles": ["teacher", "admin"]}],
                "classes": [
                    {
                        "id": "sosh-2-5a",
                        "name": "5А",
                        "class_teacher": STRANGER_TEACHER,
                        "students": [STRANGER_STUDENT],
                    }
                ],
            }
        ],
    }


async def with_second_school(zvonok: Running) -> None:
    await zvonok.app[STORE].import_roster(parse_roster(second_school()))


async def refused(client: Client, message: Any) -> RequestError:
    with pytest.raises(RequestError) as caught:
        await client.request(message)
    return caught.value


async def chat_ids(client: Client) -> set[str]:
    reply = await client.request(ListChats())
    assert isinstance(reply, ChatList)
    return {c["id"] for c in reply.chats}


# -- who may write to whom -------------------------------------------------------


async def test_a_student_cannot_open_a_chat_with_another_school_and_nothing_is_stored(
    zvonok: Running,
) -> None:
    await with_second_school(zvonok)
    anya_oid = ANYA
    anya = await zvonok.connect(anya_oid)
    stranger = await zvonok.connect(STRANGER_STUDENT)

    error = await refused(anya, OpenDirect(person=STRANGER_STUDENT))
    assert error.code == "policy.forbidden"
    error = await refused(stranger, OpenDirect(person=anya_oid))
    assert error.code == "policy.forbidden"
    # The stranger's teacher, an admin elsewhere, cannot either.
    teacher = await zvonok.connect(STRANGER_TEACHER)
    assert (await refused(teacher, OpenDirect(person=anya_oid))).code == "policy.forbidden"

    store = zvonok.app[STORE]
    assert await store.chat_facts(direct_chat_id(anya_oid, STRANGER_STUDENT)) is None
    assert await store.chat_facts(direct_chat_id(anya_oid, STRANGER_TEACHER)) is None
    assert not any(c.startswith("direct:") for c in await chat_ids(anya))


async def test_direct_chats_follow_the_table(zvonok: Running) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    anya = await zvonok.connect(anya_oid)
    # Allowed: a classmate, a teacher of her school, her own parent.
    for other in (boris_oid, TEACHER_5B_ONLY, ADMIN):
        await anya.request(OpenDirect(person=other))
    own_parent = await zvonok.connect(PARENT_OF_101)
    await own_parent.request(OpenDirect(person=anya_oid))
    # Refused: a student of another class, someone else's parent.
    for other in (STUDENT_5B, 1000100203):
        assert (await refused(anya, OpenDirect(person=other))).code == "policy.forbidden"
    # A parent may not write to someone else's child.
    assert (await refused(own_parent, OpenDirect(person=boris_oid))).code == "policy.forbidden"
    # A parent may write to the teachers of the child's class, not to another teacher.
    boris_parent = await zvonok.connect(PARENT_OF_102)
    await boris_parent.request(OpenDirect(person=CLASS_TEACHER_5A))
    error = await refused(boris_parent, OpenDirect(person=TEACHER_5B_ONLY))
    assert error.code == "policy.forbidden"
    # ...but may answer that teacher once the teacher wrote first (``reply``).
    teacher = await zvonok.connect(TEACHER_5B_ONLY)
    await teacher.request(OpenDirect(person=PARENT_OF_102))
    chat = direct_chat_id(TEACHER_5B_ONLY, PARENT_OF_102)
    await send(teacher, chat, "Добрый вечер, по поводу экскурсии")
    await send(boris_parent, chat, "Здравствуйте!")


async def test_a_stranger_cannot_put_a_child_in_a_group(zvonok: Running) -> None:
    await with_second_school(zvonok)
    anya_oid = ANYA
    stranger = await zvonok.connect(STRANGER_TEACHER)
    # Not in the child's school: neither a group there nor the child in one of theirs.
    error = await refused(
        stranger, CreateGroup(school="sosh-1", title="Кружок", members=[anya_oid], key=key())
    )
    assert error.code == "policy.forbidden"
    error = await refused(
        stranger, CreateGroup(school=OTHER_SCHOOL, title="Кружок", members=[anya_oid], key=key())
    )
    assert error.code == "policy.forbidden"
    # A parent is not staff: no groups either.
    parent = await zvonok.connect(PARENT_OF_101)
    error = await refused(
        parent, CreateGroup(school="sosh-1", title="Мамы", members=[anya_oid], key=key())
    )
    assert error.code == "policy.forbidden"
    anya = await zvonok.connect(anya_oid)
    assert not any(c.startswith("group:") for c in await chat_ids(anya))


async def test_http_cannot_reach_a_forbidden_person_either(zvonok: Running) -> None:
    anya_oid = ANYA
    reply = await post_message(zvonok, anya_oid, direct_chat_id(anya_oid, STUDENT_5B), "привет")
    assert (reply.status, reply.code) == (404, "chat.not_found")
    names = {e.person.oid: e.person.full_name for e in zvonok.directory}
    for oid, expected in ((STUDENT_5B, False), (PARENT_OF_101, True)):
        params = {"q": names[oid]}
        reply = await call(zvonok, "GET", f"{zvonok.base}/api/v1/people", anya_oid, params=params)
        assert reply.status == 200
        assert (oid in {p["oid"] for p in reply.body["people"]}) is expected


async def test_people_search_finds_only_whom_one_may_write_to(zvonok: Running) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    anya = await zvonok.connect(anya_oid)
    everyone = {e.person.oid: e.person.full_name for e in zvonok.directory}
    for oid, expected in ((boris_oid, True), (STUDENT_5B, False), (1000100203, False)):
        reply = await anya.request(FindPeople(query=everyone[oid]))
        assert isinstance(reply, PeopleList)
        assert (oid in {p["oid"] for p in reply.people}) is expected, everyone[oid]


# -- moderation ------------------------------------------------------------------


async def test_a_muted_member_is_refused_and_nothing_is_stored_until_unmuted(
    zvonok: Running, clock: ManualClock
) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    await teacher.request(Mute(chat=CLASS_5A, person=anya_oid, seconds=600))
    [event] = await chat_events(boris, CLASS_5A, 1)
    assert (event.kind, event.author) == ("moderation", CLASS_TEACHER_5A)
    assert event.data == {"action": "mute", "person": anya_oid, "until": clock.time() + 600}
    before = await last_seq(anya, CLASS_5A)

    error = await refused(anya, send_msg(CLASS_5A, "я всё равно напишу"))
    assert error.code == "moderation.muted"
    assert error.retry_after is not None and 0 < error.retry_after <= 600
    reply = await post_message(zvonok, anya_oid, CLASS_5A, "и через HTTP")
    assert (reply.status, reply.code) == (403, "moderation.muted")
    assert await last_seq(anya, CLASS_5A) == before
    # A student cannot mute, and a classmate cannot unmute.
    assert (await refused(boris, Unmute(chat=CLASS_5A, person=anya_oid))).code == (
        "moderation.not_moderator"
    )

    await teacher.request(Unmute(chat=CLASS_5A, person=anya_oid))
    await send(anya, CLASS_5A, "спасибо")
    # A mute also ends by itself.
    await teacher.request(Mute(chat=CLASS_5A, person=anya_oid, seconds=60))
    assert (await refused(anya, send_msg(CLASS_5A, "а?"))).code == "moderation.muted"
    clock.advance(60)
    await send(anya, CLASS_5A, "снова можно")


def send_msg(chat: str, text: str) -> Send:
    return Send(chat=chat, text=text, key=key())


async def test_a_moderators_delete_reaches_every_member_in_order_and_is_audited(
    zvonok: Running,
) -> None:
    students = [ANYA, BORIS, 1000100103]
    clients = [await zvonok.connect(oid) for oid in students]
    admin = await zvonok.connect(ADMIN)  # moderates every class chat, not a member
    posted = await send(clients[0], CLASS_5A, "обидное сообщение")
    await send(clients[1], CLASS_5A, "ответ")
    await admin.request(ModDelete(chat=CLASS_5A, message_id=posted.message_id))
    for client in clients:
        events = await chat_events(client, CLASS_5A, 3)
        assert [e.kind for e in events] == ["message", "message", "delete"]
        assert [e.seq for e in events] == [posted.seq, posted.seq + 1, posted.seq + 2]
        assert events[2].author == ADMIN and events[2].data == {
            "id": posted.message_id,
            "moderator": True,
        }
    # The class teacher moderates too; a subject teacher of 5B only does not.
    other = await send(clients[1], CLASS_5A, "ещё одно")
    outsider = await zvonok.connect(TEACHER_5B_ONLY)
    error = await refused(outsider, ModDelete(chat=CLASS_5A, message_id=other.message_id))
    assert error.code == "chat.not_found"
    # Audit: the school's admins read it; others may not.
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    assert audit.status == 200
    [row] = [e for e in audit.body["entries"] if e["action"] == "message.delete"]
    assert (row["actor"], row["chat"], row["message_id"]) == (ADMIN, CLASS_5A, posted.message_id)
    denied = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", students[0])
    assert (denied.status, denied.code) == (403, "policy.forbidden")


async def test_announcements_only_and_pins(zvonok: Running) -> None:
    anya_oid = ANYA
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya = await zvonok.connect(anya_oid)
    await teacher.request(SetAnnouncements(chat=CLASS_5A, on=True))
    before = await last_seq(anya, CLASS_5A)
    error = await refused(anya, send_msg(CLASS_5A, "можно спросить?"))
    assert error.code == "moderation.announcements_only"
    assert await last_seq(anya, CLASS_5A) == before
    notice = await send(teacher, CLASS_5A, "Завтра собрание в 18:00")
    await teacher.request(Pin(chat=CLASS_5A, message_id=notice.message_id))
    await teacher.request(SetAnnouncements(chat=CLASS_5A, on=False))
    await send(anya, CLASS_5A, "спасибо!")
    kinds = [
        (e.kind, e.data.get("action"))
        for e in await chat_events(anya, CLASS_5A, 5)
        if isinstance(e, ChatEventMsg)
    ]
    assert kinds == [
        ("moderation", "announcements"),
        ("message", None),
        ("moderation", "pin"),
        ("moderation", "announcements"),
        ("message", None),
    ]
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    actions = [e["action"] for e in audit.body["entries"]]
    assert actions == ["chat.announcements", "message.pin", "chat.announcements"]


async def test_a_moderator_removes_a_member_from_a_teacher_made_group(zvonok: Running) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    info = await teacher.request(
        CreateGroup(school="sosh-1", title="Олимпиада", members=[anya_oid, boris_oid], key=key())
    )
    group = info.chat["id"]  # type: ignore[attr-defined]
    boris = await zvonok.connect(boris_oid)
    admin = await zvonok.connect(ADMIN)
    # The admin is neither owner nor member, and moderates every group of the school.
    await admin.request(Remove(chat=group, person=boris_oid))
    removed = await next_of(boris, ChatRemoved)
    assert isinstance(removed, ChatRemoved) and removed.chat == group
    assert (await refused(boris, send_msg(group, "я тут?"))).code == "chat.not_found"
    # Roster chats' members follow the roster: nobody removes them by hand.
    error = await refused(admin, Remove(chat=CLASS_5A, person=anya_oid))
    assert error.code == "chat.members_fixed"


# -- a chat's facts are kept in memory, and forgotten when they change ---------------------


async def make_group(owner: Client, members: list[int], title: str = "Кружок") -> str:
    info = await owner.request(
        CreateGroup(school="sosh-1", title=title, members=members, key=key())
    )
    assert isinstance(info, ChatInfo)
    group: str = info.chat["id"]
    return group


async def test_membership_changed_on_another_connection_counts_at_the_next_post(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    group = await make_group(teacher, [ANYA, BORIS])
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    # Posts read the group's facts and keep them.
    await send(anya, group, "привет")
    await send(boris, group, "привет-привет")
    admin = await zvonok.connect(ADMIN)
    await admin.request(Remove(chat=group, person=BORIS))
    error = await refused(boris, send_msg(group, "а я?"))
    assert error.code == "chat.not_found"
    # The owner adds a member from a second device; the newcomer posts at once.
    second_device = await zvonok.connect(CLASS_TEACHER_5A)
    newcomer = 1000100103
    await second_device.request(ChangeMembers(chat=group, add=(newcomer,)))
    await send(await zvonok.connect(newcomer), group, "я тоже здесь")
    await send(anya, group, "добро пожаловать")
    events = [(e.kind, e.author) for e in await chat_events(teacher, group, 7)]
    assert events == [
        ("members", CLASS_TEACHER_5A),
        ("message", ANYA),
        ("message", BORIS),
        ("members", ADMIN),
        ("members", CLASS_TEACHER_5A),
        ("message", newcomer),
        ("message", ANYA),
    ]


async def test_a_child_added_to_a_staff_group_brings_the_content_filter_at_once(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    group = await make_group(teacher, [TEACHER_5B_ONLY], title="Учительская")
    # Adults only: the filter leaves the chat alone (and its facts are now kept).
    await send(teacher, group, "ну и бл.я погода")
    owner_elsewhere = await zvonok.connect(CLASS_TEACHER_5A)
    await owner_elsewhere.request(ChangeMembers(chat=group, add=(ANYA,)))
    error = await refused(teacher, send_msg(group, "ну и бл.я погода"))
    assert error.code == "content.blocked"
    # And when the child leaves again, adults talk as adults.
    await owner_elsewhere.request(ChangeMembers(chat=group, remove=(ANYA,)))
    await send(teacher, group, "ну и бл.я погода")


async def test_an_unpin_on_another_connection_names_the_message_pinned_there(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    admin = await zvonok.connect(ADMIN)
    notice = await send(teacher, CLASS_5A, "Собрание в пятницу")
    await admin.request(Pin(chat=CLASS_5A, message_id=None))  # nothing pinned yet
    await teacher.request(Pin(chat=CLASS_5A, message_id=notice.message_id))
    await admin.request(Pin(chat=CLASS_5A, message_id=None))
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    assert [(e["action"], e["message_id"]) for e in audit.body["entries"]] == [
        ("message.unpin", None),
        ("message.pin", notice.message_id),
        ("message.unpin", notice.message_id),
    ]


# -- a retry of an acknowledged post gets its first ack, whatever changed since -----------


async def test_a_retry_after_removal_gets_the_first_ack_and_a_new_post_is_refused(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    group = await make_group(teacher, [ANYA, BORIS])
    anya = await zvonok.connect(ANYA)
    request = Send(chat=group, text="я отправила, но ответа не было", key=key())
    first = await anya.request(request)
    assert isinstance(first, AckMsg) and not first.duplicate
    http_key = key()
    by_http = await post_message(zvonok, ANYA, group, "и через HTTP", idem=http_key)
    assert by_http.status == 201
    admin = await zvonok.connect(ADMIN)
    await admin.request(Remove(chat=group, person=ANYA))
    stored = await last_seq(teacher, group)

    again = await anya.request(request)
    assert isinstance(again, AckMsg) and again.duplicate
    assert (again.chat, again.seq, again.message_id) == (first.chat, first.seq, first.message_id)
    http_again = await post_message(zvonok, ANYA, group, "и через HTTP", idem=http_key)
    assert http_again.status == 200
    assert (http_again.body["seq"], http_again.body["duplicate"]) == (by_http.body["seq"], True)
    # A new post is refused with its code, and the same key for another text is no retry.
    assert (await refused(anya, send_msg(group, "а теперь?"))).code == "chat.not_found"
    other = Send(chat=group, text="другой текст", key=request.key)
    assert (await refused(anya, other)).code == "chat.not_found"
    http_new = await post_message(zvonok, ANYA, group, "а через HTTP?")
    assert (http_new.status, http_new.code) == (404, "chat.not_found")
    assert await last_seq(teacher, group) == stored


async def test_a_retry_over_the_rate_limit_gets_the_first_ack(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(
        clock, chat=relaxed_chat(student_chat_per_second=0.2, student_chat_burst=2)
    )
    anya = await zvonok.connect(ANYA)
    url = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    assert (await call(zvonok, "PUT", url, ADMIN, json={"filter": "mask"})).status == 200
    plain = Send(chat=CLASS_5A, text="первое", key=key())
    masked = Send(chat=CLASS_5A, text="сам дурак, бля", key=key())
    first = await anya.request(plain)
    first_masked = await anya.request(masked)
    assert isinstance(first, AckMsg) and isinstance(first_masked, AckMsg) and first_masked.masked
    stored = await last_seq(anya, CLASS_5A)
    assert (await refused(anya, send_msg(CLASS_5A, "третье"))).code == "rate.limited"

    for request, ack in ((plain, first), (masked, first_masked)):
        again = await anya.request(request)
        assert isinstance(again, AckMsg) and again.duplicate
        assert (again.seq, again.message_id, again.masked) == (ack.seq, ack.message_id, ack.masked)
    error = await refused(anya, send_msg(CLASS_5A, "третье"))
    assert error.code == "rate.limited" and error.retry_after is not None
    assert await last_seq(anya, CLASS_5A) == stored


async def test_retried_edits_deletes_and_reactions_over_the_rate_get_their_first_acks(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    # Edits count against the author's tier (a student's: 3 here), deletes
    # and reactions against the parents' rate (2 here); the clock stands
    # still, so no token comes back.
    zvonok = await make_server(
        clock,
        chat=relaxed_chat(
            student_chat_per_second=0.01, student_chat_burst=3, chat_per_second=0.01, chat_burst=2
        ),
    )
    url = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    assert (await call(zvonok, "PUT", url, ADMIN, json={"filter": "mask"})).status == 200
    anya = await zvonok.connect(ANYA)
    first, second = await send(anya, CLASS_5A, "раз"), await send(anya, CLASS_5A, "два")
    edit = Edit(chat=CLASS_5A, message_id=first.message_id, text="сам дурак, бля", key=key())
    react = React(chat=CLASS_5A, message_id=first.message_id, emoji="👍", key=key())
    delete = Delete(chat=CLASS_5A, message_id=second.message_id, key=key())
    acks = [await anya.request(request) for request in (edit, react, delete)]
    assert all(isinstance(ack, AckMsg) and not ack.duplicate for ack in acks)
    assert isinstance(acks[0], AckMsg) and acks[0].masked
    stored = await last_seq(anya, CLASS_5A)

    for request, ack in zip((edit, react, delete), acks, strict=True):
        again = await anya.request(request)
        assert isinstance(again, AckMsg) and isinstance(ack, AckMsg)
        assert (again.seq, again.duplicate, again.masked) == (ack.seq, True, ack.masked)
    # New requests, and a reused key for another request, are refused by the rate.
    new_edit = Edit(chat=CLASS_5A, message_id=first.message_id, text="три", key=key())
    assert (await refused(anya, new_edit)).code == "rate.limited"
    other = React(chat=CLASS_5A, message_id=first.message_id, emoji="🔥", key=react.key)
    assert (await refused(anya, other)).code == "rate.limited"
    unkeyed = React(chat=CLASS_5A, message_id=first.message_id, emoji="👍")
    assert (await refused(anya, unkeyed)).code == "rate.limited"
    assert await last_seq(anya, CLASS_5A) == stored


async def test_a_retry_after_the_relation_ended_gets_the_first_ack(zvonok: Running) -> None:
    anya = await zvonok.connect(ANYA)
    await anya.request(OpenDirect(person=BORIS))
    chat = direct_chat_id(ANYA, BORIS)
    request = Send(chat=chat, text="привет", key=key())
    first = await anya.request(request)
    assert isinstance(first, AckMsg)
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    a, b = roster["schools"][0]["classes"]
    a["students"].remove(BORIS)
    b["students"].append(BORIS)
    reply = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        ADMIN,
        data=json.dumps(roster).encode(),
    )
    assert reply.status == 200
    again = await anya.request(request)
    assert isinstance(again, AckMsg) and (again.seq, again.duplicate) == (first.seq, True)
    assert (await refused(anya, send_msg(chat, "ты где?"))).code == "policy.forbidden"


# -- reports -----------------------------------------------------------------------


async def test_a_report_reaches_moderators_keeps_the_text_and_tells_the_reporter(
    zvonok: Running,
) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    bad = await send(boris, CLASS_5A, "ты глупая")
    info = await anya.request(
        CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="дразнит")
    )
    assert isinstance(info, ReportInfo)
    report_id = info.report["id"]
    again = await anya.request(CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="!"))
    assert isinstance(again, ReportInfo) and again.report["id"] == report_id

    pushed = await next_of(teacher, ReportNew)
    assert isinstance(pushed, ReportNew)
    assert (pushed.report["id"], pushed.report["text"]) == (report_id, "ты глупая")
    # The author deletes the message; the report keeps what was said.
    await boris.request(Delete(chat=CLASS_5A, message_id=bad.message_id))
    listed = await teacher.request(ListReports(status="open"))
    assert isinstance(listed, ReportList)
    assert [(r["id"], r["text"]) for r in listed.reports] == [(report_id, "ты глупая")]
    # A classmate is not a moderator: the report does not exist for them.
    error = await refused(boris, ResolveReport(report=report_id, outcome="dismissed"))
    assert error.code == "report.not_found"

    resolved = await teacher.request(
        ResolveReport(report=report_id, outcome="warned", note="поговорили")
    )
    assert isinstance(resolved, ReportInfo) and resolved.report["status"] == "resolved"
    told = await next_of(anya, ReportResolved)
    assert isinstance(told, ReportResolved)
    assert (told.report["id"], told.report["outcome"]) == (report_id, "warned")
    assert "resolved_by" not in told.report and "text" not in told.report
    mine = await anya.request(ListReports(mine=True))
    assert isinstance(mine, ReportList) and mine.reports[0]["outcome"] == "warned"
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    assert [e["action"] for e in audit.body["entries"]] == ["report.resolve"]


# -- content filter and links ---------------------------------------------------------


async def test_the_content_filter_blocks_or_masks_by_the_schools_choice(
    zvonok: Running,
) -> None:
    anya_oid = ANYA
    anya = await zvonok.connect(anya_oid)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    before = await last_seq(anya, CLASS_5A)
    for text in ("ну ты и бл.я", "x у й", "пи3дец"):
        assert (await refused(anya, send_msg(CLASS_5A, text))).code == "content.blocked", text
    assert (await refused(anya, send_msg(CLASS_5A, "смотри vk.com/club1"))).code == (
        "content.link_forbidden"
    )
    assert await last_seq(anya, CLASS_5A) == before
    await send(teacher, CLASS_5A, "Задание тут: https://resh.edu.ru/subject/lesson/7")

    url = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    changed = await call(zvonok, "PUT", url, ADMIN, json={"filter": "mask", "words": ["дурак"]})
    assert changed.status == 200 and changed.body["settings"]["filter"] == "mask"
    masked = await send(anya, CLASS_5A, "сам дурак, бля")
    assert masked.masked
    [event] = [e for e in await chat_events(anya, CLASS_5A, 2) if e.author == anya_oid]
    assert event.data["text"] == "сам *****, ***"
    bad = await call(zvonok, "PUT", url, ADMIN, json={"filter": "maybe"})
    assert (bad.status, bad.code) == (400, "settings.invalid")
    nope = await call(zvonok, "PUT", url, CLASS_TEACHER_5A, json={"filter": "block"})
    assert (nope.status, nope.code) == (403, "policy.forbidden")


async def test_filter_words_the_filter_cannot_use_are_refused_naming_the_entry(
    zvonok: Running,
) -> None:
    url = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    for entry in ("два слова", "ду*рак", "я", "*"):
        reply = await call(zvonok, "PUT", url, ADMIN, json={"words": ["балбес", entry]})
        assert (reply.status, reply.code) == (400, "settings.invalid"), entry
        assert repr(entry) in reply.body["error"]["message"]
    unchanged = await call(zvonok, "GET", url, ADMIN)
    assert unchanged.body["settings"]["words"] == []
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    assert audit.body["entries"] == []
    # Usable words, stems included, are taken and filter at once.
    changed = await call(zvonok, "PUT", url, ADMIN, json={"words": ["балбес", " дурак* "]})
    assert changed.status == 200 and changed.body["settings"]["words"] == ["балбес", "дурак*"]
    anya = await zvonok.connect(ANYA)
    assert (await refused(anya, send_msg(CLASS_5A, "вы дураки"))).code == "content.blocked"


async def test_an_unusable_word_stored_before_the_check_neither_stops_posts_nor_changes(
    zvonok: Running, clock: ManualClock
) -> None:
    stored = {"words": ["два слова", "балбес"]}
    record = AuditRecord(school_id="sosh-1", actor=ADMIN, action="settings.change")
    await zvonok.app[STORE].set_school_settings("sosh-1", stored, clock.time(), record)
    anya = await zvonok.connect(ANYA)
    await send(anya, CLASS_5A, "два слова")
    assert (await refused(anya, send_msg(CLASS_5A, "ты балбес"))).code == "content.blocked"
    # Other settings still change; the words are checked when they are changed.
    url = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    assert (await call(zvonok, "PUT", url, ADMIN, json={"links": "allowed"})).status == 200


# -- rate limits -------------------------------------------------------------------


async def test_students_hit_the_flood_limit_before_teachers(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(
        clock,
        chat=relaxed_chat(
            student_chat_per_second=0.2,
            student_chat_burst=3,
            staff_chat_per_second=2.0,
            staff_chat_burst=10,
        ),
    )
    anya = await zvonok.connect(ANYA)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    for i in range(3):
        await send(anya, CLASS_5A, f"{i}")
    error = await refused(anya, send_msg(CLASS_5A, "ещё"))
    assert error.code == "rate.limited" and error.retry_after == 5.0
    for i in range(10):
        await send(teacher, CLASS_5A, f"учитель {i}")
    assert (await refused(teacher, send_msg(CLASS_5A, "ещё"))).code == "rate.limited"
    clock.advance(5.0)
    await send(anya, CLASS_5A, "теперь можно")


# -- roster changes take effect at once ------------------------------------------------


async def test_a_student_moved_by_an_upload_loses_the_class_chat_on_open_connections(
    zvonok: Running,
) -> None:
    anya_oid = ANYA
    anya = await zvonok.connect(anya_oid)
    second = await zvonok.connect(anya_oid)  # a second device
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    school = roster["schools"][0]
    a, b = school["classes"]
    a["students"].remove(anya_oid)
    b["students"].append(anya_oid)
    reply = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        ADMIN,
        data=json.dumps(roster).encode(),
    )
    assert reply.status == 200, reply.body
    for client in (anya, second):
        removed = await next_of(client, ChatRemoved)
        assert isinstance(removed, ChatRemoved) and removed.chat == CLASS_5A
    assert (await refused(anya, send_msg(CLASS_5A, "я тут?"))).code == "chat.not_found"
    await send(anya, CLASS_5B, "Привет, новый класс!")
    # Only admins of the schools in the file may upload it.
    denied = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        CLASS_TEACHER_5A,
        data=json.dumps(roster).encode(),
    )
    assert (denied.status, denied.code) == (403, "roster.outside_school")
    audit = await call(zvonok, "GET", f"{zvonok.base}/api/v1/schools/sosh-1/audit", ADMIN)
    entries = audit.body["entries"]
    assert [e["action"] for e in entries] == ["roster.import", "roster.change", "roster.refused"]
    assert entries[2]["actor"] == CLASS_TEACHER_5A
    assert entries[1]["actor"] == ADMIN
    assert entries[1]["details"] == {
        "table": "class_members",
        "change": "updated",
        "row": {"oid": anya_oid, "class": "sosh-1-5b"},
    }


async def test_a_direct_chat_ends_when_the_relation_does(zvonok: Running) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    anya = await zvonok.connect(anya_oid)
    await anya.request(OpenDirect(person=boris_oid))
    chat = direct_chat_id(anya_oid, boris_oid)
    await send(anya, chat, "привет")
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    a, b = roster["schools"][0]["classes"]
    a["students"].remove(boris_oid)
    b["students"].append(boris_oid)
    reply = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        ADMIN,
        data=json.dumps(roster).encode(),
    )
    assert reply.status == 200
    assert (await refused(anya, send_msg(chat, "ты где?"))).code == "policy.forbidden"
    http = await post_message(zvonok, anya_oid, chat, "через HTTP")
    assert (http.status, http.code) == (403, "policy.forbidden")


async def test_people_who_leave_a_school_leave_its_groups_at_once(zvonok: Running) -> None:
    owner = TEACHER_5B_ONLY
    teacher = await zvonok.connect(owner)
    group = await make_group(teacher, [ANYA, BORIS])
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    await send(boris, group, "я в кружке")
    # Boris leaves the school, and so does the group's owner.
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    school = roster["schools"][0]
    school["classes"][0]["students"].remove(BORIS)
    school["staff"] = [s for s in school["staff"] if s["oid"] != owner]
    for klass in school["classes"]:
        teachers = klass.get("subject_teachers", [])
        klass["subject_teachers"] = [t for t in teachers if t["oid"] != owner]
    upload = f"{zvonok.base}/api/v1/admin/roster"
    reply = await call(zvonok, "POST", upload, ADMIN, data=json.dumps(roster).encode())
    assert reply.status == 200, reply.body

    posted, event = await chat_events(anya, group, 2)
    assert (posted.kind, event.kind) == ("message", "members")
    assert (event.author, event.data) == (None, {"added": [], "removed": [owner, BORIS]})
    for client in (boris, teacher):
        while True:  # the class and staff chats go too
            removed = await next_of(client, ChatRemoved)
            assert isinstance(removed, ChatRemoved)
            if removed.chat == group:
                break
    assert (await refused(boris, send_msg(group, "а я?"))).code == "chat.not_found"
    # The owner who left neither reads nor moderates the group any more.
    assert (await refused(teacher, History(chat=group))).code == "chat.not_found"
    error = await refused(teacher, Mute(chat=group, person=ANYA, seconds=60))
    assert error.code == "chat.not_found"
    await send(anya, group, "а я осталась")
    admin = await zvonok.connect(ADMIN)
    await admin.request(Mute(chat=group, person=ANYA, seconds=60))


# -- oversight ---------------------------------------------------------------------


async def test_a_parent_sees_a_young_childs_chat_list_not_its_content(zvonok: Running) -> None:
    anya_oid, boris_oid = ANYA, BORIS
    anya = await zvonok.connect(anya_oid)
    await anya.request(OpenDirect(person=boris_oid))
    await send(anya, direct_chat_id(anya_oid, boris_oid), "секрет")
    url = f"{zvonok.base}/api/v1/children/{anya_oid}/chats"
    reply = await call(zvonok, "GET", url, PARENT_OF_101)
    assert reply.status == 200
    chats = {c["id"]: c for c in reply.body["chats"]}
    direct = chats[direct_chat_id(anya_oid, boris_oid)]
    assert {m["oid"] for m in direct["members"]} == {anya_oid, boris_oid}
    assert "секрет" not in json.dumps(reply.body, ensure_ascii=False)
    # Someone else's parent may not look.
    other = await call(zvonok, "GET", url, 1000100203)
    assert (other.status, other.code) == (404, "person.not_found")
    # The school turns it off.
    settings = f"{zvonok.base}/api/v1/schools/sosh-1/settings"
    assert (await call(zvonok, "PUT", settings, ADMIN, json={"oversight_age": 0})).status == 200
    off = await call(zvonok, "GET", url, PARENT_OF_101)
    assert (off.status, off.code) == (403, "policy.forbidden")


async def test_a_teacher_named_later_finds_the_open_reports_of_her_class(
    zvonok: Running,
) -> None:
    """Reports are addressed when they are made; the inbox is not: it lists
    the reports of the chats one moderates now (docs/safety.md, "Reports"),
    so a subject teacher given 5A in the middle of the year sees what was
    reported there before her; and reports of her school's staff chat (its
    admins moderate it), however many, crowd nothing out of a listing."""
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    bad = await send(boris, CLASS_5A, "ты глупая")
    info = await anya.request(
        CreateReport(chat=CLASS_5A, message_id=bad.message_id, reason="дразнит")
    )
    assert isinstance(info, ReportInfo)
    store = zvonok.app[STORE]
    for n in range(230):  # more than a listing's page, all newer, none hers to see
        said = await store.post(
            chat_id=STAFF_CHAT,
            author=TEACHER_5B_ONLY,
            text=f"задание {n}",
            reply_to=None,
            key=f"task-{n}",
            now=zvonok.clock.time(),
        )
        await store.create_report(
            chat_id=STAFF_CHAT,
            message_id=said.message_id,
            reporter=CLASS_TEACHER_5A,
            reason="не по делу",
            recipients=[ADMIN],
            now=zvonok.clock.time(),
        )

    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    roster["schools"][0]["classes"][0]["subject_teachers"].append(
        {"oid": TEACHER_5B_ONLY, "subject": "Музыка"}
    )
    reply = await call(
        zvonok, "POST", f"{zvonok.base}/api/v1/admin/roster", ADMIN, data=json.dumps(roster)
    )
    assert reply.status == 200, reply.body
    newcomer = await zvonok.connect(TEACHER_5B_ONLY)
    listed = await newcomer.request(ListReports(status="open"))
    assert isinstance(listed, ReportList)
    ids = [r["id"] for r in listed.reports]
    assert info.report["id"] in ids, "the report from before she came is not in her inbox"
    resolved = await newcomer.request(
        ResolveReport(report=info.report["id"], outcome="warned", note="поговорили")
    )
    assert isinstance(resolved, ReportInfo)
    # Anya's class teacher, staff of the school too, does not moderate its
    # staff chat: the 230 newer reports there do not crowd out the 5A one.
    class_teacher = await zvonok.connect(CLASS_TEACHER_5A)
    hers = await class_teacher.request(ListReports())
    assert isinstance(hers, ReportList)
    assert [r["chat"] for r in hers.reports] == [CLASS_5A]
