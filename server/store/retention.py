"""What the store lets go of, and when (docs/chats.md, "Retention").

Idempotency keys exist so that a retry after a lost ack gets the first ack
back; clients retry within seconds or minutes (an outbox replays on the
next connection), so a key older than the retention setting (a day by
default) has done its work, and a request reusing it is taken as new.
Everything else the chats store is kept: messages, their logs and
versions, attendance and the audit log are records a school may have to
keep for a legal period, and deleting them is the school's decision, not
a sweep's.  Typing is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sql import SqlConnection


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep deleted."""

    idempotency_keys: int = 0


async def sweep(db: SqlConnection, *, now: float, idempotency_keys: float) -> Swept:
    """Delete idempotency keys made more than ``idempotency_keys`` seconds
    before ``now``; what was deleted."""
    cutoff = now - idempotency_keys
    rows = await db.fetchall(
        "SELECT COUNT(*) FROM idempotency_keys WHERE created_at < ?", (cutoff,)
    )
    if int(rows[0][0]):
        await db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))
    return Swept(idempotency_keys=int(rows[0][0]))
