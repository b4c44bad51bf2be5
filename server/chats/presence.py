"""Presence: who is online now, and when the others were last seen.

A person is online while at least one of their connections is open on this
node; the first connection to open and the last to close change their state,
so a phone and a laptop together make one presence.  A change is announced
to the person's contacts (everyone they share a chat with) on their person
topics, as an ephemeral frame: presence is not stored history, and a client
that missed a change asks with ``presence.query``.  The moment the last
connection closes is stored as the person's ``last_seen``.

Across several nodes the counts live in Redis
(:class:`server.redispresence.RedisPresenceCounts`): online means a
connection on any node, and a node that dies stops holding its people
online within its claims' lifetime, when one of the others announces them
offline.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from server.bus import Bus, person_topic
from server.clock import Clock
from server.store.base import ChatStore
from signaling.chat import Presence as PresenceMsg
from signaling.chat import PresenceEntry
from signaling.codec import encode

log = logging.getLogger(__name__)


class PresenceCounts(Protocol):
    """Open connections per person: on this node, or on every node."""

    def start(self, on_gone: Callable[[int], Awaitable[None]]) -> None: ...

    async def close(self) -> None: ...

    async def add(self, oid: int) -> bool:
        """One more connection; whether the person was offline before."""
        ...

    async def remove(self, oid: int) -> bool:
        """One fewer; whether the person is offline now."""
        ...

    async def online(self, people: Sequence[int]) -> set[int]: ...


class LocalPresenceCounts:
    """This process's connections only (the embedded default)."""

    def __init__(self) -> None:
        self._connections: Counter[int] = Counter()

    def start(self, on_gone: Callable[[int], Awaitable[None]]) -> None:
        pass  # a process that dies takes its presence with it

    async def close(self) -> None:
        pass

    async def add(self, oid: int) -> bool:
        self._connections[oid] += 1
        return self._connections[oid] == 1

    async def remove(self, oid: int) -> bool:
        if self._connections[oid] <= 0:
            return False
        self._connections[oid] -= 1
        if self._connections[oid] == 0:
            del self._connections[oid]
            return True
        return False

    async def online(self, people: Sequence[int]) -> set[int]:
        return {oid for oid in people if self._connections[oid] > 0}


class Presence:
    """Online state of the people connected to this node (or to any node)."""

    def __init__(
        self, store: ChatStore, bus: Bus, clock: Clock, counts: PresenceCounts | None = None
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._counts = counts or LocalPresenceCounts()

    def start(self) -> None:
        self._counts.start(self._gone)

    async def close(self) -> None:
        await self._counts.close()

    async def connected(self, oid: int) -> None:
        if await self._counts.add(oid):
            await self._announce(oid, online=True, last_seen=None)

    async def disconnected(self, oid: int) -> None:
        if await self._counts.remove(oid):
            await self._gone(oid)

    async def _gone(self, oid: int) -> None:
        """No connection of ``oid`` is left (here, or on any node)."""
        now = self._clock.time()
        await self._store.set_last_seen(oid, now)
        await self._announce(oid, online=False, last_seen=now)

    async def query(self, oid: int, people: Sequence[int]) -> list[PresenceEntry]:
        """The state of those of ``people`` who share a chat with ``oid``
        (others are left out: presence is not for strangers)."""
        contacts = await self._store.contacts(oid)
        asked = [p for p in dict.fromkeys(people) if p in contacts or p == oid]
        seen = await self._store.last_seen(asked)
        online = await self._counts.online(asked)
        return [{"person": p, "online": p in online, "last_seen": seen.get(p)} for p in asked]

    async def _announce(self, oid: int, *, online: bool, last_seen: float | None) -> None:
        frame = encode(PresenceMsg(person=oid, online=online, last_seen=last_seen))
        event = {"frame": frame, "from": oid}
        for contact in await self._store.contacts(oid):
            await self._bus.publish(person_topic(contact), event)
