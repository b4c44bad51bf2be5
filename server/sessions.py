"""The open sessions of this node, by person.

Connections add themselves after a successful ``hello`` and remove
themselves when they end.  Shutdown closes them all with ``server.shutdown``.
Presence (a later issue) reads from here.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Protocol


class Session(Protocol):
    """What the registry needs of a connection."""

    @property
    def session_id(self) -> str: ...

    @property
    def person_oid(self) -> int | None: ...

    async def shutdown(self) -> None:
        """Close because the server is stopping; returns when closed."""
        ...


class Sessions:
    """Registry of established sessions on this node."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._by_person: defaultdict[int, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, session: Session) -> None:
        oid = session.person_oid
        if oid is None:
            raise ValueError("only established sessions are registered")
        self._by_id[session.session_id] = session
        self._by_person[oid].add(session.session_id)

    def discard(self, session: Session) -> None:
        if self._by_id.pop(session.session_id, None) is None:
            return
        oid = session.person_oid
        if oid is not None:
            ids = self._by_person.get(oid)
            if ids is not None:
                ids.discard(session.session_id)
                if not ids:
                    del self._by_person[oid]

    def of_person(self, oid: int) -> list[Session]:
        return [self._by_id[i] for i in self._by_person.get(oid, ())]

    async def shutdown(self) -> None:
        """Close every session and wait until they are closed."""
        sessions = list(self._by_id.values())
        if sessions:
            await asyncio.gather(*(s.shutdown() for s in sessions), return_exceptions=True)
