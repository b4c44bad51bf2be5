"""Presence: who is online now, and when the others were last seen.

A person is online while at least one of their connections is open on this
node; the first connection to open and the last to close change their state,
so a phone and a laptop together make one presence.  A change is announced
to the person's contacts (everyone they share a chat with) on their person
topics, as an ephemeral frame: presence is not stored history, and a client
that missed a change asks with ``presence.query``.  The moment the last
connection closes is stored as the person's ``last_seen``.

Across several nodes the counts must live in Redis; that comes with the
Redis bus.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from server.bus import Bus, person_topic
from server.clock import Clock
from server.store.base import ChatStore
from signaling.chat import Presence as PresenceMsg
from signaling.chat import PresenceEntry
from signaling.codec import encode

log = logging.getLogger(__name__)


class Presence:
    """Online state of the people connected to this node."""

    def __init__(self, store: ChatStore, bus: Bus, clock: Clock) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._connections: Counter[int] = Counter()

    def online(self, oid: int) -> bool:
        return self._connections[oid] > 0

    async def connected(self, oid: int) -> None:
        self._connections[oid] += 1
        if self._connections[oid] == 1:
            await self._announce(oid, online=True, last_seen=None)

    async def disconnected(self, oid: int) -> None:
        if self._connections[oid] <= 0:
            return
        self._connections[oid] -= 1
        if self._connections[oid] == 0:
            del self._connections[oid]
            now = self._clock.time()
            await self._store.set_last_seen(oid, now)
            await self._announce(oid, online=False, last_seen=now)

    async def query(self, oid: int, people: Sequence[int]) -> list[PresenceEntry]:
        """The state of those of ``people`` who share a chat with ``oid``
        (others are left out: presence is not for strangers)."""
        contacts = await self._store.contacts(oid)
        asked = [p for p in dict.fromkeys(people) if p in contacts or p == oid]
        seen = await self._store.last_seen(asked)
        return [{"person": p, "online": self.online(p), "last_seen": seen.get(p)} for p in asked]

    async def _announce(self, oid: int, *, online: bool, last_seen: float | None) -> None:
        frame = encode(PresenceMsg(person=oid, online=online, last_seen=last_seen))
        event = {"frame": frame, "from": oid}
        for contact in await self._store.contacts(oid):
            await self._bus.publish(person_topic(contact), event)
