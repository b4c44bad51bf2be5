"""Lessons and parent meetings: who may start, join and leave, and when.

:class:`RoomService` keeps the rooms that are live on this node (someone is
in them or waiting) in memory, keyed by id, and their records, attendance
and removals in the store.  Every decision about who may host or join reads
the safety policy at the moment of the request (``host_lesson``,
``join_lesson``, ``host_meeting``, ``join_meeting`` for the room's class).

A participant whose connection (or media) is lost keeps their place for
``rooms.grace`` seconds on the injected clock: joining again within it gives
back their role, hand, mutes and admission (``resumed``).  After it they
have left, and their attendance interval ends when their connection did.

With several nodes a room lives on one of them: the
:class:`~server.rooms.directory.RoomDirectory` says which, and a request
for a room live on another node raises
:class:`~server.rooms.directory.RoomElsewhere` for the caller to forward.
Attendance is closed per node: each interval names the node that opened
it; a node closes its own when it stops (and at its next start, if it
died), and the intervals of nodes that are not alive when it starts and
at each of the directory's sweeps.

The service is the SFU's :class:`~server.rooms.media.MediaEvents`: it
relays offers, tracks and speakers to the room's connections, and treats a
participant whose media failed like one whose connection was lost.  The
host controls are :class:`~server.rooms.controls.Controls`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from server.chats.service import ChatService
from server.clock import Clock
from server.config import RoomsConfig
from server.errors import ZvonokError
from server.errors import rooms as e
from server.model.rooms import (
    AttendanceRow,
    RoomKind,
    RoomRecord,
    RoomRole,
)
from server.policy.guard import Guard
from server.policy.policy import Action as PolicyAction
from server.policy.policy import (
    ClassPlace,
    Relation,
    class_relations,
    may_in_class,
    may_in_school,
)
from server.roster.model import Profile
from server.store.base import Store
from signaling.errors import SERVER_SHUTDOWN
from signaling.fields import TrackChange
from signaling.rooms import (
    Ended,
    IceServer,
    ParticipantChanged,
    Removed,
    RoomJoined,
    RtcOffer,
    Speaking,
    TrackChanged,
    Waiting,
)
from signaling.rooms import RoomRecord as RoomJson

from .directory import LocalDirectory, RoomDirectory, RoomElsewhere
from .live import Participant, Room, RoomSink, Waiter
from .media import RoomMedia, TrackInfo
from .rights import HOST_ACTION, JOIN_ACTION, place_of

log = logging.getLogger(__name__)

IceServers = Callable[[int, float], list[IceServer]]
"""``(person, now) -> iceServers``: what a client's peer connections use,
with TURN credentials of its own (``media.ice.ice_servers``)."""

MAX_LISTED = 100  # rooms in one list
MAX_AHEAD = 366 * 24 * 3600.0  # a room is scheduled at most a year ahead


class RoomService:
    """The rooms of this node, for the WebSocket and the HTTP API alike."""

    def __init__(
        self,
        store: Store,
        guard: Guard,
        chats: ChatService,
        media: RoomMedia,
        clock: Clock,
        config: RoomsConfig,
        ice: IceServers,
        directory: RoomDirectory | None = None,
    ) -> None:
        self._store = store
        self._guard = guard
        self._chats = chats
        self._media = media
        self._clock = clock
        self._config = config
        self._ice = ice
        self._directory: RoomDirectory = directory or LocalDirectory()
        self._live: dict[str, Room] = {}
        self._closed = False

    @property
    def media(self) -> RoomMedia:
        return self._media

    @property
    def config(self) -> RoomsConfig:
        return self._config

    @property
    def live(self) -> int:
        """How many rooms are live on this node (someone in them or waiting)."""
        return len(self._live)

    def participant_count(self) -> int:
        """How many people are in this node's live rooms now."""
        return sum(len(room.participants) for room in self._live.values())

    # -- lifecycle ----------------------------------------------------------------

    async def open(self) -> None:
        """Close the attendance intervals that a previous run of this node,
        or a node no longer alive, left open: nobody is present there until
        they join again."""
        await self.close_dead_attendance(starting=True)

    async def sweep(self) -> None:
        """The directory's periodic look: rooms taken over by another node
        are let go, and dead nodes' attendance is closed."""
        for room_id in await self._directory.taken(list(self._live)):
            await self.let_go(room_id)
        await self.close_dead_attendance()

    async def let_go(self, room_id: str) -> None:
        """Another node holds this room now (this node was taken for dead):
        everyone here is told they are away, so their clients join again
        and reach the room where it is; their intervals here end now."""
        room = self._live.get(room_id)
        if room is None:
            return
        async with room.lock:
            if room.closed or self._live.get(room_id) is not room:
                return
            del self._live[room_id]
            log.warning("room %s: taken over by another node; letting it go", room_id)
            now = self._clock.time()
            for participant in list(room.participants.values()):
                state = room.state_of(participant)
                state["status"] = "away"
                if participant.sink is not None:
                    participant.sink.send(
                        ParticipantChanged(
                            room=room_id, person=participant.person, change="away", state=state
                        )
                    )
                try:
                    await self._store.exit_room(room_id, participant.person, now)
                except ZvonokError as exc:  # closed when this node stops
                    log.warning("room %s: attendance not closed: %s", room_id, exc.code)
            for waiter in room.waiting.values():
                state = room.waiter_state(waiter, RoomRole.PARENT)
                state["status"] = "away"
                waiter.sink.send(
                    ParticipantChanged(
                        room=room_id, person=waiter.person, change="away", state=state
                    )
                )
            await room.close()
            if room.media_open:
                await self._media.close_room(room_id)

    async def close_dead_attendance(self, *, starting: bool = False) -> None:
        """Close the open intervals of nodes that are not alive (and, when
        ``starting``, this node's own from before)."""
        me = self._directory.node
        try:
            nodes = await self._store.open_attendance_nodes()
            others = [node for node in nodes if node and node != me]
            living = await self._directory.alive(others)
            dead = [node for node in others if node not in living]
            if starting:
                dead += [node for node in nodes if not node or node == me]
            closed = await self._store.close_attendance(self._clock.time(), dead)
        except ZvonokError as exc:  # the next sweep, or the next start, closes them
            log.warning("attendance of stopped nodes not closed: %s", exc.code)
            return
        if closed:
            log.info("closed %d attendance intervals of stopped nodes", closed)

    async def close(self) -> None:
        """Forget every live room (the server is stopping); whoever was
        present has left now."""
        self._closed = True
        rooms, self._live = list(self._live.values()), {}
        for room in rooms:
            await room.close()
        try:
            await self._store.close_attendance(self._clock.time(), [self._directory.node])
        except ZvonokError as exc:
            log.warning("attendance not closed at shutdown: %s", exc.code)
        for room in rooms:  # after the intervals: a node taking a room over finds them closed
            await self._directory.release(room.id)

    # -- rooms as records -----------------------------------------------------------

    async def start(
        self,
        oid: int,
        class_id: str,
        kind: RoomKind,
        title: str,
        starts_at: float | None,
        *,
        key: str | None = None,
    ) -> tuple[RoomRecord, bool]:
        """A new lesson or meeting for a class, hosted by ``oid``, and whether
        it was made before (a retry of the start with the same ``key``).  It is
        open at once, or (``starts_at`` in the future) once its host opens it."""
        title = title.strip()
        if not title:
            raise e.invalid("a room needs a title")
        if key is not None:
            # A retry gets its room back first, whatever changed since (the
            # teacher's rights, the rate): the start was done.
            first = await self._store.started_room(
                host=oid,
                key=key,
                class_id=class_id,
                kind=kind,
                title=title,
                starts_at=starts_at,
            )
            if first is not None:
                return first, True
        school_id = await self._store.class_school(class_id)
        if school_id is None:
            raise e.invalid(f"no class {class_id[:64]!r}")
        profile = await self._guard.profile(oid)
        place = ClassPlace(class_id, school_id)
        if profile is None or not may_in_class(profile, HOST_ACTION[kind], place):
            raise e.forbidden(f"only the class's teachers and the school's admins host a {kind}")
        stored = await self._guard.check_text(profile, school_id, title)  # the class sees it
        now = self._clock.time()
        if starts_at is not None and starts_at > now + MAX_AHEAD:
            raise e.invalid("a room is scheduled at most a year ahead")
        scheduled = starts_at is not None and starts_at > now
        await self._guard.take_send(oid, profile, school_id)
        record, change = await self._store.create_room(
            room_id=secrets.token_urlsafe(12),
            kind=kind,
            class_id=class_id,
            school_id=school_id,
            host=oid,
            title=stored,
            asked_title=title,
            starts_at=starts_at,
            started_at=None if scheduled else now,
            key=key,
            now=now,
        )
        if change is None:  # the same start, retried while the first was being stored
            return record, True
        await self._chats.publish_membership(change)
        log.info("room %s: %s of %s started by %d", record.id, kind, class_id, oid)
        return record, False

    async def rooms(self, oid: int, class_id: str | None) -> list[RoomJson]:
        """The rooms of a class (or of the person's classes and their
        children's) that the person may join or host, newest first."""
        profile = await self._guard.profile(oid)
        if profile is None:
            return []
        if class_id is not None:
            class_ids = [class_id]
        else:
            links = [*profile.classes, *(link for c in profile.children for link in c.classes)]
            class_ids = sorted({link.class_id for link in links})
        if not class_ids:
            return []
        records = await self._store.rooms_of_classes(class_ids, limit=MAX_LISTED)
        return [self._info(r) for r in records if may_enter(profile, r)]

    async def info(self, oid: int, room_id: str) -> RoomJson:
        record = await self._record(room_id)
        profile = await self._guard.profile(oid)
        if profile is None or not may_enter(profile, record):
            raise e.forbidden("this room is not for you")
        return self._info(record)

    def _info(self, record: RoomRecord) -> RoomJson:
        room = self._live.get(record.id)
        if room is not None:
            record = room.record
        return record.to_json(0 if room is None else len(room.participants))

    async def attendance(self, oid: int, room_id: str) -> tuple[RoomRecord, list[AttendanceRow]]:
        """Who was present when: for the host, the co-host and the school's admins."""
        record = await self._record(room_id)
        if not await self.hosts_now(oid, record):
            profile = await self._guard.profile(oid)
            admin = profile is not None and may_in_school(
                profile, PolicyAction.MODERATE_SCHOOL, record.school_id
            )
            if not admin:
                raise e.forbidden("only the host, the co-host and the school's admins read this")
        return record, await self._store.room_attendance(room_id)

    async def _record(self, room_id: str) -> RoomRecord:
        record = await self._store.room(room_id)
        if record is None:
            raise e.RoomNotFound(room_id)
        return record

    # -- joining and leaving ----------------------------------------------------------

    async def join(self, oid: int, room_id: str, sink: RoomSink) -> RoomJoined:
        """Enter the room (or, for a meeting's parent, its waiting room), or
        take one's place back."""
        while True:
            record = await self._record(room_id)
            if record.ended_at is not None:
                raise e.ended()
            profile = await self._guard.profile(oid)
            if profile is None or not may_enter(profile, record):
                raise e.forbidden(f"this {record.kind} is not for you")
            room = await self._live_room(record)
            async with room.lock:
                if room.closed:
                    continue  # emptied or ended while we waited: look again
                try:
                    return await self._join(room, profile, sink)
                finally:
                    await self.drop_if_empty(room)  # a refusal leaves nothing behind

    async def _live_room(self, record: RoomRecord) -> Room:
        room = self._live.get(record.id)
        if room is not None:
            return room
        if self._closed:
            raise ZvonokError(SERVER_SHUTDOWN, "the server is restarting")
        owner = await self._directory.claim(record.id)
        if owner != self._directory.node:
            raise RoomElsewhere(owner)
        removed = await self._store.room_removals(record.id)
        room = self._live.get(record.id)  # made by someone else meanwhile?
        if room is None:
            room = self._live[record.id] = Room(record, removed)
        return room

    async def _join(self, room: Room, profile: Profile, sink: RoomSink) -> RoomJoined:
        oid = profile.person.oid
        if oid in room.removed:
            raise e.removed()
        hosting = await self.hosts_now(oid, room.record)
        if room.record.started_at is None:
            if not hosting:
                raise e.not_started()
            room.record = await self._store.open_room(room.id, self._clock.time())
        if not room.media_open:
            await self._media.open_room(room.id, self)
            room.media_open = True
        held = room.participants.get(oid)
        if held is not None:
            return await self._take_back(room, held, sink)
        role = base_role(profile, room.record)
        waiter = room.waiting.get(oid)
        if waiter is None and room.waits(room.record.kind, role, oid, hosting=hosting):
            if len(room.waiting) >= self._config.max_participants:
                raise e.full("waiting room")
            waiter = room.waiting[oid] = Waiter(
                oid, profile.person.full_name, self._clock.time(), sink
            )
            sink.send(Waiting(room=room.id, people=[waiter.to_json()]))
            room.tell_hosts()
        if waiter is not None:
            if waiter.sink is not sink:  # the same person on another connection
                waiter.sink.send(Removed(room=room.id, reason="elsewhere"))
                waiter.sink = sink
            return self.waiting_reply(room, waiter, role)
        participant = await self.enter(room, oid, profile.person.full_name, role, sink)
        return self.joined(room, participant)

    async def _take_back(self, room: Room, held: Participant, sink: RoomSink) -> RoomJoined:
        """A participant joins again: after a lost connection (in the grace),
        from another connection (which leaves the room), or from this one,
        to start its media afresh (a browser whose network changed)."""
        if held.sink is sink:
            await self._media.leave(room.id, held.person)
            return self.joined(room, held, resumed=True)
        old, was_away = held.sink, held.sink is None
        if held.grace is not None:
            held.grace.cancel()
            held.grace = None
        held.sink, held.away_since = sink, None
        if old is not None:
            old.send(Removed(room=room.id, reason="elsewhere"))
            await self._media.leave(room.id, held.person)  # that connection's media
        if was_away:
            self._changed(room, held, "back", exclude=held.person)
        if room.record.hosts(held.person) and room.waiting:
            room.tell_hosts()
        return self.joined(room, held, resumed=True)

    async def enter(
        self, room: Room, oid: int, name: str, role: RoomRole, sink: RoomSink
    ) -> Participant:
        """Make ``oid`` a participant: attendance from now, a member of the
        room's chat, announced to the others.  The caller holds the lock."""
        hosting = await self.hosts_now(oid, room.record)
        if not hosting and room.guests() >= self._config.max_participants:
            raise e.full("room")
        participant = Participant(oid, name, role, sink)
        change = await self._store.enter_room(
            room.id, oid, room.role_of(participant), self._clock.time(), self._directory.node
        )
        room.participants[oid] = participant
        if change is not None:
            await self._chats.publish_membership(change)
        self._changed(room, participant, "joined", exclude=oid)
        if hosting and room.waiting:
            room.tell_hosts()
        return participant

    async def leave(self, oid: int, room_id: str, sink: RoomSink) -> None:
        """Leave the room (or its waiting room) from this connection."""
        room = self._live.get(room_id)
        if room is None:
            raise e.not_in_room()
        async with room.lock:
            waiter = room.waiting.get(oid)
            if waiter is not None and waiter.sink is sink:
                del room.waiting[oid]
                room.tell_hosts()
            else:
                participant = room.participants.get(oid)
                if participant is None or participant.sink is not sink:
                    raise e.not_in_room()
                await self.exit(room, participant, at=self._clock.time(), change="left")
            await self.drop_if_empty(room)

    async def lost(self, oid: int, room_id: str, sink: RoomSink) -> None:
        """This connection closed: a waiter leaves, a participant is away for
        the grace period."""
        room = self._live.get(room_id)
        if room is None:
            return
        async with room.lock:
            if room.closed:
                return
            waiter = room.waiting.get(oid)
            if waiter is not None and waiter.sink is sink:
                del room.waiting[oid]
                room.tell_hosts()
                await self.drop_if_empty(room)
                return
            participant = room.participants.get(oid)
            if participant is not None and participant.sink is sink:
                await self._go_away(room, participant)

    def holds(self, oid: int, room_id: str, sink: RoomSink) -> bool:
        """Whether this connection is in the room (or its waiting room)."""
        room = self._live.get(room_id)
        if room is None:
            return False
        place = room.participants.get(oid) or room.waiting.get(oid)
        return place is not None and place.sink is sink

    async def _go_away(self, room: Room, participant: Participant) -> None:
        """Start the grace: the participant is away until they join again or
        it runs out.  Their media is gone; they publish again when back."""
        sink, participant.sink = participant.sink, None
        participant.away_since = self._clock.time()
        state = room.state_of(participant)
        away = ParticipantChanged(
            room=room.id, person=participant.person, change="away", state=state
        )
        room.broadcast(away)
        if sink is not None:  # still connected (its media failed): it is told too
            sink.send(away)
        await self._media.leave(room.id, participant.person)
        if self._config.grace <= 0:
            await self.exit(room, participant, at=participant.away_since, change="left")
            await self.drop_if_empty(room)
            return
        deadline = self._clock.monotonic() + self._config.grace
        participant.grace = room.spawn(self._expire(room, participant, deadline))

    async def _expire(self, room: Room, participant: Participant, deadline: float) -> None:
        await self._clock.sleep_until(deadline)
        async with room.lock:
            if room.closed or room.participants.get(participant.person) is not participant:
                return
            if participant.sink is not None:
                return  # back in time
            participant.grace = None
            at = participant.away_since or self._clock.time()
            await self.exit(room, participant, at=at, change="left")
            await self.drop_if_empty(room)

    async def exit(self, room: Room, participant: Participant, *, at: float, change: str) -> None:
        """``participant`` has left (or was removed): attendance ends at ``at``."""
        room.participants.pop(participant.person, None)
        if participant.grace is not None and participant.grace is not asyncio.current_task():
            participant.grace.cancel()
        participant.grace = None
        try:
            await self._store.exit_room(room.id, participant.person, at)
        except ZvonokError as exc:  # the interval is closed at the next start
            log.warning(
                "room %s: attendance of %d not closed: %s", room.id, participant.person, exc.code
            )
        state = room.state_of(participant)
        state["status"] = "left"
        room.broadcast(
            ParticipantChanged(room=room.id, person=participant.person, change=change, state=state)
        )
        await self._media.leave(room.id, participant.person)

    async def roster_changed(self) -> None:
        """The roster changed: whoever the policy no longer lets into a live
        room's class (a student moved to another class, a teacher taken off
        the staff, a parent whose child left) is taken out of it now, told
        ``room.removed {reason: "roster"}``, and may come back if the roster
        lets them again.  Rights are read at use; being in a room is a use."""
        for room in list(self._live.values()):
            async with room.lock:
                if room.closed:
                    continue
                await self._recheck(room)
                await self.drop_if_empty(room)

    async def _recheck(self, room: Room) -> None:
        now = self._clock.time()
        for oid, waiter in list(room.waiting.items()):
            if not await self._may_stay(oid, room.record):
                del room.waiting[oid]
                waiter.sink.send(Removed(room=room.id, reason="roster"))
                room.tell_hosts()
        for oid, participant in list(room.participants.items()):
            if not await self._may_stay(oid, room.record):
                log.info("room %s: %d no longer in its class by the roster", room.id, oid)
                gone = participant.sink
                await self.exit(room, participant, at=now, change="removed")
                if gone is not None:
                    gone.send(Removed(room=room.id, reason="roster"))

    async def _may_stay(self, oid: int, record: RoomRecord) -> bool:
        profile = await self._guard.profile(oid)
        return profile is not None and may_enter(profile, record)

    async def drop_if_empty(self, room: Room) -> None:
        """Forget a room nobody is in (its record stays; joining makes it live again)."""
        if not room.empty or room.closed:
            return
        if self._live.get(room.id) is room:
            del self._live[room.id]
            await self._directory.release(room.id)
        await room.close()
        if room.media_open:
            await self._media.close_room(room.id)

    async def end(self, oid: int, room_id: str) -> None:
        """End the room for everyone (the host or co-host, in the room or not)."""
        record = await self._record(room_id)
        if not await self.hosts_now(oid, record):
            raise e.not_host()
        room = self._live.get(room_id)
        if room is None:
            owner = await self._directory.owner(room_id)
            if owner is not None and owner != self._directory.node:
                raise RoomElsewhere(owner)  # its node tells the people in it
            await self._store.end_room(room_id, self._clock.time())
            return
        async with room.lock:
            await self._store.end_room(room_id, self._clock.time())
            if room.closed:
                return
            if self._live.get(room_id) is room:
                del self._live[room_id]
                await self._directory.release(room_id)
            sinks = list(room.everyone())
            await room.close()
            for sink in sinks:
                sink.send(Ended(room=room_id))
            if room.media_open:
                await self._media.close_room(room_id)
        log.info("room %s ended by %d", room_id, oid)

    # -- what requests about a room need ----------------------------------------------

    @asynccontextmanager
    async def acting(
        self, oid: int, room_id: str, sink: RoomSink, *, host: bool = False
    ) -> AsyncIterator[tuple[Room, Participant]]:
        """The room and the actor, who must be in it on this connection (and,
        with ``host``, be its host or co-host), with the room's lock held."""
        room = self._live.get(room_id)
        if room is None:
            raise e.not_in_room()
        async with room.lock:
            if host and not await self.hosts_now(oid, room.record):
                raise e.not_host()
            yield room, self.present(room, oid, sink)

    async def hosts_now(self, oid: int, record: RoomRecord) -> bool:
        """Whether ``oid`` hosts the room now: named its host or co-host, and
        still let host the class's rooms of its kind by the roster as it is
        (a teacher taken off the staff mid-lesson hosts no more)."""
        if not record.hosts(oid):
            return False
        profile = await self._guard.profile(oid)
        return profile is not None and may_in_class(
            profile, HOST_ACTION[record.kind], place_of(record)
        )

    def find(self, oid: int, room_id: str, sink: RoomSink) -> tuple[Room, Participant]:
        """Like :meth:`acting` without the lock (for media requests)."""
        room = self._live.get(room_id)
        if room is None:
            raise e.not_in_room()
        return room, self.present(room, oid, sink)

    @staticmethod
    def present(room: Room, oid: int, sink: RoomSink) -> Participant:
        participant = room.participants.get(oid)
        if participant is None or participant.sink is not sink:
            waiter = room.waiting.get(oid)
            raise e.not_in_room(waiting=waiter is not None and waiter.sink is sink)
        return participant

    def joined(
        self,
        room: Room,
        participant: Participant,
        *,
        resumed: bool = False,
        reply: type[RoomJoined] = RoomJoined,
    ) -> RoomJoined:
        """What a participant learns on entering: the room, everyone in it,
        the tracks, their ICE servers and the room's chat."""
        return reply(
            room=room.record.to_json(len(room.participants)),
            you=room.state_of(participant),
            participants=[room.state_of(p) for p in room.participants.values()],
            tracks=[t.to_json() for t in self._media.tracks(room.id)],
            ice_servers=self._ice(participant.person, self._clock.time()),
            chat=room.record.chat_id,
            resumed=resumed,
        )

    def waiting_reply(self, room: Room, waiter: Waiter, role: RoomRole) -> RoomJoined:
        return RoomJoined(
            room=room.record.to_json(len(room.participants)),
            you=room.waiter_state(waiter, role),
            participants=[],
            tracks=[],
            ice_servers=[],
            chat=None,
            waiting=True,
        )

    def _changed(
        self, room: Room, participant: Participant, change: str, *, exclude: int | None = None
    ) -> None:
        state = room.state_of(participant)
        message = ParticipantChanged(
            room=room.id, person=participant.person, change=change, state=state
        )
        room.broadcast(message, exclude=exclude)

    def changed(self, room: Room, participant: Participant, change: str) -> None:
        """Tell everyone present that ``participant``'s state changed."""
        self._changed(room, participant, change)

    # -- MediaEvents (called by the SFU on the event loop; never block) ----------------

    def subscriber_offer(self, room_id: str, participant: int, sdp: str) -> None:
        room = self._live.get(room_id)
        held = None if room is None else room.participants.get(participant)
        if held is not None and held.sink is not None:
            held.sink.send(RtcOffer(room=room_id, sdp=sdp))

    def track_added(self, room_id: str, track: TrackInfo) -> None:
        self._track(room_id, "added", track)

    def track_removed(self, room_id: str, track: TrackInfo) -> None:
        self._track(room_id, "removed", track)

    def _track(self, room_id: str, change: TrackChange, track: TrackInfo) -> None:
        room = self._live.get(room_id)
        if room is not None:
            room.broadcast(TrackChanged(room=room_id, change=change, track=track.to_json()))

    def speakers(self, room_id: str, speaking: Sequence[int]) -> None:
        room = self._live.get(room_id)
        if room is not None:
            room.broadcast(Speaking(room=room_id, people=list(speaking)), ephemeral=True)

    def media_failed(self, room_id: str, participant: int) -> None:
        room = self._live.get(room_id)
        if room is not None and not room.closed:
            room.spawn(self._media_failed(room, participant))

    async def _media_failed(self, room: Room, oid: int) -> None:
        async with room.lock:
            participant = room.participants.get(oid)
            if room.closed or participant is None or participant.sink is None:
                return
            log.info("room %s: media of %d failed; grace starts", room.id, oid)
            await self._go_away(room, participant)


def may_enter(profile: Profile, record: RoomRecord) -> bool:
    """Whether the policy lets this person join (or host) the room's class's
    rooms of its kind."""
    place = place_of(record)
    return may_in_class(profile, JOIN_ACTION[record.kind], place) or may_in_class(
        profile, HOST_ACTION[record.kind], place
    )


def base_role(profile: Profile, record: RoomRecord) -> RoomRole:
    """What the person is in this room, host and co-host aside: the school's
    staff first (they never wait), then a student of the class (lessons) or
    a parent of one (meetings)."""
    relations = class_relations(profile, place_of(record))
    if Relation.STAFF_OF_SCHOOL in relations:
        return RoomRole.STAFF
    if record.kind is RoomKind.MEETING:
        return RoomRole.PARENT
    return RoomRole.STUDENT
