"""A ``sync`` is answered when its catch-up is done, without holding the socket.

A student back from a long time away syncs her class chat on a phone that
reads slowly, and sends a message while the replay crawls.  Her message is
handled (stored, acknowledged in order behind the replay, and delivered to
the class) at once: a catch-up paced by her reading must not hold every
other request of hers behind it.
"""

from __future__ import annotations

import asyncio

from server.appkeys import STORE
from server.clock import ManualClock
from signaling.chat import ChatEventMsg, Send, Sync
from signaling.codec import encode
from signaling.messages import Hello, Welcome
from tests.conftest import ServerFactory, relaxed_chat
from tests.rawws import RawWebSocket
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A
from tests.server.test_removal_catchup import ANYA, BEHIND, TEXT, read_message


async def test_a_request_after_a_slow_sync_is_served_before_the_sync_ends(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(
        clock,
        chat=relaxed_chat(),
        outbound_queue=16,
        frames_per_second=1e6,
        frame_burst=1_000_000,
        max_text=len(TEXT),
    )
    store = zvonok.app[STORE]
    start = (await store.chat_positions(ANYA))[CLASS_5A]
    for n in range(BEHIND):
        await store.post(
            chat_id=CLASS_5A,
            author=CLASS_TEACHER_5A,
            text=TEXT,
            reply_to=None,
            key=f"old-{n}",
            now=clock.time(),
        )
    teacher = await zvonok.connect(CLASS_TEACHER_5A)

    slow = await RawWebSocket.connect(zvonok.ws_url)
    await slow.send_binary(encode(Hello(1, zvonok.token(ANYA), "reads-slowly"), 1))
    assert isinstance(await read_message(slow), Welcome)
    await slow.send_binary(encode(Sync(positions={CLASS_5A: start}), 2))
    await slow.send_binary(encode(Send(chat=CLASS_5A, text="я вернулась", key="back-1"), 3))
    # She reads nothing more; the teacher sees her message all the same.
    async with asyncio.timeout(20):
        while True:
            event = await teacher.next_of(ChatEventMsg)  # type: ignore[attr-defined]
            if event.chat == CLASS_5A and event.data.get("text") == "я вернулась":
                break
    slow.close()
