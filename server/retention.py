"""The retention sweep: a task that deletes, every ``storage.sweep_interval``
seconds, what the store keeps no longer than it must (docs/chats.md,
"Retention").  Time is the injected clock's, so tests advance it.

With several nodes each sweeps; a sweep deletes by age, so two at once
delete the same rows once and harm nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .clock import Clock
from .config import StorageConfig
from .errors import StoreUnavailable
from .store.base import Store
from .store.retention import Swept

log = logging.getLogger(__name__)


class RetentionSweep:
    """Owns the sweep task: ``start()`` once, ``stop()`` cancels and awaits it."""

    def __init__(self, store: Store, clock: Clock, config: StorageConfig) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._task: asyncio.Task[None] | None = None
        self.swept = asyncio.Event()  # set after each sweep, for those who wait on one

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sweep_once(self) -> Swept:
        """One sweep now."""
        swept = await self._store.sweep(
            now=self._clock.time(), idempotency_keys=self._config.idempotency_retention
        )
        if swept.idempotency_keys:
            log.info("retention: %d idempotency keys deleted", swept.idempotency_keys)
        self.swept.set()
        return swept

    async def _run(self) -> None:
        deadline = self._clock.monotonic()
        while True:
            try:
                await self.sweep_once()
            except StoreUnavailable:
                log.warning("retention: the store is unavailable; sweeping again later")
            # On a fixed schedule; a sweep that ran late skips the ticks it missed.
            now = self._clock.monotonic()
            while deadline <= now:
                deadline += self._config.sweep_interval
            await self._clock.sleep_until(deadline)
