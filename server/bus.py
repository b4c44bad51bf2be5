"""The event bus: how one part of the server tells others that something happened.

Chats publish each committed event to the topic of its chat and membership
changes to the topics of the people concerned; each connection subscribes to
its person's topic and to the topics of that person's chats.  :class:`Bus` is
the seam: :class:`LocalBus` delivers within this process (the embedded
default); the Redis bus (:mod:`server.redisbus`), for several nodes, satisfies the same protocol.

A subscriber is a plain callback, called in the publisher's task.  It must
not block and must not raise: it records what it needs and returns (a
connection puts a ready frame on its bounded outbound queue, or notes that
it must catch up from storage).  So a publish costs one call per subscriber
and a slow subscriber cannot hold up a publisher or grow the bus.  Events on
the bus are hints that something changed, never the only copy: storage is
the source of truth, and a subscriber that misses an event finds it there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Event = Mapping[str, Any]
Handler = Callable[[str, Event], None]
"""Called with the topic and the event; must return quickly and never raise."""


class Bus(Protocol):
    """Publish/subscribe by topic name."""

    async def publish(self, topic: str, event: Event) -> None: ...

    def post(self, topic: str, event: Event) -> None:
        """Publish without waiting, for callers that must not (a room's sink)."""
        ...

    async def subscribe(self, topic: str, handler: Handler) -> None:
        """Deliver the topic's events published from now on to ``handler``."""
        ...

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        """Stop; a handler that was not subscribed is ignored."""
        ...

    async def close(self) -> None: ...


def chat_topic(chat_id: str) -> str:
    return f"chat:{chat_id}"


def person_topic(oid: int) -> str:
    return f"person:{oid}"


class LocalBus:
    """An in-process bus: publishing calls each subscriber's handler in turn."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    @property
    def topics(self) -> int:
        return len(self._handlers)

    def subscribed(self, topic: str) -> int:
        """How many handlers follow ``topic``."""
        return len(self._handlers.get(topic, ()))

    def topic_names(self) -> list[str]:
        return list(self._handlers)

    async def publish(self, topic: str, event: Event) -> None:
        self.deliver(topic, event)

    def post(self, topic: str, event: Event) -> None:
        self.deliver(topic, event)

    def deliver(self, topic: str, event: Event) -> None:
        """Call each of the topic's handlers (the Redis bus's way in, too)."""
        # A copy, so a handler may (un)subscribe without disturbing the loop.
        for handler in tuple(self._handlers.get(topic, ())):
            try:
                handler(topic, event)
            except Exception:  # a broken subscriber must not stop the others
                log.exception("bus handler for %s failed", topic)

    async def subscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.setdefault(topic, [])
        if handler not in handlers:
            handlers.append(handler)

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.get(topic)
        if handlers is None:
            return
        if handler in handlers:
            handlers.remove(handler)
        if not handlers:
            del self._handlers[topic]

    async def close(self) -> None:
        self._handlers.clear()
