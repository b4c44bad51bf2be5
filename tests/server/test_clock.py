from __future__ import annotations

import asyncio

import pytest

from server.clock import ManualClock
from server.ratelimit import TokenBucket


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woken: list[str] = []

    async def sleeper(name: str, deadline: float) -> None:
        await clock.sleep_until(deadline)
        woken.append(name)

    tasks = [asyncio.create_task(sleeper(n, d)) for n, d in (("b", 2), ("a", 1), ("c", 3))]
    await asyncio.sleep(0)  # one scheduler turn (not a timed wait): each task reaches its sleep
    assert clock.sleepers == 3
    clock.advance(2)
    await asyncio.gather(*tasks[:2])
    assert woken == ["a", "b"]
    assert clock.sleepers == 1
    clock.advance(1)
    await tasks[2]
    assert woken == ["a", "b", "c"]


async def test_sleep_until_a_past_deadline_returns_at_once() -> None:
    clock = ManualClock()
    clock.advance(10)
    await clock.sleep_until(5)
    assert clock.monotonic() == 10


def test_wall_and_monotonic_move_together() -> None:
    clock = ManualClock(start=1000.0)
    clock.advance(2.5)
    assert (clock.time(), clock.monotonic()) == (1002.5, 2.5)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_token_bucket_allows_burst_then_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.take() == 0.0
    clock.advance(100)
    assert [bucket.take() for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # refills to burst, not more
