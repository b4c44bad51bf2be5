"""Chats over real WebSockets on 127.0.0.1: delivery, order, acks, resume."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.roster.model import Role
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
    Gap,
    GetChat,
    History,
    HistoryPage,
    ListChats,
    Marked,
    MarkRead,
    OpenDirect,
    Presence,
    PresenceList,
    QueryPresence,
    React,
    Receipt,
    Send,
    Sync,
    Synced,
    Typing,
    TypingNotice,
)
from signaling.client import Client, RequestError
from signaling.codec import encode
from signaling.messages import Message
from tests.conftest import Running, ServerFactory, relaxed_chat

pytestmark = pytest.mark.both_engines

CLASS_5A = "class:sosh-1-5a"
PARENTS_5A = "parents:sosh-1-5a"
CLASS_TEACHER_5A = 1000100003
_keys = itertools.count(1)


def key() -> str:
    return f"k{next(_keys)}"


async def send(client: Client, chat: str, text: str, **extra: object) -> AckMsg:
    reply = await client.request(Send(chat=chat, text=text, key=key(), **extra))  # type: ignore[arg-type]
    assert isinstance(reply, AckMsg)
    return reply


async def next_of(client: Client, kind: type[Message], timeout: float = 10.0) -> Message:
    """The next event of ``kind``, skipping others (presence, receipts...)."""
    while True:
        event = await client.next_event(timeout=timeout)
        if isinstance(event, kind):
            return event


async def chat_events(client: Client, chat: str, count: int) -> list[ChatEventMsg]:
    """The next ``count`` events of ``chat`` this client receives."""
    got: list[ChatEventMsg] = []
    while len(got) < count:
        event = await next_of(client, ChatEventMsg)
        assert isinstance(event, ChatEventMsg)
        if event.chat == chat:
            got.append(event)
    return got


async def last_seq(client: Client, chat: str) -> int:
    info = await client.request(GetChat(chat=chat))
    assert isinstance(info, ChatInfo)
    seq: int = info.chat["last_seq"]
    return seq


def students_5a(zvonok: Running) -> list[int]:
    return [
        e.person.oid
        for e in zvonok.directory
        if any(c.class_id == "sosh-1-5a" and c.relation == "student" for c in e.classes)
    ]


async def test_two_classmates_chat_in_their_class_chat(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    start = await last_seq(anya, CLASS_5A)

    ack = await send(anya, CLASS_5A, "Привет! Что задали по математике?")
    assert (ack.chat, ack.seq, ack.message_id, ack.duplicate) == (
        CLASS_5A,
        start + 1,
        start + 1,
        False,
    )
    for client in (anya, boris):
        [event] = await chat_events(client, CLASS_5A, 1)
        assert (event.seq, event.kind, event.author) == (ack.seq, "message", anya_oid)
        assert event.data["text"] == "Привет! Что задали по математике?"

    reply = await send(boris, CLASS_5A, "Номера 5 и 6", reply_to=ack.message_id)
    [event] = await chat_events(anya, CLASS_5A, 1)
    assert event.seq == reply.seq == ack.seq + 1
    assert event.data["reply_to"] == ack.message_id


async def test_a_parent_and_the_class_teacher_chat_directly(zvonok: Running) -> None:
    parent_oid = zvonok.person(Role.PARENT, exclude_roles=(Role.TEACHER,))
    parent = await zvonok.connect(parent_oid)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)  # online before the chat exists

    info = await parent.request(OpenDirect(person=CLASS_TEACHER_5A))
    assert isinstance(info, ChatInfo)
    chat = info.chat["id"]
    assert info.chat["kind"] == "direct"
    assert "Морозова" in info.chat["title"]
    assert info.chat["peer"] == CLASS_TEACHER_5A  # whom it is with, for presence
    await send(parent, chat, "Здравствуйте! Можно узнать про экскурсию?")

    # The teacher's connection learns of the new chat and gets it from its first event.
    members, message = await chat_events(teacher, chat, 2)
    assert (members.seq, members.kind) == (1, "members")
    assert sorted(members.data["added"]) == sorted([parent_oid, CLASS_TEACHER_5A])
    assert (message.seq, message.author) == (2, parent_oid)
    await send(teacher, chat, "Да, в четверг, подробности завтра.")
    # The parent's own connection joined the new chat the same way.
    own = await chat_events(parent, chat, 3)
    assert [(e.seq, e.kind) for e in own] == [(1, "members"), (2, "message"), (3, "message")]

    again = await parent.request(OpenDirect(person=CLASS_TEACHER_5A))
    assert isinstance(again, ChatInfo)
    assert again.chat["id"] == chat  # one direct chat per pair
    listed = await teacher.request(ListChats())
    assert isinstance(listed, ChatList)
    assert {c["id"]: c["peer"] for c in listed.chats if c["kind"] == "direct"} == {chat: parent_oid}


async def test_every_member_of_a_class_chat_gets_every_message_in_order(zvonok: Running) -> None:
    members = await zvonok.app[STORE].members(CLASS_5A)
    assert len(members) >= 30  # 25 students and the teachers of the class
    clients = [await zvonok.connect(oid) for oid in members]
    start = await last_seq(clients[0], CLASS_5A)

    senders = clients[:6]
    per_sender = 5

    async def burst(client: Client, n: int) -> list[int]:
        return [(await send(client, CLASS_5A, f"{n}-{i}")).seq for i in range(per_sender)]

    acked = await asyncio.gather(*(burst(c, n) for n, c in enumerate(senders)))
    total = len(senders) * per_sender
    assert sorted(itertools.chain(*acked)) == list(range(start + 1, start + total + 1))

    received = await asyncio.gather(*(chat_events(c, CLASS_5A, total) for c in clients))
    reference = [(e.seq, e.data["text"]) for e in received[0]]
    assert [seq for seq, _ in reference] == list(range(start + 1, start + total + 1))
    for events in received:
        assert [(e.seq, e.data["text"]) for e in events] == reference


async def test_resume_after_a_reconnect_sends_what_was_missed_then_live(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    await send(anya, CLASS_5A, "до разрыва")
    [seen] = await chat_events(boris, CLASS_5A, 1)
    await boris.close()

    missed = [(await send(anya, CLASS_5A, f"пока тебя не было {i}")).seq for i in range(5)]

    # Sends keep coming while Boris reconnects: the seam must hold.
    async def more() -> list[int]:
        return [(await send(anya, CLASS_5A, f"во время {i}")).seq for i in range(8)]

    sending = asyncio.create_task(more())
    boris = await zvonok.connect(boris_oid, resume={CLASS_5A: seen.seq})
    during = await sending
    events = await chat_events(boris, CLASS_5A, len(missed) + len(during))
    assert [e.seq for e in events] == list(range(seen.seq + 1, during[-1] + 1))
    assert [e.seq for e in events][: len(missed)] == missed

    live = await send(anya, CLASS_5A, "после")
    [event] = await chat_events(boris, CLASS_5A, 1)
    assert event.seq == live.seq == during[-1] + 1


async def test_resume_ends_with_synced_and_sends_unnamed_chats_from_the_start(
    zvonok: Running,
) -> None:
    anya = await zvonok.connect(students_5a(zvonok)[0])
    start = await last_seq(anya, CLASS_5A)
    await send(anya, CLASS_5A, "раз")
    await send(anya, CLASS_5A, "два")
    # The class teacher is in the class, parents' and staff chats; names only one.
    teacher = await zvonok.connect(CLASS_TEACHER_5A, resume={CLASS_5A: start})
    events = []
    while True:
        event = await teacher.next_event()
        if isinstance(event, Synced):
            break
        if isinstance(event, ChatEventMsg):
            events.append((event.chat, event.seq, event.data.get("text")))
    assert [e for e in events if e[0] == CLASS_5A] == [
        (CLASS_5A, start + 1, "раз"),
        (CLASS_5A, start + 2, "два"),
    ]
    assert (PARENTS_5A, 1, None) in events  # the roster's members event, from seq 1
    assert ("staff:sosh-1", 1, None) in events
    assert event.positions[CLASS_5A] == start + 2
    assert set(event.positions) == {CLASS_5A, PARENTS_5A, "staff:sosh-1"}


async def test_sync_resends_from_an_older_position(zvonok: Running) -> None:
    anya = await zvonok.connect(students_5a(zvonok)[0])
    start = await last_seq(anya, CLASS_5A)
    a = await send(anya, CLASS_5A, "один")
    b = await send(anya, CLASS_5A, "два")
    await chat_events(anya, CLASS_5A, 2)
    reply = await anya.request(Sync(positions={CLASS_5A: start, "class:not-mine": 0}))
    assert isinstance(reply, Synced)
    assert reply.positions == {CLASS_5A: b.seq}
    again = await chat_events(anya, CLASS_5A, 2)
    assert [e.seq for e in again] == [a.seq, b.seq]


async def test_a_retried_send_with_the_same_key_is_stored_once(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    first = await anya.request(Send(chat=CLASS_5A, text="один раз", key="retry-1"))
    assert isinstance(first, AckMsg) and not first.duplicate

    # The ack was "lost": the client reconnects and sends again with the same key.
    await anya.close()
    anya = await zvonok.connect(anya_oid)
    second = await anya.request(Send(chat=CLASS_5A, text="один раз", key="retry-1"))
    assert isinstance(second, AckMsg)
    assert (second.seq, second.message_id, second.duplicate) == (first.seq, first.message_id, True)

    marker = await send(anya, CLASS_5A, "следующее")
    events = await chat_events(boris, CLASS_5A, 2)
    assert [e.seq for e in events] == [first.seq, marker.seq]  # one event, not two

    with pytest.raises(RequestError) as refused:
        await anya.request(Send(chat=CLASS_5A, text="другой текст", key="retry-1"))
    assert refused.value.code == "idempotency.conflict"


async def test_edit_delete_and_react_are_events_in_order(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    msg = await send(anya, CLASS_5A, "Завтра контрльная")
    edit = await anya.request(
        Edit(chat=CLASS_5A, message_id=msg.message_id, text="Завтра контрольная")
    )
    react = await boris.request(React(chat=CLASS_5A, message_id=msg.message_id, emoji="👍"))
    with pytest.raises(RequestError) as not_author:
        await boris.request(Edit(chat=CLASS_5A, message_id=msg.message_id, text="моё"))
    assert not_author.value.code == "message.not_author"
    delete = await anya.request(Delete(chat=CLASS_5A, message_id=msg.message_id))
    assert isinstance(edit, AckMsg) and isinstance(react, AckMsg) and isinstance(delete, AckMsg)
    assert [edit.seq, react.seq, delete.seq] == [msg.seq + 1, msg.seq + 2, msg.seq + 3]

    events = await chat_events(boris, CLASS_5A, 4)
    assert [e.kind for e in events] == ["message", "edit", "reaction", "delete"]
    assert events[1].data["text"] == "Завтра контрольная"

    page = await boris.request(History(chat=CLASS_5A, after=msg.seq - 1, limit=10))
    assert isinstance(page, HistoryPage)
    by_seq = {e["seq"]: e for e in page.events}
    assert by_seq[msg.seq]["data"] == {"id": msg.message_id, "deleted": True}  # content gone
    assert "text" not in by_seq[edit.seq]["data"]  # the edit's text too
    assert by_seq[delete.seq]["kind"] == "delete"  # the order holds
    with pytest.raises(RequestError) as gone:
        await anya.request(Edit(chat=CLASS_5A, message_id=msg.message_id, text="снова"))
    assert gone.value.code == "message.deleted"


async def test_history_pages_backwards_and_forwards(zvonok: Running) -> None:
    anya = await zvonok.connect(students_5a(zvonok)[0])
    start = await last_seq(anya, CLASS_5A)
    seqs = [(await send(anya, CLASS_5A, f"m{i}")).seq for i in range(12)]

    newest = await anya.request(History(chat=CLASS_5A, limit=5))
    assert isinstance(newest, HistoryPage) and newest.more
    assert [e["seq"] for e in newest.events] == seqs[-5:]
    older = await anya.request(History(chat=CLASS_5A, before=seqs[-5], limit=5))
    assert isinstance(older, HistoryPage)
    assert [e["seq"] for e in older.events] == seqs[-10:-5]
    forward = await anya.request(History(chat=CLASS_5A, after=start, limit=7))
    assert isinstance(forward, HistoryPage) and forward.more
    assert [e["seq"] for e in forward.events] == seqs[:7]
    rest = await anya.request(History(chat=CLASS_5A, after=seqs[6], limit=50))
    assert isinstance(rest, HistoryPage) and not rest.more
    assert [e["seq"] for e in rest.events] == seqs[7:]

    with pytest.raises(RequestError) as refused:
        await anya.request(History(chat="class:sosh-1-5b"))
    assert refused.value.code == "chat.not_found"  # not a member: looks like no such chat


async def test_chat_list_has_last_message_and_unread_count_and_read_moves_it(
    zvonok: Running,
) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    for i in range(3):
        await send(anya, CLASS_5A, f"новость {i}")
    listing = await boris.request(ListChats())
    assert isinstance(listing, ChatList)
    chat = next(c for c in listing.chats if c["id"] == CLASS_5A)
    assert chat["unread"] == 3
    assert chat["last_message"]["data"]["text"] == "новость 2"
    assert listing.chats[0]["id"] == CLASS_5A  # the most recently active first

    marked = await boris.request(MarkRead(chat=CLASS_5A, seq=chat["last_seq"]))
    assert isinstance(marked, Marked) and marked.read_seq == chat["last_seq"]
    receipt = await next_of(anya, Receipt)
    assert isinstance(receipt, Receipt)
    assert (receipt.person, receipt.seq) == (boris_oid, chat["last_seq"])
    info = await boris.request(GetChat(chat=CLASS_5A))
    assert isinstance(info, ChatInfo) and info.chat["unread"] == 0
    # Own messages never count as unread.
    mine = await anya.request(GetChat(chat=CLASS_5A))
    assert isinstance(mine, ChatInfo) and mine.chat["unread"] == 0


async def test_typing_reaches_the_others_only(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    await anya.send_raw(encode(Typing(chat=CLASS_5A)))  # no reply on success
    notice = await next_of(boris, TypingNotice)
    assert isinstance(notice, TypingNotice)
    assert (notice.chat, notice.person) == (CLASS_5A, anya_oid)
    marker = await send(anya, CLASS_5A, "маркер")
    # Anya's own stream has the marker but no typing notice of her own.
    while True:
        event = await anya.next_event()
        assert not isinstance(event, TypingNotice)
        if isinstance(event, ChatEventMsg) and event.seq == marker.seq:
            break


async def test_presence_follows_the_last_connection_of_a_person(zvonok: Running) -> None:
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya = await zvonok.connect(anya_oid)
    phone = await zvonok.connect(boris_oid)
    online = await next_of(anya, Presence)
    assert isinstance(online, Presence) and (online.person, online.online) == (boris_oid, True)
    laptop = await zvonok.connect(boris_oid)
    await phone.close()
    state = await anya.request(QueryPresence(people=[boris_oid, 999]))
    assert isinstance(state, PresenceList)
    assert state.people == [{"person": boris_oid, "online": True, "last_seen": None}]

    assert isinstance(zvonok.clock, ManualClock)
    zvonok.clock.advance(5.0)
    await laptop.close()
    offline = await next_of(anya, Presence)
    assert isinstance(offline, Presence)
    assert (offline.person, offline.online, offline.last_seen) == (
        boris_oid,
        False,
        zvonok.clock.time(),
    )


async def test_a_teacher_makes_a_group_and_changes_its_members(zvonok: Running) -> None:
    students = students_5a(zvonok)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    pupil = await zvonok.connect(students[0])
    info = await teacher.request(
        CreateGroup(school="sosh-1", title="Олимпиада по математике", members=[students[0]])
    )
    assert isinstance(info, ChatInfo)
    group = info.chat["id"]
    [joined] = await chat_events(pupil, group, 1)
    assert joined.kind == "members" and students[0] in joined.data["added"]
    await send(teacher, group, "Первое задание")
    [task] = await chat_events(pupil, group, 1)
    assert task.data["text"] == "Первое задание"

    with pytest.raises(RequestError) as refused:
        await pupil.request(CreateGroup(school="sosh-1", title="Свой", members=[students[1]]))
    assert refused.value.code == "policy.forbidden"
    with pytest.raises(RequestError) as fixed:
        await teacher.request(ChangeMembers(chat=CLASS_5A, add=(), remove=(students[0],)))
    assert fixed.value.code == "chat.members_fixed"

    await teacher.request(ChangeMembers(chat=group, add=(), remove=(students[0],)))
    removed = await next_of(pupil, ChatRemoved)
    assert isinstance(removed, ChatRemoved) and removed.chat == group
    with pytest.raises(RequestError) as gone:
        await pupil.request(History(chat=group))
    assert gone.value.code == "chat.not_found"


async def test_a_direct_chat_outside_ones_school_is_refused(zvonok: Running) -> None:
    anya = await zvonok.connect(students_5a(zvonok)[0])
    with pytest.raises(RequestError) as refused:
        await anya.request(OpenDirect(person=4242424242))
    assert refused.value.code == "person.not_found"


async def test_sends_past_the_rate_get_retry_after_and_pass_later(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(
        clock, chat=relaxed_chat(student_sends_per_second=1.0, student_send_burst=3)
    )
    anya = await zvonok.connect(students_5a(zvonok)[0])
    for i in range(3):
        await send(anya, CLASS_5A, f"{i}")
    with pytest.raises(RequestError) as limited:
        await send(anya, CLASS_5A, "ещё")
    assert limited.value.code == "rate.limited"
    assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 1.0
    clock.advance(limited.value.retry_after)
    await send(anya, CLASS_5A, "теперь можно")


async def test_too_long_and_empty_messages_are_refused(zvonok: Running) -> None:
    anya = await zvonok.connect(students_5a(zvonok)[0])
    with pytest.raises(RequestError) as long:
        await send(anya, CLASS_5A, "я" * 4097)
    assert long.value.code == "message.too_long"
    with pytest.raises(RequestError) as empty:
        await send(anya, CLASS_5A, "   ")
    assert empty.value.code == "message.empty"
    await send(anya, CLASS_5A, "я" * 4096)


async def test_a_resume_too_far_behind_gets_a_gap_not_silence(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, chat=relaxed_chat(sync_limit=5))
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya = await zvonok.connect(anya_oid)
    start = await last_seq(anya, CLASS_5A)
    seqs = [(await send(anya, CLASS_5A, f"{i}")).seq for i in range(8)]
    boris = await zvonok.connect(boris_oid, resume={CLASS_5A: start})
    gap = await next_of(boris, Gap)
    assert isinstance(gap, Gap)
    assert (gap.chat, gap.from_seq, gap.to_seq) == (CLASS_5A, start + 1, seqs[-1])
    live = await send(anya, CLASS_5A, "дальше")
    [event] = await chat_events(boris, CLASS_5A, 1)
    assert event.seq == live.seq
    # The client pages the gap from history: nothing was lost.
    page = await boris.request(History(chat=CLASS_5A, after=start, limit=50))
    assert isinstance(page, HistoryPage)
    assert [e["seq"] for e in page.events] == [*seqs, live.seq]
