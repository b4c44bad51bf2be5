"""What participants do to their own state, and what hosts do to others'.

Every control is enforced here, not only shown by clients: a source the
host forbids stays muted in the SFU (``set_muted``) and unmuting it, or
publishing it, is refused with ``room.unmute_forbidden``; a removed person
leaves the room, its chat and its media and may not come back.  The host
controls are for the room's host and co-host (``room.not_host``), who must
be in the room on the connection that asks; nobody acts on the host but
the host.  Each change is announced to everyone present as a
``room.participant`` event.
"""

from __future__ import annotations

from server.chats.service import ChatService
from server.clock import Clock
from server.errors import rooms as e
from server.model.rooms import RoomRole
from server.policy.guard import Guard
from server.policy.policy import may_in_class
from server.store.base import Store
from signaling.rooms import Removed, RoomAdmitted, Waiting

from .live import Participant, Room, RoomSink
from .media import Source
from .rights import HOST_ACTION, place_of
from .service import RoomService

MICROPHONE: Source = "microphone"
SCREEN: Source = "screen"


class Controls:
    """Hands, mutes and the host controls of the rooms of one service."""

    def __init__(
        self, rooms: RoomService, store: Store, guard: Guard, chats: ChatService, clock: Clock
    ) -> None:
        self._rooms = rooms
        self._media = rooms.media
        self._store = store
        self._guard = guard
        self._chats = chats
        self._clock = clock

    # -- one's own state ------------------------------------------------------------

    async def hand(self, oid: int, room_id: str, sink: RoomSink, up: bool) -> None:
        async with self._rooms.acting(oid, room_id, sink) as (room, me):
            if me.hand != up:
                me.hand = up
                self._rooms.changed(room, me, "hand")

    async def mute_self(
        self, oid: int, room_id: str, sink: RoomSink, source: Source, muted: bool
    ) -> None:
        async with self._rooms.acting(oid, room_id, sink) as (room, me):
            if not muted and source in me.forbidden:
                raise e.unmute_forbidden(source)
            was = source in me.muted
            if muted:
                me.muted.add(source)
            else:
                me.muted.discard(source)
            await self._media.set_muted(room.id, oid, source, muted)
            if was != muted:
                self._rooms.changed(room, me, "muted" if muted else "unmuted")

    # -- host controls ------------------------------------------------------------------

    async def mute(
        self, oid: int, room_id: str, sink: RoomSink, person: int, source: Source, forbid: bool
    ) -> None:
        """Mute ``person``'s source; with ``forbid``, keep it muted until allowed."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            target = _target(room, oid, person)
            await self._mute(room, target, source, forbid)

    async def _mute(self, room: Room, target: Participant, source: Source, forbid: bool) -> None:
        newly_muted = source not in target.muted
        newly_forbidden = forbid and source not in target.forbidden
        target.muted.add(source)
        if forbid:
            target.forbidden.add(source)
        await self._media.set_muted(room.id, target.person, source, True)
        if newly_forbidden:
            self._rooms.changed(room, target, "forbidden")
        elif newly_muted:
            self._rooms.changed(room, target, "muted")

    async def allow(
        self, oid: int, room_id: str, sink: RoomSink, person: int, source: Source
    ) -> None:
        """Let ``person`` unmute ``source`` again (it stays muted until they do)."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            target = _target(room, oid, person)
            if source in target.forbidden:
                target.forbidden.discard(source)
                self._rooms.changed(room, target, "allowed")

    async def mute_all(self, oid: int, room_id: str, sink: RoomSink, forbid: bool) -> None:
        """Mute every microphone but the host's and the co-host's."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            for target in list(room.participants.values()):
                if not room.record.hosts(target.person):
                    await self._mute(room, target, MICROPHONE, forbid)

    async def stop_screen(self, oid: int, room_id: str, sink: RoomSink, person: int) -> None:
        """End ``person``'s screen share (they may share again unless the
        screen is forbidden with ``room.host.mute``)."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            target = _target(room, oid, person)
            await self._media.unpublish(room.id, target.person, SCREEN)

    async def lower_hands(self, oid: int, room_id: str, sink: RoomSink, person: int | None) -> None:
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            if person is None:
                targets = [p for p in room.participants.values() if p.hand]
            else:
                targets = [_target(room, oid, person)]
            for target in targets:
                if target.hand:
                    target.hand = False
                    self._rooms.changed(room, target, "hand")

    async def remove(self, oid: int, room_id: str, sink: RoomSink, person: int) -> None:
        """Take ``person`` out of the room (or its waiting room) for good."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            if person == oid:
                raise e.invalid("to go, leave the room")
            if person == room.record.host:
                raise e.invalid("nobody removes the host")
            waiter = room.waiting.pop(person, None)
            target = room.participants.get(person)
            if waiter is None and target is None:
                raise e.invalid(f"{person} is not in this room")
            room.removed.add(person)
            now = self._clock.time()
            change = await self._store.remove_from_room(room.id, person, oid, now)
            if change is not None:
                await self._chats.publish_membership(change)
            if waiter is not None:
                waiter.sink.send(Removed(room=room.id, reason="host"))
                room.tell_hosts()
            if target is not None:
                gone = target.sink
                await self._rooms.exit(room, target, at=now, change="removed")
                if gone is not None:
                    gone.send(Removed(room=room.id, reason="host"))
            if person == room.record.cohost:
                room.record = await self._store.set_cohost(room.id, None)

    async def admit(
        self, oid: int, room_id: str, sink: RoomSink, person: int | None, everyone: bool
    ) -> None:
        """Let one waiter, or all in the order they came, into the meeting;
        ``room.full`` once no place is left (those admitted stay admitted)."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            if everyone:
                people = list(room.waiting)
            elif person is not None and person in room.waiting:
                people = [person]
            else:
                raise e.invalid(f"{person} is not waiting")
            try:
                for waiting in people:
                    waiter = room.waiting[waiting]
                    entered = await self._rooms.enter(
                        room, waiting, waiter.name, RoomRole.PARENT, waiter.sink
                    )
                    del room.waiting[waiting]
                    room.admitted.add(waiting)
                    waiter.sink.send(self._rooms.joined(room, entered, reply=RoomAdmitted))
            finally:
                room.tell_hosts()

    async def cohost(self, oid: int, room_id: str, sink: RoomSink, person: int | None) -> None:
        """Name the co-host (the host only), or none.  A co-host is someone
        the policy lets host the class's rooms of this kind."""
        async with self._rooms.acting(oid, room_id, sink, host=True) as (room, _):
            record = room.record
            if oid != record.host:
                raise e.not_host("only the host names a co-host")
            if person is not None:
                if person == record.host:
                    raise e.invalid("the host is the host already")
                profile = await self._guard.profile(person)
                allowed = profile is not None and may_in_class(
                    profile, HOST_ACTION[record.kind], place_of(record)
                )
                if not allowed or person in room.removed:
                    raise e.invalid("a co-host is a teacher of the class or an admin of the school")
            before = record.cohost
            if before == person:
                return
            room.record = await self._store.set_cohost(room.id, person)
            for affected in (before, person):
                held = None if affected is None else room.participants.get(affected)
                if held is not None:
                    self._rooms.changed(room, held, "role")
            named = None if person is None else room.participants.get(person)
            if named is not None and named.sink is not None and room.waiting:
                people = [w.to_json() for w in room.waiting.values()]
                named.sink.send(Waiting(room=room.id, people=people))


def _target(room: Room, actor: int, person: int) -> Participant:
    """The participant a host control is about; nobody but the host acts on the host."""
    if person == room.record.host and actor != room.record.host:
        raise e.invalid("only the host changes the host's state")
    target = room.participants.get(person)
    if target is None:
        raise e.invalid(f"{person} is not in this room")
    return target
