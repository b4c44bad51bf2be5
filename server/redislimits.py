"""Send limits shared by every node, as token buckets in Redis (issue 18).

A person connected to two nodes (a phone and a laptop, or a reconnect that
landed elsewhere) must not get a burst per node. :class:`RedisBuckets`
keeps each bucket as a small Redis hash (tokens, stamp) and spends from
the chat's and the person's bucket in one Lua script, atomically, on
Redis's own clock (nodes' clocks differ; one clock for every node is the
point). A bucket's key expires once it would be full again, so Redis holds
only the buckets of people sending now.

When Redis cannot answer, :meth:`take` says so (``None``) and the caller
falls back to its own node's buckets: a send is then limited per node, as
before, never unlimited and never refused for Redis's sake.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS: the person's bucket, the chat's bucket (or none). ARGV: rate, burst,
# and for a chat its rate and burst. Returns "0" when spent, else the
# seconds until a send would be allowed, as a string (Lua numbers go back
# to Redis as integers).
TAKE = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) + tonumber(now_t[2]) / 1000000
local function tokens(key, rate, burst)
  local v = redis.call('HMGET', key, 't', 's')
  local have = tonumber(v[1]) or burst
  local stamp = tonumber(v[2]) or now
  return math.min(burst, have + math.max(0, now - stamp) * rate)
end
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local person = tokens(KEYS[1], rate, burst)
local chat, chat_rate, chat_burst
if #KEYS > 1 then
  chat_rate, chat_burst = tonumber(ARGV[3]), tonumber(ARGV[4])
  chat = tokens(KEYS[2], chat_rate, chat_burst)
  if chat < 1 then return tostring((1 - chat) / chat_rate) end
end
if person < 1 then return tostring((1 - person) / rate) end
redis.call('HSET', KEYS[1], 't', person - 1, 's', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
if chat then
  redis.call('HSET', KEYS[2], 't', chat - 1, 's', now)
  redis.call('EXPIRE', KEYS[2], math.ceil(chat_burst / chat_rate) + 1)
end
return '0'
"""


class RedisBuckets:
    """Token buckets every node shares, in the Redis of ``client``."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._script: Any = client.register_script(TAKE)
        self._failing = False

    async def take(
        self, person: str, rate: float, burst: int, chat: tuple[str, float, int] | None
    ) -> float | None:
        """Spend one send from ``person`` (and ``chat``: key, rate, burst):
        0.0 when spent, the seconds to wait when not, None when Redis is away."""
        keys = [f"limit:{person}"]
        args: list[float | int] = [rate, burst]
        if chat is not None:
            keys.append(f"limit:{chat[0]}")
            args += [chat[1], chat[2]]
        try:
            answer = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            if not self._failing:
                log.warning("send limits: Redis away (%s); limiting per node", type(exc).__name__)
            self._failing = True
            return None
        if self._failing:
            log.info("send limits: shared again through Redis")
        self._failing = False
        return float(answer)
