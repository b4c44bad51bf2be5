"""Reactions are emoji, and a muted member adds none: through the real server on 127.0.0.1.

Issue 12, point 2: words and links were accepted as reactions, stored and delivered to
the class, also from a muted student (docs/protocol.md ``react``, docs/safety.md).
"""

from __future__ import annotations

import pytest

from server.clock import ManualClock
from signaling.chat import AckMsg, React
from signaling.client import RequestError
from signaling.safety import Mute
from tests.conftest import Running
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, chat_events, last_seq, send

pytestmark = pytest.mark.both_engines

ANYA, BORIS = 1000100101, 1000100102  # students of 5A

# Each one was stored and delivered to the class before the fix.
NOT_EMOJI = [
    "хуй",
    "vk.com",
    "t.me/x",
    "x",
    "👍👍",  # two emoji
    "👍 ",  # an emoji and a space
    "❤",  # text style: no variation selector
    "1",  # a digit alone is no keycap
    "\u200d",
    "🇷",  # half a flag
]
# One emoji each: plain, skin tone, ZWJ sequence, flag, keycap, tag flag, a component.
EMOJI = ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🇷🇺", "1️⃣", "❤️", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "🏽"]


@pytest.mark.parametrize("text", NOT_EMOJI)
async def test_a_reaction_that_is_not_one_emoji_is_refused_and_nothing_is_stored(
    zvonok: Running, text: str
) -> None:
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    posted = await send(anya, CLASS_5A, "Кто идёт на экскурсию?")
    before = await last_seq(boris, CLASS_5A)
    with pytest.raises(RequestError) as refused:
        await boris.request(React(chat=CLASS_5A, message_id=posted.message_id, emoji=text))
    assert refused.value.code == "chat.invalid"
    assert await last_seq(boris, CLASS_5A) == before


async def test_every_kind_of_emoji_sequence_is_a_reaction(zvonok: Running) -> None:
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    posted = await send(anya, CLASS_5A, "Кто идёт на экскурсию?")
    for emoji in EMOJI:
        ack = await boris.request(React(chat=CLASS_5A, message_id=posted.message_id, emoji=emoji))
        assert isinstance(ack, AckMsg)
    events = await chat_events(anya, CLASS_5A, 1 + len(EMOJI))
    assert [e.data["emoji"] for e in events[1:]] == EMOJI


async def test_a_muted_member_may_take_a_reaction_back_but_not_add_one(
    zvonok: Running, clock: ManualClock
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    anya, boris = await zvonok.connect(ANYA), await zvonok.connect(BORIS)
    posted = await send(anya, CLASS_5A, "Кто идёт на экскурсию?")
    await boris.request(React(chat=CLASS_5A, message_id=posted.message_id, emoji="👍"))
    await teacher.request(Mute(chat=CLASS_5A, person=BORIS, seconds=600))
    before = await last_seq(boris, CLASS_5A)

    with pytest.raises(RequestError) as refused:
        await boris.request(React(chat=CLASS_5A, message_id=posted.message_id, emoji="😡"))
    assert refused.value.code == "moderation.muted"
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 600
    assert await last_seq(boris, CLASS_5A) == before

    back = React(chat=CLASS_5A, message_id=posted.message_id, emoji="👍", on=False)
    ack = await boris.request(back)
    assert isinstance(ack, AckMsg) and ack.seq == before + 1
    clock.advance(600)  # the mute ends by itself
    again = await boris.request(React(chat=CLASS_5A, message_id=posted.message_id, emoji="😡"))
    assert isinstance(again, AckMsg)
