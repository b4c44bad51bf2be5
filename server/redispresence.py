"""Who is online on any node, in Redis, and gone when their node dies (issue 18).

Each person online somewhere has a sorted set ``presence:{oid}`` of the
nodes that hold a connection of theirs, each scored with the moment its
claim expires; a node refreshes its claims every ``refresh`` seconds, so a
node that dies (SIGKILL, power) stops refreshing and its claims lapse
within ``ttl``: no one is shown online forever. ``presence:all`` scores
each online person with their latest claim, so a sweep finds the people
whose every claim lapsed; the node whose script removes them from it (one
node, whichever is first) announces them offline. All times are Redis's
own (``TIME``), since nodes' clocks differ.

While Redis is away the counts fall back to this node's own: a person is
online if this node has a connection of theirs, as with one node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

TTL = 30.0  # seconds a node's claim lasts without a refresh
REFRESH = 10.0  # seconds between a node's refreshes (and sweeps)
SWEEP = 200  # lapsed people one sweep takes up at most

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: presence:{oid}, presence:all. ARGV: node, ttl, oid. 1 if no live claim was there.
CLAIM = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
redis.call('ZADD', KEYS[2], 'GT', now + tonumber(ARGV[2]), ARGV[3])
if before == 0 then return 1 end
return 0
"""
)

# KEYS: presence:{oid}, presence:all. ARGV: node, oid. 1 if no live claim is left.
RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
)

# KEYS: presence:all. ARGV: node, ttl, oid... : this node's claims renewed.
RENEW = (
    _NOW
    + """
local until = now + tonumber(ARGV[2])
for i = 3, #ARGV do
  local key = 'presence:' .. ARGV[i]
  redis.call('ZADD', key, until, ARGV[1])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2])) + 1)
  redis.call('ZADD', KEYS[1], 'GT', until, ARGV[i])
end
return 0
"""
)

# KEYS: presence:all. ARGV: limit. The people whose every claim lapsed, taken out.
SWEEP_SCRIPT = (
    _NOW
    + """
local gone = {}
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, oid in ipairs(lapsed) do
  local key = 'presence:' .. oid
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) == 0 and redis.call('ZREM', KEYS[1], oid) == 1 then
    table.insert(gone, oid)
  end
end
return gone
"""
)

ALL = "presence:all"


class RedisPresenceCounts:
    """Connections per person over every node sharing the Redis of ``client``."""

    def __init__(
        self, client: aioredis.Redis, node: str, *, ttl: float = TTL, refresh: float = REFRESH
    ) -> None:
        self._node = node
        self._ttl = ttl
        self._refresh = refresh
        self._here: Counter[int] = Counter()
        self._claim: Any = client.register_script(CLAIM)
        self._release: Any = client.register_script(RELEASE)
        self._renew: Any = client.register_script(RENEW)
        self._sweep: Any = client.register_script(SWEEP_SCRIPT)
        self._client = client
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def start(self, on_gone: Callable[[int], Awaitable[None]]) -> None:
        """Renew this node's claims and sweep the lapsed ones of dead nodes;
        ``on_gone`` announces a person no node holds any more."""
        self._task = asyncio.create_task(self._keep(on_gone), name="presence-renew")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        people, self._here = list(self._here), Counter()
        for oid in people:  # a node that stops cleanly gives its claims back
            await self._call(self._release, [f"presence:{oid}", ALL], [self._node, oid])

    async def add(self, oid: int) -> bool:
        """A connection of ``oid`` opened here: whether they were offline everywhere."""
        self._here[oid] += 1
        if self._here[oid] > 1:
            return False
        first = await self._call(
            self._claim, [f"presence:{oid}", ALL], [self._node, self._ttl, oid]
        )
        return True if first is None else bool(first)

    async def remove(self, oid: int) -> bool:
        """A connection of ``oid`` closed here: whether they are offline everywhere now."""
        if self._here[oid] <= 0:
            return False
        self._here[oid] -= 1
        if self._here[oid] > 0:
            return False
        del self._here[oid]
        last = await self._call(self._release, [f"presence:{oid}", ALL], [self._node, oid])
        return True if last is None else bool(last)

    async def online(self, people: Sequence[int]) -> set[int]:
        if not people:
            return set()
        try:
            now = await self._client.time()  # one clock for every node: Redis's
            moment = float(now[0]) + float(now[1]) / 1_000_000
            async with self._client.pipeline(transaction=False) as pipe:
                for oid in people:
                    pipe.zcount(f"presence:{oid}", moment, "+inf")
                counts = await pipe.execute()
        except (RedisError, OSError):
            return {oid for oid in people if self._here[oid] > 0}
        return {oid for oid, count in zip(people, counts, strict=True) if count}

    async def _keep(self, on_gone: Callable[[int], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            if self._here:
                await self._call(self._renew, [ALL], [self._node, self._ttl, *self._here])
            gone = await self._call(self._sweep, [ALL], [SWEEP])
            for oid in gone or ():
                if self._here[int(oid)] == 0:
                    await on_gone(int(oid))

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run ``script``; None when Redis cannot answer (logged once per outage)."""
        try:
            result = await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            if not self._failing:
                log.warning(
                    "presence: Redis away (%s); counting this node only", type(exc).__name__
                )
            self._failing = True
            return None
        self._failing = False
        return result
