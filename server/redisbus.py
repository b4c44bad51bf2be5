"""The bus between nodes, on Redis pub/sub (redis-py's asyncio client).

:class:`RedisBus` satisfies :class:`server.bus.Bus` for several ``zvonok
serve`` processes sharing one Redis. A topic is a Redis channel; a node
subscribes to a channel once, however many of its connections follow the
topic, and hands each message to its own handlers as :class:`LocalBus`
does. An event published on this node reaches this node's handlers at
once, in the publisher's task, and goes to Redis for the others: the
node's own message coming back from Redis is recognised by its node id
and not delivered twice.

Redis pub/sub keeps nothing: a message published while a node's
subscription is down never reaches it. That is allowed by the bus's
contract (events are hints; the store is the truth): a feed that misses an
event sees the gap at the next one and catches up from the store, and when
the subscription comes back after an outage every followed chat is told to
(``{"chat", "resync": True}``, delivered on this node only), so a quiet
chat does not keep a lost message back until its next one; and each
followed person too (``{"resync": True}``), so a chat they were added to
meanwhile is followed without waiting for their next connection. So
nothing here waits for Redis on a publisher's path: events to send go on a
bounded queue that one task drains in pipelines, and when Redis is away
they are dropped and counted, never held. The subscription is one
connection, re-made with backoff after any error, subscribing again to
every topic this node follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.bus import Event, Handler, LocalBus, chat_topic, person_topic
from server.errors import ConfigError

log = logging.getLogger(__name__)

CHAT_PREFIX = chat_topic("")
PERSON_PREFIX = person_topic(0)[:-1]

OUTBOX = 10_000  # events waiting to be sent to Redis; past this they are dropped
BATCH = 256  # events sent in one pipeline
RETRY_FIRST, RETRY_MAX = 0.2, 5.0  # seconds between attempts to reach Redis again
READ_TIMEOUT = 1.0  # seconds one read of the subscription waits for a message
CONNECT_TIMEOUT = 5.0


class RedisBus:
    """Publish/subscribe across nodes through the Redis at ``url``."""

    def __init__(self, url: str, *, node: str | None = None) -> None:
        self.node = node or secrets.token_hex(8)
        self._url = url
        self._redis: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
        )
        self._local = LocalBus()
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX)
        self._pubsub: Any = None
        self._lock = asyncio.Lock()  # one command at a time on the subscription
        self._tasks: list[asyncio.Task[None]] = []
        self.lag_observer: Callable[[float], None] | None = None  # /metrics
        self.dropped = 0  # events never sent: the queue was full or Redis away
        self.received = 0
        self.connected = False
        self._subscribed_before = False

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Reach Redis now, or fail with a clear error (the node does not start)."""
        try:
            await self._redis.ping()  # type: ignore[misc]  # redis-py types sync and async as one
        except (RedisError, OSError) as exc:
            raise ConfigError(f"bus: Redis at {_safe(self._url)} is unreachable: {exc}") from None
        self.connected = True
        self._tasks = [
            asyncio.create_task(self._send(), name="redis-bus-send"),
            asyncio.create_task(self._read(), name="redis-bus-read"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._drop_subscription()
        await self._redis.aclose()
        await self._local.close()

    @property
    def topics(self) -> int:
        return self._local.topics

    @property
    def client(self) -> aioredis.Redis:
        """The node's Redis client, for what else it shares there (send limits)."""
        return self._redis

    # -- the Bus protocol ---------------------------------------------------------

    async def publish(self, topic: str, event: Event) -> None:
        self.post(topic, event)

    def post(self, topic: str, event: Event) -> None:
        self._local.deliver(topic, event)
        envelope = {"node": self.node, "sent": time.time(), "event": dict(event)}
        payload = msgpack.packb(envelope, use_bin_type=True)
        try:
            self._outbox.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.dropped += 1

    async def subscribe(self, topic: str, handler: Handler) -> None:
        first = self._local.subscribed(topic) == 0
        await self._local.subscribe(topic, handler)
        if first:
            await self._command("subscribe", topic)

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        await self._local.unsubscribe(topic, handler)
        if self._local.subscribed(topic) == 0:
            await self._command("unsubscribe", topic)

    # -- the subscription -----------------------------------------------------------

    async def _command(self, name: str, topic: str) -> None:
        """(Un)subscribe on the live subscription; when it is down, the reader
        subscribes to every followed topic as it comes back."""
        async with self._lock:
            if self._pubsub is None:
                return
            try:
                await getattr(self._pubsub, name)(topic)
            except (RedisError, OSError):
                await self._drop_subscription()

    async def _drop_subscription(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _connect(self) -> None:
        async with self._lock:
            pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                topics = self._local.topic_names()
                if topics:
                    await pubsub.subscribe(*topics)
                else:
                    await pubsub.ping()
            except BaseException:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                raise
            self._pubsub = pubsub

    async def _read(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                if self._pubsub is None:
                    await self._connect()
                    if not self.connected:
                        log.info("bus: Redis reached again")
                    self.connected = True
                    delay = RETRY_FIRST
                    if self._subscribed_before:
                        self._resync()
                    self._subscribed_before = True
                message = await self._pubsub.get_message(timeout=READ_TIMEOUT)
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("bus: Redis subscription lost (%s); retrying", type(exc).__name__)
                self.connected = False
                async with self._lock:
                    await self._drop_subscription()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            if message is not None and message.get("type") == "message":
                self._deliver(message["channel"], message["data"])

    def _resync(self) -> None:
        """The subscription was down: whatever crossed meanwhile is lost. Each
        followed chat is told to catch up from the store now (its members'
        feeds) and to forget what it cached (the guard), not at its next event."""
        for topic in self._local.topic_names():
            if topic.startswith(CHAT_PREFIX):
                self._local.deliver(topic, {"chat": topic[len(CHAT_PREFIX) :], "resync": True})
            elif topic.startswith(PERSON_PREFIX):  # a lost "joined": chats not followed yet
                self._local.deliver(topic, {"resync": True})

    def _deliver(self, channel: bytes | str, data: bytes) -> None:
        try:
            envelope = msgpack.unpackb(data, raw=False)
            node, event = envelope["node"], envelope["event"]
        except (ValueError, KeyError, TypeError, msgpack.UnpackException):
            log.warning("bus: an unreadable message on a Redis channel, ignored")
            return
        if node == self.node:
            return  # delivered here when it was published
        self.received += 1
        sent = envelope.get("sent")
        if self.lag_observer is not None and isinstance(sent, float):
            self.lag_observer(max(0.0, time.time() - sent))
        topic = channel.decode() if isinstance(channel, bytes) else channel
        self._local.deliver(topic, event)

    # -- sending ----------------------------------------------------------------------

    async def _send(self) -> None:
        delay = RETRY_FIRST
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for topic, payload in batch:
                        pipe.publish(topic, payload)
                    await pipe.execute()
                delay = RETRY_FIRST
            except (RedisError, OSError) as exc:
                self.dropped += len(batch)  # the store has them; feeds catch up
                log.warning("bus: %d events not sent to Redis (%s)", len(batch), type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)


def _safe(url: str) -> str:
    """The URL without a password, for messages and logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
