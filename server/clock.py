"""Time as a dependency.

Domain code never calls :func:`time.time` or :func:`asyncio.sleep` directly: it
asks a :class:`Clock`.  Production uses :class:`SystemClock`; tests use
:class:`ManualClock` and move time forward with :meth:`ManualClock.advance`, so
token expiry, heartbeats and rate limits are tested without waiting.

One clock gives two readings: ``time()`` is wall-clock seconds since the epoch
(compared with token ``exp``/``nbf``), ``monotonic()`` is for intervals and
deadlines.  ``sleep_until`` takes a monotonic deadline, so a periodic loop that
computes its next deadline from a fixed schedule cannot drift or miss a tick
when it is scheduled late.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    """Source of time and of sleeps."""

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, delay: float) -> None:
        """Suspend for ``delay`` seconds of this clock's time."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Suspend until ``monotonic()`` reaches ``deadline`` (at once if it has)."""
        ...


class SystemClock:
    """The real clock: the OS wall clock and the event loop's monotonic time."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))


class ManualClock:
    """A clock that moves only when a test calls :meth:`advance`.

    Sleepers are woken in deadline order.  Wall time and monotonic time move
    together; ``start`` sets the initial wall time.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._offset = start
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._offset + self._now

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, delay: float) -> None:
        await self.sleep_until(self._now + delay)

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many coroutines are waiting on this clock (for test assertions)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
