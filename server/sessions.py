"""The open sessions of this node, and how many one person may hold.

Connections add themselves after a successful ``hello`` and remove
themselves when they end.  A person holds at most ``max_per_person``
sessions at once: the one that would pass it displaces that person's
oldest, which closes with ``session.too_many`` (the device in the person's
hand works; the one forgotten on a desk at home, or a socket of a network
that went away and has not timed out yet, is what goes).  Shutdown closes
them all with ``server.shutdown``.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Session(Protocol):
    """What the registry needs of a connection."""

    @property
    def session_id(self) -> str: ...

    @property
    def person_oid(self) -> int | None: ...

    def displace(self) -> None:
        """Start closing because the person opened too many sessions; never blocks."""
        ...

    async def shutdown(self) -> None:
        """Close because the server is stopping; returns when closed."""
        ...


class Sessions:
    """Registry of established sessions on this node."""

    def __init__(self, *, max_per_person: int | None = None) -> None:
        self._by_id: dict[str, Session] = {}
        # Each person's sessions that count against the limit, oldest first
        # (a displaced one stops counting at once, while it closes).
        self._by_person: dict[int, dict[str, Session]] = {}
        self._max_per_person = max_per_person
        self.displaced = 0  # sessions closed to make room, since start

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    def of_person(self, oid: int) -> int:
        """How many sessions of ``oid`` count against the limit now."""
        return len(self._by_person.get(oid, ()))

    def add(self, session: Session) -> None:
        """Register a welcomed session; past the person's limit, displace their oldest."""
        oid = session.person_oid
        if oid is None:
            raise ValueError("only established sessions are registered")
        self._by_id[session.session_id] = session
        mine = self._by_person.setdefault(oid, {})
        mine[session.session_id] = session
        limit = self._max_per_person
        while limit is not None and len(mine) > limit:
            oldest_id = next(iter(mine))
            oldest = mine.pop(oldest_id)
            self.displaced += 1
            oldest.displace()

    def discard(self, session: Session) -> None:
        self._by_id.pop(session.session_id, None)
        oid = session.person_oid
        mine = None if oid is None else self._by_person.get(oid)
        if oid is not None and mine is not None:
            mine.pop(session.session_id, None)
            if not mine:
                del self._by_person[oid]

    async def shutdown(self) -> None:
        """Close every session and wait until they are closed."""
        sessions = list(self._by_id.values())
        if sessions:
            await asyncio.gather(*(s.shutdown() for s in sessions), return_exceptions=True)
