"""The open sessions of this node.

Connections add themselves after a successful ``hello`` and remove
themselves when they end.  Shutdown closes them all with ``server.shutdown``.
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

    async def shutdown(self) -> None:
        """Close because the server is stopping; returns when closed."""
        ...


class Sessions:
    """Registry of established sessions on this node."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    def add(self, session: Session) -> None:
        if session.person_oid is None:
            raise ValueError("only established sessions are registered")
        self._by_id[session.session_id] = session

    def discard(self, session: Session) -> None:
        self._by_id.pop(session.session_id, None)

    async def shutdown(self) -> None:
        """Close every session and wait until they are closed."""
        sessions = list(self._by_id.values())
        if sessions:
            await asyncio.gather(*(s.shutdown() for s in sessions), return_exceptions=True)
