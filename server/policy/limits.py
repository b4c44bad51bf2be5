"""Send limits by role: per person over all chats, and per person in one chat.

Students are held to a stricter flood limit than parents, and parents than
teachers (docs/safety.md, "Rate limits").  Each limit is a token bucket on
the injected clock; the buckets are kept for a bounded number of people and
chats, and forgetting them only ever grants a fresh burst.  With several
nodes the buckets are shared in Redis (:mod:`server.redislimits`), so a
person's burst is not multiplied by the nodes they reach; this node's own
buckets stand in while Redis is away.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, TypeVar

from server.clock import Clock
from server.config import ChatConfig
from server.errors.chats import RateLimited
from server.ratelimit import TokenBucket
from server.roster.model import Profile, Role

MAX_BUCKETS = 20_000

K = TypeVar("K")


class Tier(StrEnum):
    STUDENT = "student"
    PARENT = "parent"
    STAFF = "staff"


def tier_of(profile: Profile | None, school_id: str | None) -> Tier:
    """Teachers and admins of the chat's school (of any school, for a chat
    without one) are staff; students anywhere are students; the rest parents."""
    if profile is None:
        return Tier.STUDENT
    staff = {r.school_id for r in profile.roles if r.role in (Role.TEACHER, Role.ADMIN)}
    if staff and (school_id is None or school_id in staff):
        return Tier.STAFF
    if profile.has_role(Role.STUDENT):
        return Tier.STUDENT
    return Tier.PARENT


class SharedBuckets(Protocol):
    """Buckets all nodes spend from (:class:`server.redislimits.RedisBuckets`)."""

    async def take(
        self, person: str, rate: float, burst: int, chat: tuple[str, float, int] | None
    ) -> float | None: ...


class SendLimits:
    """The flood limits of every person: shared by every node, or this node's."""

    def __init__(
        self, config: ChatConfig, clock: Clock, shared: SharedBuckets | None = None
    ) -> None:
        self._config = config
        self._clock = clock
        self._shared = shared
        self._people: dict[tuple[int, Tier], TokenBucket] = {}
        self._chats: dict[tuple[int, str, Tier], TokenBucket] = {}

    def rates(self, tier: Tier) -> tuple[float, int, float, int]:
        """(per-person rate, burst, per-chat rate, burst) of a tier."""
        c = self._config
        if tier is Tier.STUDENT:
            return (
                c.student_sends_per_second,
                c.student_send_burst,
                c.student_chat_per_second,
                c.student_chat_burst,
            )
        if tier is Tier.STAFF:
            return (
                c.staff_sends_per_second,
                c.staff_send_burst,
                c.staff_chat_per_second,
                c.staff_chat_burst,
            )
        return c.sends_per_second, c.send_burst, c.chat_per_second, c.chat_burst

    async def take(self, oid: int, chat_id: str | None, tier: Tier) -> None:
        """Spend one send of ``oid`` (in ``chat_id``); ``rate.limited`` if none is left.

        The chat's bucket is checked first and the person's only charged when
        both allow, so a refusal costs nothing.
        """
        if self._shared is not None:
            rate, burst, chat_rate, chat_burst = self.rates(tier)
            chat_key = (
                None if chat_id is None else (f"c:{oid}:{tier}:{chat_id}", chat_rate, chat_burst)
            )
            wait = await self._shared.take(f"p:{oid}:{tier}", rate, burst, chat_key)
            if wait is not None:
                if wait:
                    raise RateLimited(round(wait, 3))
                return
        self._take_here(oid, chat_id, tier)

    def _take_here(self, oid: int, chat_id: str | None, tier: Tier) -> None:
        """Spend from this node's own buckets."""
        rate, burst, chat_rate, chat_burst = self.rates(tier)
        person = self._bucket(self._people, (oid, tier), rate, burst)
        chat = None
        if chat_id is not None:
            chat = self._bucket(self._chats, (oid, chat_id, tier), chat_rate, chat_burst)
            wait = chat.wait()
            if wait:
                raise RateLimited(round(wait, 3))
        retry_after = person.take()
        if retry_after:
            raise RateLimited(round(retry_after, 3))
        if chat is not None:
            chat.take()

    def _bucket(
        self, buckets: dict[K, TokenBucket], key: K, rate: float, burst: int
    ) -> TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            if len(buckets) >= MAX_BUCKETS:
                buckets.clear()
            bucket = buckets[key] = TokenBucket(rate, burst, self._clock)
        return bucket
