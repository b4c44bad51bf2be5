"""A removal takes effect at once, however slowly the removed person reads.

A student resumes far behind in the class chat on a socket she does not
read, so the server's catch-up for her is stuck on a full outbound queue.
A roster upload moves her to another class, and the teacher posts three
messages.  None of them may reach her, by catch-up, live delivery, history
or HTTP, and ``chat.removed`` must come at once, not after the catch-up
(docs/chats.md, "Removal"; issue 12, point 3).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.roster.demo import DEMO_ROSTER
from signaling.chat import ChatEventMsg, ChatRemoved, History, HistoryPage, Sync, Synced
from signaling.client import RequestError
from signaling.codec import decode_server_frame, encode
from signaling.messages import Hello, Message, Ping, Pong, Welcome
from signaling.safety import Remove
from tests.conftest import Running, ServerFactory, relaxed_chat
from tests.rawws import RawWebSocket
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, chat_events, next_of, send
from tests.server.test_http_chats import call
from tests.server.test_safety_ws import make_group

pytestmark = pytest.mark.both_engines

ANYA, BORIS = 1000100101, 1000100102  # students of 5A
ADMIN = 1000100001
BEHIND = 950  # under chat.sync_limit (1000): replayed, not a gap
TEXT = "ы" * 8000  # 16 KB of UTF-8 a frame: the catch-up is far more than the buffers hold
AFTER = ("после-1", "после-2", "после-3")
READ_TIMEOUT = 30.0


def move_to_5b(roster: dict[str, object], oid: int) -> dict[str, object]:
    school = roster["schools"][0]  # type: ignore[index]
    a, b = school["classes"]
    a["students"].remove(oid)
    b["students"].append(oid)
    return roster


async def upload(zvonok: Running, roster: dict[str, object]) -> None:
    reply = await call(
        zvonok,
        "POST",
        f"{zvonok.base}/api/v1/admin/roster",
        ADMIN,
        data=json.dumps(roster).encode(),
    )
    assert reply.status == 200, reply.body


async def read_message(raw: RawWebSocket) -> Message:
    async with asyncio.timeout(READ_TIMEOUT):
        while True:
            opcode, payload = await raw.read_frame()
            if opcode == 0x2:
                return decode_server_frame(payload).message


@pytest.mark.parametrize("via", ["resume", "sync"])
@pytest.mark.parametrize("by", ["roster", "moderator"])
async def test_a_student_removed_during_a_slow_catch_up_gets_nothing_posted_after(
    make_server: ServerFactory, clock: ManualClock, by: str, via: str
) -> None:
    """``roster``: an upload moves her out of the class; ``moderator``: the
    school's admin removes her from a teacher's group (moderation.remove).
    ``resume``: the catch-up follows her hello; ``sync``: her ``sync`` asks it."""
    zvonok = await make_server(
        clock,
        chat=relaxed_chat(),
        outbound_queue=16,
        frames_per_second=1e6,
        frame_burst=1_000_000,
        max_text=len(TEXT),
    )
    store = zvonok.app[STORE]
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    chat = CLASS_5A if by == "roster" else await make_group(teacher, [ANYA, BORIS])
    start = (await store.chat_positions(ANYA))[chat]
    await asyncio.gather(
        *(
            store.post(
                chat_id=chat,
                author=CLASS_TEACHER_5A,
                text=TEXT,
                reply_to=None,
                key=f"old-{n}",
                now=clock.time(),
            )
            for n in range(BEHIND)
        )
    )
    # Stored without being published: the teacher's feed learns of them
    # with the next event and catches up; the test reads hers from then on.
    watcher = await zvonok.connect(CLASS_TEACHER_5A)

    slow = await RawWebSocket.connect(zvonok.ws_url)
    resume = {chat: start} if via == "resume" else None
    await slow.send_binary(encode(Hello(1, zvonok.token(ANYA), "reads-slowly", resume=resume), 1))
    assert isinstance(await read_message(slow), Welcome)
    if via == "sync":
        await slow.send_binary(encode(Sync(positions={chat: start}), 2))
    # From here the client reads nothing until the three posts are acknowledged.

    if by == "roster":
        await upload(zvonok, move_to_5b(json.loads(DEMO_ROSTER.read_text("utf-8")), ANYA))
    else:
        admin = await zvonok.connect(ADMIN)
        await admin.request(Remove(chat=chat, person=ANYA))
    (removal,) = await chat_events(watcher, chat, 1)
    assert removal.kind == "members" and ANYA in removal.data["removed"]
    for text in AFTER:
        await send(teacher, chat, text)

    # Now she reads everything that was sent to her, up to a pong that
    # follows it all (the pong is queued after whatever was queued before).
    got: list[Message] = []
    removed_at: int | None = None  # how many of the chat's events came before chat.removed
    synced = False
    while not synced:
        message = await read_message(slow)
        got.append(message)
        if isinstance(message, ChatRemoved) and message.chat == chat:
            removed_at = sum(isinstance(m, ChatEventMsg) and m.chat == chat for m in got)
        synced = isinstance(message, Synced)
    await slow.send_binary(encode(Ping(), 2))
    while not isinstance(message := await read_message(slow), Pong):
        got.append(message)
    slow.close()

    mine = [m for m in got if isinstance(m, ChatEventMsg) and m.chat == chat]
    assert not [m for m in mine if m.seq > removal.seq], "events after the removal reached her"
    assert not [m for m in mine if m.data.get("text") in AFTER]
    assert [m.seq for m in mine] == list(range(start + 1, start + 1 + len(mine)))  # no holes
    # chat.removed came once, at once: while the catch-up was still far from
    # done, not after it; and nothing of the chat after it.
    assert removed_at is not None, "no chat.removed"
    assert [m for m in got if isinstance(m, ChatRemoved)] == [ChatRemoved(chat=chat)]
    assert removed_at == len(mine) < BEHIND, f"chat.removed after {removed_at} events"
    (done,) = [m for m in got if isinstance(m, Synced)]
    assert isinstance(done, Synced) and chat not in done.positions

    # History, over the socket and over HTTP, has nothing for her either.
    anya = await zvonok.connect(ANYA)
    try:
        await anya.request(History(chat=chat, after=removal.seq - 1))
    except RequestError as refusal:
        assert refusal.code == "chat.not_found"
    else:
        raise AssertionError("history of a chat she was removed from")
    url = f"{zvonok.base}/api/v1/chats/{chat}/events"
    reply = await call(zvonok, "GET", url, ANYA, params={"after": str(removal.seq - 1)})
    assert (reply.status, reply.body["error"]["code"]) == (404, "chat.not_found")
    listed = await call(zvonok, "GET", f"{zvonok.base}/api/v1/chats", ANYA)
    assert chat not in {c["id"] for c in listed.body["chats"]}
    # The store's read for her stops at her removal, from any position.
    for after in (start, removal.seq - 1):
        events, ends_removed = await store.events_for(chat, ANYA, after=after, limit=2000)
        assert (events[-1].seq, ends_removed) == (removal.seq, True)


async def test_a_student_added_again_sees_the_chat_as_a_member_added_later_does(
    zvonok: Running,
) -> None:
    """The decision of docs/chats.md, "Removal": while out, nothing reaches
    her; once added again, her feed goes on from the event that added her,
    and the history is hers as it is every member's, the time out included."""
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya = await zvonok.connect(ANYA)
    before = await send(teacher, CLASS_5A, "до")
    assert (await chat_events(anya, CLASS_5A, 1))[0].seq == before.seq

    await upload(zvonok, move_to_5b(json.loads(json.dumps(roster)), ANYA))
    removed = await next_of(anya, ChatRemoved)
    assert removed == ChatRemoved(chat=CLASS_5A)
    while_out = await send(teacher, CLASS_5A, "пока её нет")
    await upload(zvonok, roster)  # back in 5A
    (added,) = await chat_events(anya, CLASS_5A, 1)
    assert added.kind == "members" and ANYA in added.data["added"]
    assert added.seq == while_out.seq + 1  # nothing written while she was out came live
    later = await send(teacher, CLASS_5A, "с возвращением")
    assert [e.seq for e in await chat_events(anya, CLASS_5A, 1)] == [later.seq]

    page = await anya.request(History(chat=CLASS_5A, after=before.seq))
    assert isinstance(page, HistoryPage)
    texts = [e["data"].get("text") for e in page.events if e["kind"] == "message"]
    assert texts == ["пока её нет", "с возвращением"]
    # A resume from before her removal replays the log through, as history
    # does, and does not take the chat away again.
    again = await zvonok.connect(ANYA, resume={CLASS_5A: before.seq})
    replayed: list[Message] = []
    while not isinstance(message := await again.next_event(timeout=READ_TIMEOUT), Synced):
        replayed.append(message)
    assert not [m for m in replayed if isinstance(m, ChatRemoved)]
    seqs = [m.seq for m in replayed if isinstance(m, ChatEventMsg) and m.chat == CLASS_5A]
    assert seqs == list(range(before.seq + 1, later.seq + 1))
    assert message.positions[CLASS_5A] == later.seq
