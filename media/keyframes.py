"""Keyframe requests to a publisher: prompt, but never more than one per interval.

A new subscriber, a subscriber that resumes a hidden tile, or one that lost
a picture (its PLI) each needs a keyframe from the publisher. A keyframe is
large, so requests are coalesced: the first goes out at once, and any that
come during the next ``interval`` seconds are answered by one more request
when that interval ends. None is dropped: a request during the quiet time is
served late, not ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class KeyframeRequester:
    """Coalesces keyframe requests for one publisher's video track."""

    def __init__(
        self,
        send: Callable[[], Awaitable[None]],
        interval: float,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._now = now
        self._last_sent: float | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0  # requests that went to the publisher
        self.asked = 0  # requests made

    def request(self) -> None:
        """Ask for a keyframe: now, or at the end of the current quiet interval."""
        self.asked += 1
        if self._pending is not None:
            return  # one request is already due at the end of the interval
        now = self._now()
        if self._last_sent is None or now - self._last_sent >= self._interval:
            self._fire()
            return
        delay = self._last_sent + self._interval - now
        self._pending = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self._last_sent = self._now()
        self.sent += 1
        task = asyncio.get_running_loop().create_task(self._send_safely())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_safely(self) -> None:
        try:
            await self._send()
        except ConnectionError:
            log.debug("keyframe request not sent: the publisher's transport is closed")

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        for task in self._tasks:
            task.cancel()
