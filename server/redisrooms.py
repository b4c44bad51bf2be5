"""The room directory in Redis: which node each live room is on (issue 18).

``rooms:live`` is a hash of room id to node id; ``node:{id}`` says a node is
alive and lapses ``ttl`` seconds after its last renewal (every ``refresh``).
A claim is one Lua script: the room is the caller's unless a node that is
alive holds it, and a room whose node died is taken over in the same
step. Every ``refresh`` a node also sweeps the rooms of dead nodes out of
the hash and has the room service close the attendance intervals those
nodes opened (each interval names its node), so a dead node's are closed
within about ``ttl`` by whichever node is alive. A node that was only
frozen (stopped, swapped out, cut off from Redis) past ``ttl`` finds at
its next sweep that its rooms were taken over, and lets them go: one
lesson is never served by two nodes for longer than a sweep. The same
look records a node's live rooms again if ``rooms:live`` lost them (Redis
restarted without persistence, as docs/operations.md advises).

When Redis cannot answer, a room that is not live here cannot be claimed
(``room.unavailable``: the client joins again a moment later) rather than
risk one lesson split over two nodes; rooms live here go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.rooms.directory import unavailable

log = logging.getLogger(__name__)

LIVE = "rooms:live"
SWEEP = 500  # rooms one sweep looks at, at most

# KEYS: rooms:live. ARGV: room, this node. Returns the room's node now.
CLAIM = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner == ARGV[2] then return owner end
if owner and redis.call('EXISTS', 'node:' .. owner) == 1 then return owner end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
"""

# KEYS: rooms:live. ARGV: room, this node. The room is given back if it is ours.
RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

# KEYS: rooms:live. ARGV: this node, rooms live on it. Each is recorded as
# this node's again if the hash lost it (Redis restarted); returns those
# another node holds now.
HOLD = """
local taken = {}
for i = 2, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if not owner then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  elseif owner ~= ARGV[1] then
    table.insert(taken, ARGV[i])
  end
end
return taken
"""

# KEYS: rooms:live. ARGV: limit, this node, cursor. Takes out the rooms of
# dead nodes among those scanned; returns the next cursor and those rooms.
SWEEP_SCRIPT = """
local scan = redis.call('HSCAN', KEYS[1], ARGV[3], 'COUNT', tonumber(ARGV[1]))
local gone = {scan[1]}
local pairs = scan[2]
for i = 1, #pairs, 2 do
  local room, owner = pairs[i], pairs[i + 1]
  if owner ~= ARGV[2] and redis.call('EXISTS', 'node:' .. owner) == 0 then
    redis.call('HDEL', KEYS[1], room)
    table.insert(gone, room)
  end
end
return gone
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisRoomDirectory:
    """The rooms of every node sharing the Redis of ``client``."""

    def __init__(self, client: aioredis.Redis, node: str, *, ttl: float, refresh: float) -> None:
        self._client = client
        self._node = node
        self._ttl = ttl
        self._refresh = refresh
        self._claim: Any = client.register_script(CLAIM)
        self._release: Any = client.register_script(RELEASE)
        self._sweep: Any = client.register_script(SWEEP_SCRIPT)
        self._hold: Any = client.register_script(HOLD)
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def node(self) -> str:
        return self._node

    async def start(self, on_sweep: Callable[[], Awaitable[None]]) -> None:
        """Say this node is alive now and every ``refresh``; then sweep the
        rooms of dead nodes out and call ``on_sweep`` (to close attendance)."""
        await self._alive()
        self._task = asyncio.create_task(self._keep(on_sweep), name="room-directory")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(RedisError, OSError):
            await self._client.delete(f"node:{self._node}")

    async def claim(self, room_id: str) -> str:
        try:
            owner = await self._claim(keys=[LIVE], args=[room_id, self._node])
        except (RedisError, OSError) as exc:
            self._away(exc)
            raise unavailable("the room directory (Redis) is away; join again") from None
        return _text(owner)

    async def owner(self, room_id: str) -> str | None:
        try:
            owner = await self._client.hget(LIVE, room_id)  # type: ignore[misc]
            if owner is None:
                return None
            owner = _text(owner)
            if owner != self._node and not await self._client.exists(f"node:{owner}"):
                return None
        except (RedisError, OSError) as exc:
            self._away(exc)
            return None
        return str(owner)

    async def release(self, room_id: str) -> None:
        try:
            await self._release(keys=[LIVE], args=[room_id, self._node])
        except (RedisError, OSError) as exc:  # it lapses with this node, or is swept
            self._away(exc)

    async def alive(self, nodes: Collection[str]) -> set[str]:
        names = sorted(set(nodes))
        if not names:
            return set()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.exists(f"node:{name}")
                found = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._away(exc)
            return set(names)  # cannot tell: nobody is taken for dead
        return {name for name, there in zip(names, found, strict=True) if there}

    async def taken(self, rooms: Collection[str]) -> set[str]:
        names = sorted(set(rooms))
        if not names:
            return set()
        try:
            taken = await self._hold(keys=[LIVE], args=[self._node, *names])
        except (RedisError, OSError) as exc:
            self._away(exc)
            return set()
        return {_text(room) for room in taken}

    async def _alive(self) -> None:
        try:
            await self._client.set(f"node:{self._node}", 1, px=int(self._ttl * 1000))
        except (RedisError, OSError) as exc:
            self._away(exc)
        else:
            self._failing = False

    async def _keep(self, on_sweep: Callable[[], Awaitable[None]]) -> None:
        cursor: bytes | str = "0"
        while True:
            await asyncio.sleep(self._refresh)
            await self._alive()
            try:
                cursor, *gone = await self._sweep(keys=[LIVE], args=[SWEEP, self._node, cursor])
            except (RedisError, OSError) as exc:
                self._away(exc)
                continue
            if gone:
                log.info("room directory: %d rooms of stopped nodes let go", len(gone))
            await on_sweep()

    def _away(self, exc: BaseException) -> None:
        if not self._failing:
            log.warning("room directory: Redis away (%s)", type(exc).__name__)
        self._failing = True
