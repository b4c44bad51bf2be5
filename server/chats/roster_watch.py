"""Announce roster changes to open connections, whoever made them.

A roster import (through the server or ``zvonok roster import`` in another
process) writes the membership events of the roster chats and an outbox
row (``roster_changes``) in its transaction.  Every server node follows the
outbox: when poked by an import it served, or every ``poll`` seconds for
imports made elsewhere, it publishes the changes it has not announced yet,
so the people concerned join and leave those chats on their open
connections at once.  Publishing twice is harmless: feeds order by seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from server.errors import ZvonokError
from server.store.base import Store

from .service import ChatService

log = logging.getLogger(__name__)


class RosterWatch:
    def __init__(self, store: Store, chats: ChatService, *, poll: float) -> None:
        self._store = store
        self._chats = chats
        self._poll = poll
        self._generation = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], Awaitable[None]]] = []

    def add_listener(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call ``listener`` after each batch of changes is announced (the
        rooms take out whoever the roster no longer lets in)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start following from now: what happened before is in every feed's catch-up."""
        self._generation = await self._store.roster_generation()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def poke(self) -> None:
        """Look at the outbox now (an import just committed)."""
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            # Real time on purpose: this bounds how late another process's
            # import is noticed, it is not a domain timer.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.catch_up()
            except ZvonokError as exc:
                log.warning("roster changes not announced yet: %s", exc.code)

    async def catch_up(self) -> None:
        """Publish every recorded change after the last one announced."""
        while True:
            batches = await self._store.roster_changes_after(self._generation)
            if not batches:
                return
            self._chats.guard.forget_roster()
            for generation, changes in batches:
                for change in changes:
                    await self._chats.publish_membership(change)
                self._generation = generation
                log.info("roster change %d announced: %d chats", generation, len(changes))
            for listener in self._listeners:
                try:
                    await listener()
                except ZvonokError as exc:  # the next change looks again
                    log.warning("roster change not applied to live rooms: %s", exc.code)
