"""A room as it is now, in the memory of the node that hosts it.

:class:`Room` owns its :class:`Participant` and :class:`Waiter` entries
(keyed by the person's oid), the grace timers of participants whose
connection was lost, and a lock that serialises the changes of who is in
the room.  It sends events to the connections of the people in it; each
event is encoded once, whatever the number of recipients.

None of this is stored: a restart forgets hands, mutes and waiters (the
room, its attendance and its removals are in the store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.model.rooms import RoomKind, RoomRecord, RoomRole
from signaling import rooms as wire
from signaling.codec import RequestId, encode
from signaling.messages import Message
from signaling.rooms import Waiting

from .media import Source


class RoomSink(Protocol):
    """A connection, as a room sends to it (never blocks)."""

    def send(self, message: Message, request_id: RequestId | None = None) -> None: ...

    def push(
        self, frame: bytes, *, ephemeral: bool = False, committed_at: float | None = None
    ) -> None: ...


@dataclass(eq=False, slots=True)
class Participant:
    """A person admitted to the room.

    ``sink`` is their connection, ``None`` while they are away: their
    connection (or their media) was lost and the grace timer runs.
    """

    person: int
    name: str
    role: RoomRole  # as they entered; host and co-host are read from the record
    sink: RoomSink | None
    hand: bool = False
    muted: set[Source] = field(default_factory=set)
    forbidden: set[Source] = field(default_factory=set)  # the host forbids unmuting
    away_since: float | None = None  # wall time the connection was lost
    grace: asyncio.Task[None] | None = None


@dataclass(eq=False, slots=True)
class Waiter:
    """A parent in a meeting's waiting room."""

    person: int
    name: str
    since: float
    sink: RoomSink

    def to_json(self) -> wire.Waiter:
        return {"person": self.person, "name": self.name, "since": self.since}


class Room:
    """One live room."""

    def __init__(self, record: RoomRecord, removed: set[int]) -> None:
        self.record = record
        self.participants: dict[int, Participant] = {}
        self.waiting: dict[int, Waiter] = {}  # in the order they came
        self.admitted: set[int] = set()  # let in once: they do not wait again
        self.removed = removed  # may not come back
        self.lock = asyncio.Lock()
        self.media_open = False
        self.closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def empty(self) -> bool:
        return not self.participants and not self.waiting

    def role_of(self, participant: Participant) -> RoomRole:
        if participant.person == self.record.host:
            return RoomRole.HOST
        if participant.person == self.record.cohost:
            return RoomRole.COHOST
        return participant.role

    def state_of(self, participant: Participant) -> wire.Participant:
        """A participant as everyone in the room sees them."""
        return {
            "person": participant.person,
            "name": participant.name,
            "role": self.role_of(participant).value,
            "status": "present" if participant.sink is not None else "away",
            "hand": participant.hand,
            "muted": sorted(participant.muted),
            "forbidden": sorted(participant.forbidden),
        }

    def waiter_state(self, waiter: Waiter, role: RoomRole) -> wire.Participant:
        return {
            "person": waiter.person,
            "name": waiter.name,
            "role": role.value,
            "status": "waiting",
            "hand": False,
            "muted": [],
            "forbidden": [],
        }

    def waits(self, kind: RoomKind, role: RoomRole, oid: int, *, hosting: bool) -> bool:
        """Whether this person goes to the waiting room: a meeting's parents,
        until the host lets them in once; never who hosts it (``hosting``:
        asked of the roster now, not of the record)."""
        return (
            kind is RoomKind.MEETING
            and role is RoomRole.PARENT
            and oid not in self.admitted
            and not hosting
        )

    def guests(self) -> int:
        """Participants other than the host and co-host (what ``room.full`` counts)."""
        return sum(1 for oid in self.participants if not self.record.hosts(oid))

    # -- sending --------------------------------------------------------------------

    def present(self) -> Iterator[Participant]:
        return (p for p in self.participants.values() if p.sink is not None)

    def broadcast(
        self, message: Message, *, exclude: int | None = None, ephemeral: bool = False
    ) -> None:
        """Send to every participant present (not to waiters)."""
        frame = encode(message)
        for participant in self.present():
            if participant.person != exclude and participant.sink is not None:
                participant.sink.push(frame, ephemeral=ephemeral)

    def tell_hosts(self) -> None:
        """Send the hosts present who is waiting now."""
        message = Waiting(room=self.id, people=[w.to_json() for w in self.waiting.values()])
        frame = encode(message)
        for participant in self.present():
            if self.record.hosts(participant.person) and participant.sink is not None:
                participant.sink.push(frame)

    def everyone(self) -> Iterator[RoomSink]:
        """The connections of everyone in the room and its waiting room."""
        for participant in self.participants.values():
            if participant.sink is not None:
                yield participant.sink
        for waiter in self.waiting.values():
            yield waiter.sink

    # -- tasks ------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task the room owns (cancelled when it closes)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Forget everyone and stop every task but the caller's.  Idempotent."""
        self.closed = True
        self.participants.clear()
        self.waiting.clear()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
