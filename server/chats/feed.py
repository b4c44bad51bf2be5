"""One connection's view of its person's chats: in order, resumable, without gaps.

A :class:`ChatFeed` keeps, per chat, the sequence number of the last event
it has put on the connection's outbound queue (its *position*).  Live events
come from the bus; each is pushed only if it is the next one for its chat.
Anything else means the feed is behind (an event published out of order,
a resume, a chat just joined): it marks the chat and lets its worker read
the missing events from storage, in order, before live events of that chat
flow again.  Storage is the truth; the bus only says where to look.

The seam between stored and live events is closed by subscribing before
reading: once subscribed, every event committed later is either seen live
(and noted as wanted while the chat catches up) or read by the catch-up.
The catch-up loops until it has reached every seq it saw announced, and a
chat leaves catch-up mode without an ``await`` between the last check and
the switch, so nothing can slip between them.

Catch-up writes are paced (they wait for room on the outbound queue) so that
a long resume does not count as a slow consumer; live pushes never wait.

A removal is applied the moment the feed hears of it, by the ``members``
event that removes the person (live or read back) or by the person's
``left`` notice, whichever comes first, and never waits behind a catch-up:
the chat is dropped, ``chat.removed`` is queued at once, and a catch-up in
progress stops.  Catch-up reads are bounded by the person's removal
(:meth:`~server.store.base.ChatStore.events_for`), so nothing written to a
chat after it reaches them, however slowly they read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from server.bus import Bus, Event, chat_topic, person_topic
from server.errors import ZvonokError
from server.model.chats import ChatEvent
from server.store.base import ChatStore
from signaling.chat import ChatEventMsg, ChatRemoved, Gap, Synced
from signaling.codec import RequestId, encode
from signaling.errors import SERVER_INTERNAL
from signaling.messages import Error, Message

log = logging.getLogger(__name__)


class Sink(Protocol):
    """The connection, as the feed sees it."""

    def push(
        self, frame: bytes, *, ephemeral: bool = False, committed_at: float | None = None
    ) -> None:
        """Queue a frame now; ephemeral frames are dropped when the queue is filling.
        ``committed_at`` (unix time) is when a live chat event was committed."""
        ...

    async def room(self) -> None:
        """Return once the queue has room for a catch-up frame."""
        ...

    def send(self, message: Message, request_id: RequestId | None = None) -> None: ...


def event_frame(event: ChatEvent) -> bytes:
    """The ``chat.event`` frame of a stored event; live and catch-up send the same bytes."""
    return encode(
        ChatEventMsg(
            chat=event.chat,
            seq=event.seq,
            kind=event.kind.value,
            author=event.author,
            at=event.at,
            data=event.data,
        )
    )


Job = Callable[[], Coroutine[Any, Any, None]]


def _bounded(claimed: int, end: int) -> int:
    """A client's position, taken no further than the chat's stored end.

    The feed's positions are the server's: a position past the end would
    make the removal (the chat's next seq) look seen already, and the feed
    would go on pushing a chat the person has left.
    """
    return max(0, min(claimed, end))


class ChatFeed:
    """The chat events of one person, for one connection."""

    def __init__(
        self, oid: int, *, store: ChatStore, bus: Bus, sink: Sink, sync_limit: int, page: int
    ) -> None:
        self.oid = oid
        self._store = store
        self._bus = bus
        self._sink = sink
        self._sync_limit = sync_limit
        self._page = page
        self._position: dict[str, int] = {}  # chats we are a member of -> last seq pushed
        self._behind: dict[str, int] = {}  # chats catching up -> highest seq announced
        self._jobs: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    # -- what the connection asks ---------------------------------------------

    def is_member(self, chat_id: str) -> bool:
        return chat_id in self._position

    async def start(self, resume: dict[str, int] | None) -> None:
        """Subscribe, then catch up: from ``resume`` if given, else from now.

        With ``resume``, chats it does not name start from 0, and a
        ``synced`` event follows the catch-up.
        """
        await self._bus.subscribe(person_topic(self.oid), self._on_person)
        before = await self._store.chat_positions(self.oid)
        for chat_id, last in before.items():
            await self._bus.subscribe(chat_topic(chat_id), self._on_chat)
            claimed = last if resume is None else resume.get(chat_id, 0)
            self._position[chat_id] = _bounded(claimed, last)
        # Events committed between the read above and the subscriptions were
        # neither read nor seen: read the positions again and catch up to them.
        after = await self._store.chat_positions(self.oid)
        for chat_id, position in self._position.items():
            last = max(after.get(chat_id, 0), before.get(chat_id, 0))
            if last > position:
                self._behind[chat_id] = max(self._behind.get(chat_id, 0), last)
        self._worker = asyncio.get_running_loop().create_task(self._work())
        if self._behind:
            self._schedule(self._catch_up_all)
        if resume is not None:
            named = list(self._position)

            async def announce() -> None:
                self._sink.send(Synced(positions=self._positions_of(named)))

            self._schedule(announce)

    async def sync(self, positions: dict[str, int], request_id: RequestId | None) -> None:
        """Resend each named chat's events after the given position; reply
        ``synced`` (or the error) when that is done.

        Returns once the catch-up is scheduled, not when it ends: it is paced
        by the client's reading, and the connection's other requests must
        not wait behind it.  Chats that are not the person's are left out
        of the reply.
        """
        latest = await self._store.chat_positions(self.oid)
        named = [c for c in positions if c in self._position]
        for chat_id in named:
            # A chat missing from ``latest`` was left meanwhile: its ``left``
            # notice is on its way, and compares with the feed's own position.
            end = latest.get(chat_id, self._position[chat_id])
            self._position[chat_id] = position = _bounded(positions[chat_id], end)
            wanted = max(end, position, self._behind.get(chat_id, 0))
            self._behind[chat_id] = wanted

        async def reply() -> None:
            try:
                await self._catch_up_all()
            except ZvonokError as exc:  # the request gets its error, not silence
                self._sink.send(Error(exc.code, exc.message, exc.retry_after), request_id)
                return
            except Exception:
                self._sink.send(Error(SERVER_INTERNAL, "internal error"), request_id)
                raise
            self._sink.send(Synced(positions=self._positions_of(named)), request_id)

        self._schedule(reply)

    def _positions_of(self, chats: list[str]) -> dict[str, int]:
        return {c: self._position[c] for c in chats if c in self._position}

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._bus.unsubscribe(person_topic(self.oid), self._on_person)
        for chat_id in list(self._position):
            await self._bus.unsubscribe(chat_topic(chat_id), self._on_chat)
        self._position.clear()

    # -- bus handlers (called in the publisher's task: never block) -------------

    def _on_chat(self, topic: str, event: Event) -> None:
        chat_id: str = event["chat"]
        position = self._position.get(chat_id)
        if position is None:
            return
        if event.get("resync"):  # the bus may have lost events: read the store
            self._behind.setdefault(chat_id, position)
            self._schedule(self._catch_up_all)
            return
        frame: bytes = event["frame"]
        seq: int | None = event.get("seq")
        if seq is None:  # typing, receipts: not part of the chat's order
            if event.get("from") != self.oid or not event.get("ephemeral"):
                self._sink.push(frame, ephemeral=bool(event.get("ephemeral")))
            return
        if chat_id in self._behind:
            self._behind[chat_id] = max(self._behind[chat_id], seq)
        elif seq == position + 1:
            self._position[chat_id] = seq
            self._sink.push(frame, committed_at=event.get("at"))
            if self.oid in event.get("removed", ()):
                self._removed(chat_id)
        elif seq > position:
            self._behind[chat_id] = seq
            self._schedule(self._catch_up_all)

    def _on_person(self, topic: str, event: Event) -> None:
        if "frame" in event and "chat" not in event:
            # A contact's presence (ephemeral), or a report for a moderator or
            # its outcome for the reporter (durable: stored, and worth a slot).
            self._sink.push(event["frame"], ephemeral=not event.get("durable"))
        elif "joined" in event:
            chat_id, seq = event["joined"], int(event["seq"])

            async def join() -> None:
                if chat_id in self._position:
                    return
                await self._bus.subscribe(chat_topic(chat_id), self._on_chat)
                self._position[chat_id] = seq - 1
                self._behind[chat_id] = seq
                await self._catch_up_all()

            self._schedule(join)
        elif event.get("resync"):  # the bus may have lost a "joined": read the store
            self._schedule(self._rejoin)
        elif "left" in event:
            chat_id, seq = event["left"], int(event["seq"])
            position = self._position.get(chat_id)
            # Not behind a catch-up: at once.  Positions never pass the stored
            # end (:func:`_bounded`), so one at or past the removal means the
            # feed pushed the removal itself (and dropped the chat then) and
            # the person was added again.
            if position is not None and position < seq:
                self._removed(chat_id)

    async def _rejoin(self) -> None:
        """Follow the chats the store says the person is in and the feed is
        not: from their latest event on (their history is read as on open)."""
        added: list[str] = []
        for chat_id, last in (await self._store.chat_positions(self.oid)).items():
            if chat_id in self._position or self._closed:
                continue
            await self._bus.subscribe(chat_topic(chat_id), self._on_chat)
            self._position[chat_id] = max(0, last - 1)
            self._behind[chat_id] = last
            added.append(chat_id)
        if not added:
            return
        # Events committed while subscribing were neither read nor heard: as in start().
        after = await self._store.chat_positions(self.oid)
        for chat_id in added:
            if chat_id in self._behind:
                self._behind[chat_id] = max(self._behind[chat_id], after.get(chat_id, 0))
        await self._catch_up_all()

    def _removed(self, chat_id: str) -> None:
        """The person left ``chat_id``: nothing more of it goes out, from now."""
        self._position.pop(chat_id, None)
        self._behind.pop(chat_id, None)
        self._sink.send(ChatRemoved(chat=chat_id))

        async def unsubscribe() -> None:
            if chat_id not in self._position:  # not added again meanwhile
                await self._bus.unsubscribe(chat_topic(chat_id), self._on_chat)

        self._schedule(unsubscribe)

    # -- the worker --------------------------------------------------------------

    def _schedule(self, job: Job) -> None:
        if self._closed:
            return
        self._jobs.append(job)
        self._wake.set()

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._jobs:
                job = self._jobs.popleft()
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A failed read (the store went away) leaves the chat marked
                    # behind; the next event or sync retries it.
                    log.exception("chat feed of %d: catch-up failed", self.oid)

    async def _catch_up_all(self) -> None:
        while self._behind:
            chat_id = next(iter(self._behind))
            await self._catch_up(chat_id)

    async def _catch_up(self, chat_id: str) -> None:
        """Push the stored events of ``chat_id`` after its position, then go live."""
        first = True
        while True:
            position = self._position.get(chat_id)
            if position is None:  # left the chat meanwhile
                self._behind.pop(chat_id, None)
                return
            wanted = self._behind.get(chat_id, position)
            if first and wanted - position > self._sync_limit:
                if await self._store.removal_after(chat_id, self.oid, position) is not None:
                    # Removed within what a gap would skip: nothing to page.
                    if self._position.get(chat_id) == position:
                        self._removed(chat_id)
                    continue
                # Too far behind to replay: say so, and go on from the end.
                self._sink.send(Gap(chat=chat_id, from_seq=position + 1, to_seq=wanted))
                self._position[chat_id] = position = wanted
            first = False
            events, ends_removed = await self._store.events_for(
                chat_id, self.oid, after=position, limit=self._page
            )
            complete = len(events) < self._page or ends_removed
            for event in events:
                await self._sink.room()
                # Checked after the wait, without an await before the push: a
                # sync may have moved the position, or the person left.
                if self._position.get(chat_id) != event.seq - 1:
                    complete = False
                    break
                self._sink.push(event_frame(event))
                self._position[chat_id] = event.seq
            if ends_removed and self._position.get(chat_id) == events[-1].seq:
                self._removed(chat_id)  # the read stopped at the removal
                return
            position = self._position.get(chat_id, 0)
            if complete and position >= self._behind.get(chat_id, 0):
                self._behind.pop(chat_id, None)  # no await since the check: live from here
                return
