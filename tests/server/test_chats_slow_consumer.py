"""A client that never reads: cut off, without slowing the others, and able to resume."""

from __future__ import annotations

import pytest

from server import connection as connection_module
from server.appkeys import SESSIONS
from server.clock import ManualClock
from server.connection import Connection
from signaling.chat import AckMsg, Send, Synced, Typing
from signaling.codec import decode_server_frame, encode
from signaling.messages import Hello, Welcome
from tests.conftest import ServerFactory, relaxed_chat
from tests.rawws import RawWebSocket
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, chat_events, students_5a

MAX_SENDS = 3000  # bound on the load; the kernel buffers fill long before
TEXT = "ы" * 4000  # 8 KB of UTF-8 per frame


async def test_a_client_that_never_reads_is_closed_as_slow_consumer_and_resumes(
    make_server: ServerFactory, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_module, "CLOSE_TIMEOUT", 0.5)
    zvonok = await make_server(
        clock,
        chat=relaxed_chat(sync_limit=10_000),
        outbound_queue=16,
        frames_per_second=1e6,
        frame_burst=1_000_000,
    )
    students = students_5a(zvonok)
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    reader = await zvonok.connect(students[0])

    slow = await RawWebSocket.connect(zvonok.ws_url)
    await slow.send_binary(encode(Hello(1, zvonok.token(students[1]), "never-reads"), 1))
    _, payload = await slow.read_frame()  # after this, the client reads nothing more
    welcome = decode_server_frame(payload).message
    assert isinstance(welcome, Welcome)  # sent once the chat feed is subscribed
    session = zvonok.app[SESSIONS].get(welcome.session_id)
    assert isinstance(session, Connection)
    first = await teacher.request(Send(chat=CLASS_5A, text="начало", key="start"))
    assert isinstance(first, AckMsg)
    start = first.seq - 1

    sent = 0
    typing = encode(Typing(chat=CLASS_5A))
    while session.close_reason is None and sent < MAX_SENDS:
        await teacher.request(Send(chat=CLASS_5A, text=TEXT, key=f"load-{sent}"))
        await teacher.send_raw(typing)  # ephemeral: dropped first for the slow client
        sent += 1
    assert session.close_reason == "slow_consumer", f"still open after {sent} sends"
    assert session.dropped > 0  # typing notices went before anything stored
    await session.wait_closed()
    slow.close()

    # The reader kept up with every message, in order.
    events = await chat_events(reader, CLASS_5A, sent + 1)
    assert [e.seq for e in events] == list(range(start + 1, start + sent + 2))

    # The slow client comes back and misses nothing.
    back = await zvonok.connect(students[1], resume={CLASS_5A: start})
    again = await chat_events(back, CLASS_5A, sent + 1)
    assert [e.seq for e in again] == [e.seq for e in events]
    while not isinstance(await back.next_event(), Synced):
        pass
