"""Keyframe requests: the first at once, the rest coalesced, none dropped."""

from __future__ import annotations

import asyncio

import pytest

from media.keyframes import KeyframeRequester


async def test_requests_in_the_quiet_interval_become_one_more_at_its_end() -> None:
    loop = asyncio.get_running_loop()
    sent: asyncio.Queue[float] = asyncio.Queue()

    async def send() -> None:
        sent.put_nowait(loop.time())

    requester = KeyframeRequester(send, 0.2, now=loop.time)
    requester.request()
    first = await asyncio.wait_for(sent.get(), 1)
    for _ in range(5):
        requester.request()  # a burst of subscribers' PLIs
    second = await asyncio.wait_for(sent.get(), 1)

    assert second - first >= 0.2 - 0.005  # never two within the interval
    assert (requester.asked, requester.sent) == (6, 2)
    assert sent.empty()
    requester.close()


async def test_a_request_after_the_interval_goes_at_once() -> None:
    now = [100.0]
    sent: list[float] = []

    async def send() -> None:
        sent.append(now[0])

    requester = KeyframeRequester(send, 0.5, now=lambda: now[0])
    requester.request()
    now[0] += 0.6
    requester.request()
    assert requester.sent == 2  # both went out when asked, none was held back
    await asyncio.sleep(0)  # let the two send tasks run (they are scheduled, not timed)
    assert len(sent) == 2
    requester.close()


async def test_closing_cancels_a_request_still_due() -> None:
    loop = asyncio.get_running_loop()
    sent: asyncio.Queue[None] = asyncio.Queue()

    async def send() -> None:
        sent.put_nowait(None)

    requester = KeyframeRequester(send, 0.05, now=loop.time)
    requester.request()
    await asyncio.wait_for(sent.get(), 1)
    requester.request()  # due at the end of the 50 ms interval
    requester.close()
    # Without close() it would be sent within 50 ms (the first test shows the
    # trailing request going out); three intervals pass with nothing sent.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sent.get(), 0.15)
    assert requester.sent == 1
