"""The event bus: how one part of the server tells others that something happened.

Chats publish their events to a topic per chat; connections subscribe to the
topics of the chats they show.  :class:`Bus` is the seam: :class:`LocalBus`
delivers within this process (the embedded default); a Redis side, for
several nodes, satisfies the same protocol.

Delivery to a subscriber never blocks the publisher.  Each subscription has a
bounded queue; when it is full the subscription is marked overflowed and
closed, and its owner resynchronises from storage, which is the source of
truth.  Events on the bus are hints that something changed, never the only copy.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

Event = dict[str, Any]


class Subscription(Protocol):
    """A stream of events from some topics."""

    @property
    def overflowed(self) -> bool: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


class Bus(Protocol):
    """Publish/subscribe by topic name."""

    async def publish(self, topic: str, event: Event) -> None: ...

    async def subscribe(self, *topics: str, maxsize: int = 256) -> Subscription: ...

    async def close(self) -> None: ...


_END: Event = {}


class LocalSubscription:
    """A subscription to a :class:`LocalBus`."""

    def __init__(self, bus: LocalBus, topics: tuple[str, ...], maxsize: int) -> None:
        self._bus = bus
        self.topics = topics
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize + 1)
        self._maxsize = maxsize
        self._closed = False
        self.overflowed = False

    def _offer(self, event: Event) -> None:
        if self._closed:
            return
        if self._queue.qsize() >= self._maxsize:
            self.overflowed = True
            self._end()
            return
        self._queue.put_nowait(event)

    def _end(self) -> None:
        if not self._closed:
            self._closed = True
            self._bus._forget(self)
            self._queue.put_nowait(_END)  # the one extra slot is kept for this

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self._queue.get()
            if event is _END:
                return
            yield event

    async def close(self) -> None:
        self._end()


class LocalBus:
    """An in-process bus."""

    def __init__(self) -> None:
        self._subs: defaultdict[str, set[LocalSubscription]] = defaultdict(set)

    async def publish(self, topic: str, event: Event) -> None:
        for sub in list(self._subs.get(topic, ())):
            sub._offer(event)

    async def subscribe(self, *topics: str, maxsize: int = 256) -> LocalSubscription:
        if not topics or maxsize < 1:
            raise ValueError("subscribe needs at least one topic and maxsize >= 1")
        sub = LocalSubscription(self, topics, maxsize)
        for topic in topics:
            self._subs[topic].add(sub)
        return sub

    def _forget(self, sub: LocalSubscription) -> None:
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]

    async def close(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub._end()
