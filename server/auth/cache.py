"""A bounded memory of things verified, each forgotten when its token expires.

The verifier keeps two: the SHA-256 of every token whose signature it has
verified (so a token presented again, by a reconnect, a second tab or each
HTTP request of a bot, is not verified twice while it is valid), and the
SHA-256 of each such token's signature (so a trusted signature found on
other content is known to be an edit, ``auth.tampered``, even where the
algorithm, GOST, cannot tell that by itself).  Only digests are kept, never
a token.
"""

from __future__ import annotations

from collections import OrderedDict


class ExpiringSet:
    """At most ``size`` keys, each until its own expiry time; the least recently used go first.

    ``size`` 0 keeps nothing (every lookup misses).  Times are the caller's
    clock's wall time in seconds.
    """

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self._size = size
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, key: bytes, now: float) -> bool:
        """Whether ``key`` is kept and not expired at ``now`` (an expired one is dropped)."""
        expires = self._entries.get(key)
        if expires is None:
            return False
        if now >= expires:
            del self._entries[key]
            return False
        self._entries.move_to_end(key)
        return True

    def add(self, key: bytes, expires: float, now: float) -> None:
        """Keep ``key`` until ``expires``; past the bound, drop the least recently used."""
        if self._size == 0 or now >= expires:
            return
        self._entries[key] = expires
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
