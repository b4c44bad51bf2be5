"""Room requests arriving on a WebSocket session, answered with one reply each.

Like :class:`~server.chats.requests.ChatRequests`: one marked handler per
request, refusals are raised as
:class:`~server.errors.ZvonokError` and become ``error`` frames with the
request's id.  A :class:`RoomRequests` also remembers which rooms its
connection is in, so that when the connection closes each of them starts
its participant's grace.

With several nodes a room may live on another node than the connection
(:mod:`server.rooms.directory`): each request about a room is then
forwarded to that node (:mod:`server.rooms.relay`), which answers the
client itself; this connection's handler replies nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar, cast

from server.dispatch import Handler, handles, routes
from server.errors import ZvonokError
from server.errors import rooms as e
from server.model.rooms import RoomKind
from signaling import rooms as wire
from signaling.codec import RequestId
from signaling.messages import Message

from .controls import Controls
from .directory import RoomElsewhere
from .live import RoomSink
from .media import IceCandidate, TrackSpec
from .relay import RoomRelay
from .rtc import MediaRequests
from .service import RoomService

log = logging.getLogger(__name__)

MAX_ROOMS_PER_CONNECTION = 4


class _AboutARoom(Protocol):
    @property
    def room(self) -> str: ...


M = TypeVar("M", bound=_AboutARoom)
R = TypeVar("R", bound=Message)


def relayed(
    method: Callable[[RoomRequests, M, RequestId | None], Awaitable[R]],
) -> Callable[[RoomRequests, M, RequestId | None], Awaitable[R | None]]:
    """Serve the request here, or forward it to the node its room lives on."""

    @functools.wraps(method)
    async def handler(self: RoomRequests, m: M, rid: RequestId | None) -> R | None:
        relay = self._relay
        if relay is None:  # served for another node already: never forwarded twice
            return await method(self, m, rid)
        node = relay.elsewhere(self._session, m.room)
        if node is None:
            try:
                return await method(self, m, rid)
            except RoomElsewhere as moved:
                node = moved.node
        await relay.forward(node, self._session, self._oid, self._sink, cast(Message, m), rid)
        return None

    return handler


class RoomRequests:
    """The room side of one person's session."""

    def __init__(
        self,
        oid: int,
        *,
        rooms: RoomService,
        controls: Controls,
        sink: RoomSink,
        relay: RoomRelay | None = None,
        session: str = "",
    ) -> None:
        self._oid = oid
        self._relay = relay
        self._session = session
        self._rooms = rooms
        self._controls = controls
        self._rtc = MediaRequests(rooms)
        self._sink = sink
        self._joined: set[str] = set()  # rooms this connection entered (perhaps left since)

    @property
    def routes(self) -> Mapping[type[Message], Handler]:
        """The room requests' dispatch table (a room's node serving another's connection)."""
        return routes(self)

    # -- rooms -----------------------------------------------------------------

    @handles(wire.StartRoom)
    async def start(self, m: wire.StartRoom, rid: RequestId | None) -> wire.RoomInfo:
        record, _ = await self._rooms.start(
            self._oid, m.class_id, RoomKind(m.kind), m.title, m.starts_at, key=m.key
        )
        return wire.RoomInfo(room=record.to_json())

    @handles(wire.ListRooms)
    async def list_rooms(self, m: wire.ListRooms, rid: RequestId | None) -> wire.RoomList:
        return wire.RoomList(rooms=await self._rooms.rooms(self._oid, m.class_id))

    @handles(wire.JoinRoom)
    @relayed
    async def join(self, m: wire.JoinRoom, rid: RequestId | None) -> wire.RoomJoined:
        self._make_room_for(m.room)
        reply = await self._rooms.join(self._oid, m.room, self._sink)
        self._joined.add(m.room)
        return reply

    @handles(wire.LeaveRoom)
    @relayed
    async def leave(self, m: wire.LeaveRoom, rid: RequestId | None) -> wire.RoomOk:
        await self._rooms.leave(self._oid, m.room, self._sink)
        self._joined.discard(m.room)
        return wire.RoomOk(room=m.room)

    @handles(wire.RaiseHand)
    @relayed
    async def hand(self, m: wire.RaiseHand, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.hand(self._oid, m.room, self._sink, m.up)
        return wire.RoomOk(room=m.room)

    @handles(wire.MuteSelf)
    @relayed
    async def mute_self(self, m: wire.MuteSelf, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.mute_self(self._oid, m.room, self._sink, m.source, m.muted)
        return wire.RoomOk(room=m.room)

    # -- host controls -----------------------------------------------------------

    @handles(wire.HostMute)
    @relayed
    async def host_mute(self, m: wire.HostMute, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.mute(self._oid, m.room, self._sink, m.person, m.source, m.forbid)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostAllow)
    @relayed
    async def host_allow(self, m: wire.HostAllow, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.allow(self._oid, m.room, self._sink, m.person, m.source)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostMuteAll)
    @relayed
    async def host_mute_all(self, m: wire.HostMuteAll, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.mute_all(self._oid, m.room, self._sink, m.forbid)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostStopScreen)
    @relayed
    async def host_stop_screen(self, m: wire.HostStopScreen, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.stop_screen(self._oid, m.room, self._sink, m.person)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostRemove)
    @relayed
    async def host_remove(self, m: wire.HostRemove, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.remove(self._oid, m.room, self._sink, m.person)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostLowerHands)
    @relayed
    async def host_lower_hands(self, m: wire.HostLowerHands, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.lower_hands(self._oid, m.room, self._sink, m.person)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostAdmit)
    @relayed
    async def host_admit(self, m: wire.HostAdmit, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.admit(self._oid, m.room, self._sink, m.person, m.all)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostCohost)
    @relayed
    async def host_cohost(self, m: wire.HostCohost, rid: RequestId | None) -> wire.RoomOk:
        await self._controls.cohost(self._oid, m.room, self._sink, m.person)
        return wire.RoomOk(room=m.room)

    @handles(wire.HostEnd)
    @relayed
    async def host_end(self, m: wire.HostEnd, rid: RequestId | None) -> wire.RoomOk:
        await self._rooms.end(self._oid, m.room)
        return wire.RoomOk(room=m.room)

    # -- media -------------------------------------------------------------------

    @handles(wire.RtcPublish)
    @relayed
    async def publish(self, m: wire.RtcPublish, rid: RequestId | None) -> wire.RtcAnswer:
        specs = [TrackSpec(mid=t.mid, source=t.source) for t in m.tracks]
        answer = await self._rtc.publish(self._oid, m.room, self._sink, m.sdp, specs)
        return wire.RtcAnswer(room=m.room, sdp=answer)

    @handles(wire.RtcAnswer)
    @relayed
    async def answer(self, m: wire.RtcAnswer, rid: RequestId | None) -> wire.RoomOk:
        await self._rtc.answer(self._oid, m.room, self._sink, m.sdp)
        return wire.RoomOk(room=m.room)

    @handles(wire.RtcCandidate)
    @relayed
    async def candidate(self, m: wire.RtcCandidate, rid: RequestId | None) -> wire.RoomOk:
        found, given = None, m.candidate
        if given is not None:
            found = IceCandidate(given.candidate, given.sdp_mid, given.sdp_mline_index)
        await self._rtc.candidate(self._oid, m.room, self._sink, m.pc, found)
        return wire.RoomOk(room=m.room)

    @handles(wire.Unpublish)
    @relayed
    async def unpublish(self, m: wire.Unpublish, rid: RequestId | None) -> wire.RoomOk:
        await self._rtc.unpublish(self._oid, m.room, self._sink, m.source)
        return wire.RoomOk(room=m.room)

    @handles(wire.Subscribe)
    @relayed
    async def subscribe(self, m: wire.Subscribe, rid: RequestId | None) -> wire.RoomOk:
        await self._rtc.subscribe(self._oid, m.room, self._sink, m.tracks)
        return wire.RoomOk(room=m.room)

    @handles(wire.Unsubscribe)
    @relayed
    async def unsubscribe(self, m: wire.Unsubscribe, rid: RequestId | None) -> wire.RoomOk:
        await self._rtc.unsubscribe(self._oid, m.room, self._sink, m.tracks)
        return wire.RoomOk(room=m.room)

    @handles(wire.Show)
    @relayed
    async def show(self, m: wire.Show, rid: RequestId | None) -> wire.RoomOk:
        await self._rtc.show(self._oid, m.room, self._sink, m.tracks)
        return wire.RoomOk(room=m.room)

    def _make_room_for(self, room_id: str) -> None:
        """A connection is in a few rooms at most; forget those it was moved out of."""
        if room_id in self._joined or len(self._joined) < MAX_ROOMS_PER_CONNECTION:
            return
        self._joined = {r for r in self._joined if self._rooms.holds(self._oid, r, self._sink)}
        if len(self._joined) >= MAX_ROOMS_PER_CONNECTION:
            raise e.invalid(f"a connection is in at most {MAX_ROOMS_PER_CONNECTION} rooms")

    async def close(self) -> None:
        """The connection closed: every room it is in starts its grace."""
        if self._relay is not None:
            self._relay.close_session(self._session)
        joined, self._joined = self._joined, set()
        for room in sorted(joined):
            try:
                await self._rooms.lost(self._oid, room, self._sink)
            except ZvonokError as exc:  # the store went away: the restart closes the rows
                log.warning("room %s: leaving %d failed: %s", room, self._oid, exc.code)
