"""A position the client claims past the chat's end does not outlive a removal.

The red team's steps (issue 12, point 3): a student resumes (or syncs) the
class chat from one past its last seq.  The feed took the number as it came,
so the event that removed her (the chat's next seq) was neither the next one
it expected nor a later one, and her ``left`` notice compared as already
seen: she stayed subscribed, and from the seq after, every message of the
class she no longer belonged to came to her live, with the class's typing
notices, and her own typing still reached the class.

Positions are the server's to bound: a claimed position is taken no further
than the chat's stored end, and a removal is applied whatever the feed's
position says.
"""

from __future__ import annotations

import json

import pytest

from server.roster.demo import DEMO_ROSTER
from signaling.chat import ChatEventMsg, ChatRemoved, Sync, Synced, Typing, TypingNotice
from signaling.client import Client
from signaling.codec import encode
from signaling.messages import Error, Message, Ping
from tests.conftest import Running
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, last_seq, send
from tests.server.test_removal_catchup import ANYA, move_to_5b, upload

pytestmark = pytest.mark.both_engines

TYPING_RID = 77


async def queued(client: Client) -> list[Message]:
    """Every event the server sent before the answer to a ``ping`` sent now.

    The server answers in order on one socket, so once the pong is back,
    everything it queued earlier is in the client's event queue; reading
    that queue with a zero timeout takes what is there and waits for nothing.
    """
    await client.request(Ping())
    got: list[Message] = []
    while True:
        try:
            got.append(await client.next_event(timeout=0))
        except TimeoutError:
            return got


@pytest.mark.parametrize("ahead", [1, 2**40])
@pytest.mark.parametrize("via", ["resume", "sync"])
async def test_a_student_who_claims_a_later_position_is_removed_all_the_same(
    zvonok: Running, via: str, ahead: int
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    last = await last_seq(teacher, CLASS_5A)
    claimed = {CLASS_5A: last + ahead}
    synced: Message
    if via == "resume":
        anya = await zvonok.connect(ANYA, resume=claimed)
        synced = await anya.next_of(Synced)
    else:
        anya = await zvonok.connect(ANYA)
        synced = await anya.request(Sync(positions=claimed))
    assert isinstance(synced, Synced)
    assert synced.positions[CLASS_5A] == last, "a position past the chat's end was kept"

    await upload(zvonok, move_to_5b(json.loads(DEMO_ROSTER.read_text("utf-8")), ANYA))
    assert await anya.next_of(ChatRemoved, timeout=10) == ChatRemoved(chat=CLASS_5A)

    await teacher.send_raw(encode(Typing(chat=CLASS_5A)))
    for text in ("после-1", "после-2", "после-3"):
        await send(teacher, CLASS_5A, text)
    await anya.send_raw(encode(Typing(chat=CLASS_5A), TYPING_RID))

    hers = await queued(anya)
    leaked = [m for m in hers if isinstance(m, ChatEventMsg | TypingNotice)]
    assert not [m for m in leaked if m.chat == CLASS_5A], "the class reached her after removal"
    refusals = [m for m in hers if isinstance(m, Error)]
    assert [r.code for r in refusals] == ["chat.not_found"], "her typing was not refused"
    theirs = await queued(teacher)
    assert not [m for m in theirs if isinstance(m, TypingNotice) and m.person == ANYA]
