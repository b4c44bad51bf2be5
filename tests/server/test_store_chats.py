"""Chats in the store, on both engines: logs, messages, members and the roster chats."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import pytest

from server.errors import ZvonokError
from server.errors.chats import (
    CHAT_INVALID,
    CHAT_MEMBERS_FIXED,
    CHAT_NOT_FOUND,
    CHAT_NOT_OWNER,
    IDEMPOTENCY_CONFLICT,
    MESSAGE_DELETED,
    MESSAGE_NOT_AUTHOR,
    MESSAGE_NOT_FOUND,
    PERSON_NOT_FOUND,
)
from server.model.chats import (
    Ack,
    ChatKind,
    EventKind,
    MembershipChange,
    class_chat_id,
    direct_chat_id,
    parents_chat_id,
    staff_chat_id,
)
from server.roster.demo import DEMO_ROSTER, seed_demo
from server.roster.document import parse_roster
from server.store import SqlStore
from tests.conftest import Database
from tests.storedump import dump

pytestmark = pytest.mark.both_engines

T = TypeVar("T")

SCHOOL = "sosh-1"
CLASS_A, CLASS_B = "sosh-1-5a", "sosh-1-5b"
CLASS_CHAT, PARENTS_CHAT, STAFF_CHAT = (
    class_chat_id(CLASS_A),
    parents_chat_id(CLASS_A),
    staff_chat_id(SCHOOL),
)
DIRECTOR = 1000100001  # admin, not in any class chat
CLASS_TEACHER = 1000100003  # class teacher of 5А
TEACHER_B = 1000100005  # teaches 5Б only
KID, KID2 = 1000100101, 1000100102  # students of 5А
KID_B = 1000100126  # a student of 5Б
NOBODY = 42  # not in the roster
NOW = 1_800_000_000.0


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_ROSTER.read_text(encoding="utf-8"))
    return data


async def refused(code: str, call: Awaitable[T]) -> ZvonokError:
    with pytest.raises(ZvonokError) as caught:
        await call
    assert caught.value.code == code
    return caught.value


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    await seed_demo(opened)
    yield opened
    await opened.close()


async def post(
    store: SqlStore,
    text: str = "Здравствуйте!",
    *,
    chat_id: str = CLASS_CHAT,
    author: int = CLASS_TEACHER,
    reply_to: int | None = None,
    key: str | None = None,
    now: float = NOW,
) -> Ack:
    return await store.post(
        chat_id=chat_id,
        author=author,
        text=text,
        reply_to=reply_to,
        key=key if key is not None else uuid.uuid4().hex,
        now=now,
    )


# --------------------------------------------------------------------------
# Roster chats
# --------------------------------------------------------------------------


async def test_the_demo_school_gets_its_roster_chats(database: Database) -> None:
    store = database.store()
    await store.open()
    try:
        report = await seed_demo(store)
    finally:
        await store.close()
    assert report is not None
    data = demo_data()
    (school,) = data["schools"]
    record = next(c for c in school["classes"] if c["id"] == CLASS_A)
    parents = {g["child"]: g["parents"] for g in data["guardians"]}
    students = set(record["students"])
    changes = {change.event.chat: change for change in report.chats}

    assert sorted(changes) == sorted(
        [
            STAFF_CHAT,
            CLASS_CHAT,
            PARENTS_CHAT,
            class_chat_id(CLASS_B),
            parents_chat_id(CLASS_B),
        ]
    )
    class_change = changes[CLASS_CHAT]
    assert len(students) == 25
    teachers = {t["oid"] for t in record["subject_teachers"]} | {CLASS_TEACHER}
    assert set(class_change.added) == students | teachers
    assert list(class_change.added) == sorted(class_change.added)
    assert class_change.removed == ()
    assert class_change.event.seq == 1
    assert class_change.event.author is None
    assert class_change.event.kind is EventKind.MEMBERS
    assert class_change.event.data == {"added": list(class_change.added), "removed": []}
    guardians = {p for kid in students for p in parents[kid]}
    assert set(changes[PARENTS_CHAT].added) == guardians | {CLASS_TEACHER}
    assert set(changes[STAFF_CHAT].added) == {m["oid"] for m in school["staff"]}


async def test_roster_chats_as_their_members_see_them(store: SqlStore) -> None:
    teacher_chats = {chat.id: chat for chat in await store.chats(CLASS_TEACHER)}

    assert set(teacher_chats) == {STAFF_CHAT, CLASS_CHAT, PARENTS_CHAT}
    class_chat = teacher_chats[CLASS_CHAT]
    assert class_chat.kind is ChatKind.CLASS
    assert class_chat.title == "5А: класс"
    assert (class_chat.school_id, class_chat.class_id) == (SCHOOL, CLASS_A)
    assert class_chat.last_seq == 1 and class_chat.read_seq == 1
    assert class_chat.unread == 0 and class_chat.last_message is None
    assert teacher_chats[PARENTS_CHAT].title == "5А: родители"
    assert teacher_chats[PARENTS_CHAT].kind is ChatKind.CLASS_PARENTS
    staff = teacher_chats[STAFF_CHAT]
    assert staff.title == "МБОУ «Средняя общеобразовательная школа № 1»: учителя и администрация"
    assert (staff.kind, staff.school_id, staff.class_id, staff.members) == (
        ChatKind.STAFF,
        SCHOOL,
        None,
        10,
    )
    assert [chat.id for chat in await store.chats(DIRECTOR)] == [STAFF_CHAT]
    assert [chat.id for chat in await store.chats(KID)] == [CLASS_CHAT]
    (event,) = await store.events(CLASS_CHAT)
    assert event.kind is EventKind.MEMBERS and event.author is None


async def test_importing_the_demo_roster_again_changes_no_chat(store: SqlStore) -> None:
    before = await dump(store)
    doc = parse_roster(demo_data())

    report = await store.import_roster(doc)
    await store.close()
    await store.open()  # the sync at open has nothing to do either

    assert report.chats == ()
    assert not report.changed
    assert await dump(store) == before


async def test_open_gives_an_older_roster_its_chats(store: SqlStore) -> None:
    members = await store.members(CLASS_CHAT)
    async with store.transaction() as db:
        for table in ("chat_events", "chat_members", "chats"):
            await db.execute(f"DELETE FROM {table}")  # noqa: S608
    await store.close()

    await store.open()

    assert await store.members(CLASS_CHAT) == members
    assert [e.seq for e in await store.events(CLASS_CHAT)] == [1]


async def test_moving_a_student_moves_them_and_their_parents(store: SqlStore) -> None:
    data = demo_data()
    (school,) = data["schools"]
    class_a, class_b = school["classes"]
    parents = {g["child"]: set(g["parents"]) for g in data["guardians"]}
    students = [*class_a["students"], *class_b["students"]]

    def only_child(kid: int) -> bool:
        others = {p for other in students if other != kid for p in parents[other]}
        return not parents[kid] & others

    # A student of 5А whose parents have no other child in either class.
    mover = next(kid for kid in class_a["students"] if only_child(kid))
    class_a["students"].remove(mover)
    class_b["students"].append(mover)

    report = await store.import_roster(parse_roster(data))

    changes = {change.event.chat: change for change in report.chats}
    assert sorted(changes) == sorted(
        [CLASS_CHAT, class_chat_id(CLASS_B), PARENTS_CHAT, parents_chat_id(CLASS_B)]
    )
    assert (changes[CLASS_CHAT].added, changes[CLASS_CHAT].removed) == ((), (mover,))
    assert (changes[class_chat_id(CLASS_B)].added, changes[class_chat_id(CLASS_B)].removed) == (
        (mover,),
        (),
    )
    moved_parents = tuple(sorted(parents[mover]))
    assert changes[PARENTS_CHAT].removed == moved_parents
    assert changes[parents_chat_id(CLASS_B)].added == moved_parents
    event = changes[CLASS_CHAT].event
    assert (event.seq, event.author, event.data) == (2, None, {"added": [], "removed": [mover]})
    assert await store.events(CLASS_CHAT, after=1) == [event]
    assert not await store.is_member(CLASS_CHAT, mover)
    assert await store.is_member(class_chat_id(CLASS_B), mover)
    assert [chat.id for chat in await store.chats(mover)] == [class_chat_id(CLASS_B)]


async def test_a_closed_class_keeps_its_chat_without_members(store: SqlStore) -> None:
    await post(store, "Последний урок")
    data = demo_data()
    (school,) = data["schools"]
    school["classes"] = [c for c in school["classes"] if c["id"] == CLASS_B]
    school["classes"][0]["name"] = "5Б-1"

    report = await store.import_roster(parse_roster(data))

    closed = {c.event.chat: c for c in report.chats}
    assert closed[CLASS_CHAT].added == () and len(closed[CLASS_CHAT].removed) == 33
    assert await store.members(CLASS_CHAT) == []
    assert await store.members(PARENTS_CHAT) == []
    assert [e.kind for e in await store.events(CLASS_CHAT)] == [
        EventKind.MEMBERS,
        EventKind.MESSAGE,
        EventKind.MEMBERS,
    ]
    # A rename changes the title and writes no event.
    assert class_chat_id(CLASS_B) not in closed
    renamed = await store.chat(TEACHER_B, class_chat_id(CLASS_B))
    assert renamed.title == "5Б-1: класс" and renamed.last_seq == 1


# --------------------------------------------------------------------------
# Posting
# --------------------------------------------------------------------------


async def test_post_appends_a_message_event(store: SqlStore) -> None:
    ack = await post(store, "Завтра контрольная", key="k1")

    assert not ack.duplicate
    assert (ack.chat, ack.seq, ack.message_id) == (CLASS_CHAT, 2, 2)
    assert ack.event.kind is EventKind.MESSAGE
    assert ack.event.author == CLASS_TEACHER and ack.event.at == NOW
    assert ack.event.data == {"id": 2, "text": "Завтра контрольная", "reply_to": None}
    assert (await store.events(CLASS_CHAT, after=1)) == [ack.event]
    assert (await store.chat_positions(KID))[CLASS_CHAT] == 2

    reply = await post(store, "Какая?", author=KID, reply_to=ack.message_id)
    assert reply.event.data == {"id": 3, "text": "Какая?", "reply_to": 2}


async def test_post_refusals_store_nothing(store: SqlStore) -> None:
    before = await dump(store)

    await refused(CHAT_NOT_FOUND, post(store, author=KID_B))
    await refused(CHAT_NOT_FOUND, post(store, chat_id="class:nowhere"))
    await refused(MESSAGE_NOT_FOUND, post(store, reply_to=1))  # the members event
    await refused(MESSAGE_NOT_FOUND, post(store, reply_to=2**70))

    assert await dump(store) == before


async def test_concurrent_posts_take_every_seq_once(store: SqlStore) -> None:
    acks = await asyncio.gather(
        *(post(store, f"сообщение {n}", author=KID + n % 5, key=f"key-{n}") for n in range(50))
    )

    assert sorted(ack.seq for ack in acks) == list(range(2, 52))
    events = await store.events(CLASS_CHAT, limit=1000)
    assert [e.seq for e in events] == list(range(1, 52))
    assert (await store.chat(KID, CLASS_CHAT)).last_seq == 51


async def test_concurrent_posts_in_a_new_chat_number_from_one(store: SqlStore) -> None:
    summary, _ = await store.open_direct(a=KID, b=KID2, now=NOW)
    acks = await asyncio.gather(
        *(post(store, f"{n}", chat_id=summary.id, author=KID, key=f"d{n}") for n in range(50))
    )

    assert sorted(ack.seq for ack in acks) == list(range(2, 52))
    assert [e.seq for e in await store.events(summary.id, limit=100)] == list(range(1, 52))


async def test_a_retried_post_returns_the_first_ack_and_stores_nothing(store: SqlStore) -> None:
    first = await post(store, "Привет", key="retry-1", now=NOW)
    before = await dump(store)

    again = await post(store, "Привет", key="retry-1", now=NOW + 5)

    assert again == Ack(first.event, duplicate=True)
    assert await dump(store) == before
    # Keys belong to a person: someone else may use the same one.
    other = await post(store, "Привет", author=KID, key="retry-1")
    assert not other.duplicate and other.seq == first.seq + 1


async def test_a_reused_key_with_another_request_is_a_conflict(store: SqlStore) -> None:
    await post(store, "Привет", key="same")
    before = await dump(store)

    await refused(IDEMPOTENCY_CONFLICT, post(store, "Пока", key="same"))
    await refused(IDEMPOTENCY_CONFLICT, post(store, "Привет", key="same", chat_id=STAFF_CHAT))
    await refused(
        IDEMPOTENCY_CONFLICT,
        store.edit(
            chat_id=CLASS_CHAT, author=CLASS_TEACHER, message_id=2, text="x", key="same", now=NOW
        ),
    )

    assert await dump(store) == before


# --------------------------------------------------------------------------
# Editing, deleting, reacting
# --------------------------------------------------------------------------


async def test_edit_keeps_versions(store: SqlStore) -> None:
    message = await post(store, "Первый вариант", now=NOW)

    ack = await store.edit(
        chat_id=CLASS_CHAT, author=CLASS_TEACHER, message_id=2, text="Второй", key=None, now=NOW + 1
    )
    third = await store.edit(
        chat_id=CLASS_CHAT, author=CLASS_TEACHER, message_id=2, text="Третий", key="e3", now=NOW + 2
    )

    assert (ack.seq, ack.message_id, ack.event.kind) == (3, 2, EventKind.EDIT)
    assert ack.event.data == {"id": 2, "text": "Второй", "version": 2}
    assert third.event.data == {"id": 2, "text": "Третий", "version": 3}
    assert await store.message_versions(CLASS_CHAT, 2) == [
        (1, "Первый вариант", NOW),
        (2, "Второй", NOW + 1),
        (3, "Третий", NOW + 2),
    ]
    # The message event keeps its text; the chat list shows the current one.
    (stored,) = await store.events(CLASS_CHAT, after=1, limit=1)
    assert stored == message.event
    last = (await store.chat(KID, CLASS_CHAT)).last_message
    assert last is not None
    assert (last.seq, last.at, last.data["text"]) == (2, NOW, "Третий")
    retried = await store.edit(
        chat_id=CLASS_CHAT, author=CLASS_TEACHER, message_id=2, text="Третий", key="e3", now=NOW + 9
    )
    assert retried == Ack(third.event, duplicate=True)
    assert await store.message_versions(CLASS_CHAT, 99) == []


async def test_edit_refusals(store: SqlStore) -> None:
    await post(store, "Текст")
    await post(store, "Удалю", now=NOW + 1)
    await store.delete(chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=3, key=None, now=NOW)
    before = await dump(store)

    def edit(author: int, message_id: int) -> Awaitable[Ack]:
        return store.edit(
            chat_id=CLASS_CHAT, author=author, message_id=message_id, text="!", key=None, now=NOW
        )

    await refused(MESSAGE_NOT_AUTHOR, edit(KID, 2))
    await refused(MESSAGE_DELETED, edit(CLASS_TEACHER, 3))
    await refused(MESSAGE_NOT_FOUND, edit(CLASS_TEACHER, 77))
    await refused(MESSAGE_NOT_FOUND, edit(CLASS_TEACHER, 1))  # an event, not a message
    await refused(MESSAGE_NOT_FOUND, edit(CLASS_TEACHER, -1))
    await refused(CHAT_NOT_FOUND, edit(KID_B, 2))
    await refused(CHAT_NOT_FOUND, edit(KID_B, 2**70))

    assert await dump(store) == before


async def test_delete_empties_the_message_and_its_earlier_events(store: SqlStore) -> None:
    await post(store, "Секрет", now=NOW)
    other = await post(store, "Другое", author=KID, now=NOW + 1)
    await store.edit(
        chat_id=CLASS_CHAT, author=CLASS_TEACHER, message_id=2, text="Секрет 2", key=None, now=NOW
    )
    await store.react(
        chat_id=CLASS_CHAT, actor=KID, message_id=2, emoji="👍", on=True, key=None, now=NOW
    )

    ack = await store.delete(
        chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=2, key="del", now=NOW + 3
    )

    assert (ack.seq, ack.message_id, ack.event.kind, ack.event.data) == (
        6,
        2,
        EventKind.DELETE,
        {"id": 2},
    )
    events = await store.events(CLASS_CHAT)
    assert [(e.seq, e.kind, e.data) for e in events] == [
        (1, EventKind.MEMBERS, events[0].data),
        (2, EventKind.MESSAGE, {"id": 2, "deleted": True}),
        (3, EventKind.MESSAGE, other.event.data),
        (4, EventKind.EDIT, {"id": 2, "deleted": True}),
        (5, EventKind.REACTION, {"id": 2, "emoji": "👍", "on": True}),
        (6, EventKind.DELETE, {"id": 2}),
    ]
    assert await store.message_versions(CLASS_CHAT, 2) == []
    rows = await dump(store)
    assert rows["message_versions"] == [] and rows["reactions"] == []
    assert "Секрет" not in json.dumps(rows, ensure_ascii=False)
    # A deleted message may still be replied to.
    reply = await post(store, "Ответ", author=KID, reply_to=2)
    assert reply.event.data["reply_to"] == 2
    retried = await store.delete(
        chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=2, key="del", now=NOW + 9
    )
    assert retried == Ack(ack.event, duplicate=True)


async def test_delete_refusals(store: SqlStore) -> None:
    await post(store, "Текст")
    await store.delete(chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=2, key=None, now=NOW)
    await post(store, "Ещё", now=NOW + 1)
    before = await dump(store)

    def delete(actor: int, message_id: int) -> Awaitable[Ack]:
        return store.delete(
            chat_id=CLASS_CHAT, actor=actor, message_id=message_id, key=None, now=NOW
        )

    await refused(MESSAGE_DELETED, delete(CLASS_TEACHER, 2))
    await refused(MESSAGE_NOT_AUTHOR, delete(KID, 4))
    await refused(MESSAGE_NOT_FOUND, delete(CLASS_TEACHER, 5))
    await refused(CHAT_NOT_FOUND, delete(KID_B, 4))

    assert await dump(store) == before


async def test_reactions_append_events_only_when_they_change(store: SqlStore) -> None:
    await post(store, "Фото с экскурсии")

    def react(on: bool, emoji: str = "❤️", key: str | None = None) -> Awaitable[Ack]:
        return store.react(
            chat_id=CLASS_CHAT, actor=KID, message_id=2, emoji=emoji, on=on, key=key, now=NOW
        )

    first = await react(True)
    assert (first.seq, first.message_id, first.duplicate) == (3, 2, False)
    assert first.event.data == {"id": 2, "emoji": "❤️", "on": True}
    before = await dump(store)
    assert await react(True) == Ack(first.event, duplicate=True)
    assert await dump(store) == before

    other = await react(True, "🔥")
    off = await react(False)
    assert (other.seq, off.seq) == (4, 5)
    assert off.event.data == {"id": 2, "emoji": "❤️", "on": False}
    assert await react(False) == Ack(off.event, duplicate=True)
    # Taking back what was never there has no event to point at: one is made.
    never = await react(False, "😮")
    assert (never.seq, never.duplicate) == (6, False)
    keyed = await react(True, key="r1")
    assert keyed.seq == 7
    assert await react(True, key="r1") == Ack(keyed.event, duplicate=True)
    await refused(IDEMPOTENCY_CONFLICT, react(False, key="r1"))


async def test_reaction_refusals(store: SqlStore) -> None:
    await post(store, "Текст")
    await store.delete(chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=2, key=None, now=NOW)
    before = await dump(store)

    def react(actor: int, message_id: int) -> Awaitable[Ack]:
        return store.react(
            chat_id=CLASS_CHAT,
            actor=actor,
            message_id=message_id,
            emoji="👍",
            on=True,
            key=None,
            now=NOW,
        )

    await refused(MESSAGE_DELETED, react(KID, 2))
    await refused(MESSAGE_NOT_FOUND, react(KID, 9))
    await refused(CHAT_NOT_FOUND, react(KID_B, 2))

    assert await dump(store) == before


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


async def test_history_pages_both_ways(store: SqlStore) -> None:
    for n in range(10):
        await post(store, f"m{n}", now=NOW + n)  # seqs 2..11

    assert [e.seq for e in await store.events(CLASS_CHAT, limit=4)] == [1, 2, 3, 4]
    assert [e.seq for e in await store.events(CLASS_CHAT, after=4, limit=4)] == [5, 6, 7, 8]
    assert [e.seq for e in await store.events(CLASS_CHAT, after=8)] == [9, 10, 11]
    assert await store.events(CLASS_CHAT, after=11) == []
    assert [e.seq for e in await store.events(CLASS_CHAT, before=12, limit=3)] == [9, 10, 11]
    assert [e.seq for e in await store.events(CLASS_CHAT, before=9, limit=3)] == [6, 7, 8]
    assert [e.seq for e in await store.events(CLASS_CHAT, after=4, before=9, limit=10)] == [
        5,
        6,
        7,
        8,
    ]
    assert [e.seq for e in await store.events(CLASS_CHAT, before=3, limit=10)] == [1, 2]
    assert await store.events(CLASS_CHAT, limit=0) == []
    assert await store.events("class:nowhere") == []
    assert await store.events(CLASS_CHAT, after=-(2**70), before=2**70, limit=2**70) != []


async def test_chat_list_order_unread_and_last_message(store: SqlStore) -> None:
    await post(store, "В класс", now=NOW + 1)  # 2
    await post(store, "Родителям", chat_id=PARENTS_CHAT, now=NOW + 2)
    await post(store, "Ещё в класс", now=NOW + 3)  # 3
    await post(store, "Мой", author=KID, now=NOW + 4)  # 4
    await post(store, "Удалённый", now=NOW + 5)  # 5
    await store.delete(chat_id=CLASS_CHAT, actor=CLASS_TEACHER, message_id=5, key=None, now=NOW)

    kid_chat = await store.chat(KID, CLASS_CHAT)
    assert kid_chat.unread == 2  # 2 and 3: not its own 4, not the deleted 5
    assert kid_chat.last_message is not None
    assert (kid_chat.last_message.seq, kid_chat.last_message.data) == (
        4,
        {"id": 4, "text": "Мой", "reply_to": None},
    )
    assert kid_chat.last_message.author == KID and kid_chat.last_message.at == NOW + 4
    assert kid_chat.members == 33
    assert (await store.chat(KID2, CLASS_CHAT)).unread == 3
    assert (await store.chat(CLASS_TEACHER, CLASS_CHAT)).unread == 1

    # The delete event at NOW is the class chat's latest; the parents' post is later.
    assert [c.id for c in await store.chats(CLASS_TEACHER)] == [
        PARENTS_CHAT,
        CLASS_CHAT,
        STAFF_CHAT,
    ]
    await post(store, "Снова", now=NOW + 10)
    assert (await store.chats(CLASS_TEACHER))[0].id == CLASS_CHAT

    assert await store.mark_read(chat_id=CLASS_CHAT, oid=KID, seq=3) == 3
    assert (await store.chat(KID, CLASS_CHAT)).unread == 1
    await refused(CHAT_NOT_FOUND, store.chat(KID_B, CLASS_CHAT))
    await refused(CHAT_NOT_FOUND, store.chat(KID, "class:nowhere"))


async def test_mark_read_moves_forward_only(store: SqlStore) -> None:
    for n in range(3):
        await post(store, f"m{n}", now=NOW + n)  # last_seq 4

    assert await store.mark_read(chat_id=CLASS_CHAT, oid=KID, seq=3) == 3
    assert await store.mark_read(chat_id=CLASS_CHAT, oid=KID, seq=2) == 3
    assert await store.mark_read(chat_id=CLASS_CHAT, oid=KID, seq=2**70) == 4
    assert (await store.chat(KID, CLASS_CHAT)).read_seq == 4
    await refused(CHAT_NOT_FOUND, store.mark_read(chat_id=CLASS_CHAT, oid=KID_B, seq=1))


async def test_positions_members_and_contacts(store: SqlStore) -> None:
    assert await store.chat_positions(KID) == {CLASS_CHAT: 1}
    assert await store.chat_positions(NOBODY) == {}
    assert await store.is_member(CLASS_CHAT, KID)
    assert not await store.is_member(CLASS_CHAT, KID_B)
    assert not await store.is_member(CLASS_CHAT, 2**70)
    members = await store.members(CLASS_CHAT)
    assert members == sorted(members) and KID in members and len(members) == 33
    assert await store.members("class:nowhere") == []

    contacts = await store.contacts(KID)
    assert contacts == set(members) - {KID}
    teacher_contacts = await store.contacts(CLASS_TEACHER)
    assert CLASS_TEACHER not in teacher_contacts
    assert {DIRECTOR, KID, *await store.members(PARENTS_CHAT)} - {CLASS_TEACHER} <= (
        teacher_contacts
    )
    assert KID_B not in teacher_contacts
    assert await store.contacts(NOBODY) == set()


async def test_last_seen(store: SqlStore) -> None:
    await store.set_last_seen(KID, NOW)
    await store.set_last_seen(KID2, NOW + 1)
    await store.set_last_seen(KID, NOW + 2)

    assert await store.last_seen([KID, KID2, NOBODY, 2**70]) == {KID: NOW + 2, KID2: NOW + 1}
    assert await store.last_seen([]) == {}


# --------------------------------------------------------------------------
# Direct chats and groups
# --------------------------------------------------------------------------


async def test_open_direct_makes_the_chat_once(store: SqlStore) -> None:
    summary, change = await store.open_direct(a=KID2, b=KID, now=NOW)

    chat_id = direct_chat_id(KID, KID2)
    assert summary.id == chat_id and summary.kind is ChatKind.DIRECT
    assert summary.title == "Белов Артём Дмитриевич"  # KID, as KID2 sees it
    assert (summary.members, summary.last_seq, summary.school_id) == (2, 1, None)
    assert change is not None
    assert (change.added, change.removed) == ((KID, KID2), ())
    assert change.event.author == KID2
    assert change.event.data == {"added": [KID, KID2], "removed": []}

    again, none = await store.open_direct(a=KID, b=KID2, now=NOW + 1)
    assert none is None
    assert again.id == chat_id and again.title != summary.title
    assert again.last_seq == 1
    assert await store.members(chat_id) == [KID, KID2]


async def test_open_direct_refusals(store: SqlStore) -> None:
    before = await dump(store)

    await refused(CHAT_INVALID, store.open_direct(a=KID, b=KID, now=NOW))
    await refused(PERSON_NOT_FOUND, store.open_direct(a=KID, b=NOBODY, now=NOW))
    await refused(PERSON_NOT_FOUND, store.open_direct(a=KID, b=2**70, now=NOW))

    assert await dump(store) == before


async def test_create_group(store: SqlStore) -> None:
    summary, change = await store.create_group(
        creator=CLASS_TEACHER,
        school_id=SCHOOL,
        title="Олимпиада",
        members=[KID2, KID, KID],
        key="g1",
        now=NOW,
    )

    assert summary.id.startswith("group:") and summary.kind is ChatKind.GROUP
    assert (summary.title, summary.school_id, summary.members) == ("Олимпиада", SCHOOL, 3)
    assert change.added == (CLASS_TEACHER, KID, KID2) and change.removed == ()
    assert (change.event.seq, change.event.author) == (1, CLASS_TEACHER)
    assert await store.members(summary.id) == [CLASS_TEACHER, KID, KID2]

    before = await dump(store)
    again = await store.create_group(
        creator=CLASS_TEACHER,
        school_id=SCHOOL,
        title="Олимпиада",
        members=[KID, KID2],
        key="g1",
        now=NOW + 1,
    )
    assert again == (summary, change)
    assert await dump(store) == before

    await refused(
        IDEMPOTENCY_CONFLICT,
        store.create_group(
            creator=CLASS_TEACHER, school_id=SCHOOL, title="Другая", members=[], key="g1", now=NOW
        ),
    )
    await refused(
        PERSON_NOT_FOUND,
        store.create_group(
            creator=CLASS_TEACHER,
            school_id=SCHOOL,
            title="Другая",
            members=[KID, NOBODY],
            key=None,
            now=NOW,
        ),
    )
    assert await dump(store) == before


async def test_change_members_of_a_group(store: SqlStore) -> None:
    group, _ = await store.create_group(
        creator=CLASS_TEACHER, school_id=SCHOOL, title="Кружок", members=[KID], key=None, now=NOW
    )
    await post(store, "Первое", chat_id=group.id, now=NOW + 1)

    change = await store.change_members(
        chat_id=group.id, actor=CLASS_TEACHER, add=[KID2, KID_B], remove=[KID], now=NOW + 2
    )
    assert isinstance(change, MembershipChange)
    assert (change.added, change.removed) == ((KID2, KID_B), (KID,))
    assert change.event.seq == 3 and change.event.author == CLASS_TEACHER
    assert change.event.data == {"added": [KID2, KID_B], "removed": [KID]}
    assert await store.members(group.id) == [CLASS_TEACHER, KID2, KID_B]
    assert not await store.is_member(group.id, KID)
    # Those who join do not inherit the earlier messages as unread.
    assert (await store.chat(KID2, group.id)).unread == 0

    before = await dump(store)
    assert (
        await store.change_members(
            chat_id=group.id, actor=CLASS_TEACHER, add=[KID2], remove=[KID, NOBODY], now=NOW
        )
        is None
    )
    assert await dump(store) == before


async def test_change_members_refusals(store: SqlStore) -> None:
    group, _ = await store.create_group(
        creator=CLASS_TEACHER, school_id=SCHOOL, title="Кружок", members=[KID], key=None, now=NOW
    )
    direct, _ = await store.open_direct(a=KID, b=KID2, now=NOW)
    before = await dump(store)

    def change(
        chat_id: str, actor: int, add: list[int], remove: list[int]
    ) -> Awaitable[MembershipChange | None]:
        return store.change_members(chat_id=chat_id, actor=actor, add=add, remove=remove, now=NOW)

    await refused(CHAT_MEMBERS_FIXED, change(CLASS_CHAT, CLASS_TEACHER, [KID_B], []))
    await refused(CHAT_MEMBERS_FIXED, change(STAFF_CHAT, DIRECTOR, [], [CLASS_TEACHER]))
    await refused(CHAT_MEMBERS_FIXED, change(direct.id, KID, [CLASS_TEACHER], []))
    await refused(CHAT_NOT_OWNER, change(group.id, KID, [KID2], []))
    await refused(CHAT_NOT_FOUND, change(group.id, KID2, [KID2], []))
    await refused(CHAT_NOT_FOUND, change("group:nowhere", CLASS_TEACHER, [KID2], []))
    await refused(CHAT_INVALID, change(group.id, CLASS_TEACHER, [], [CLASS_TEACHER]))
    await refused(CHAT_INVALID, change(group.id, CLASS_TEACHER, [KID2], [KID2]))
    await refused(PERSON_NOT_FOUND, change(group.id, CLASS_TEACHER, [KID2, NOBODY], []))
    await refused(PERSON_NOT_FOUND, change(group.id, CLASS_TEACHER, [2**70], []))

    assert await dump(store) == before
