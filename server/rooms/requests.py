"""Room requests arriving on a WebSocket session, answered with one reply each.

Like :class:`~server.chats.requests.ChatRequests`: the connection hands
every room message here, refusals are raised as
:class:`~server.errors.ZvonokError` and become ``error`` frames with the
request's id.  A :class:`RoomRequests` also remembers which rooms its
connection is in, so that when the connection closes each of them starts
its participant's grace.
"""

from __future__ import annotations

import logging

from server.errors import ZvonokError
from signaling import rooms as wire
from signaling.messages import Message

from . import errors as e
from .controls import Controls
from .live import RoomSink
from .media import IceCandidate, TrackSpec
from .model import RoomKind
from .rtc import MediaRequests, as_peer_role, as_source
from .service import RoomService

log = logging.getLogger(__name__)

MAX_ROOMS_PER_CONNECTION = 4

ROOM_REQUESTS: tuple[type[Message], ...] = (
    wire.StartRoom,
    wire.ListRooms,
    wire.JoinRoom,
    wire.LeaveRoom,
    wire.RaiseHand,
    wire.MuteSelf,
    wire.HostMute,
    wire.HostAllow,
    wire.HostMuteAll,
    wire.HostStopScreen,
    wire.HostRemove,
    wire.HostLowerHands,
    wire.HostAdmit,
    wire.HostCohost,
    wire.HostEnd,
    wire.RtcPublish,
    wire.RtcAnswer,
    wire.RtcCandidate,
    wire.Unpublish,
    wire.Subscribe,
    wire.Unsubscribe,
    wire.Show,
)


class RoomRequests:
    """The room side of one person's session."""

    def __init__(self, oid: int, *, rooms: RoomService, controls: Controls, sink: RoomSink) -> None:
        self._oid = oid
        self._rooms = rooms
        self._controls = controls
        self._rtc = MediaRequests(rooms)
        self._sink = sink
        self._joined: set[str] = set()  # rooms this connection entered (perhaps left since)

    async def handle(self, message: Message) -> Message:
        """The reply to ``message``."""
        oid, sink, rooms, host = self._oid, self._sink, self._rooms, self._controls
        match message:
            case wire.StartRoom(
                class_id=class_id, kind=kind, title=title, starts_at=starts_at, key=key
            ):
                record, _ = await rooms.start(
                    oid, class_id, RoomKind(kind), title, starts_at, key=key
                )
                return wire.RoomInfo(room=record.to_json())
            case wire.ListRooms(class_id=class_id):
                return wire.RoomList(rooms=await rooms.rooms(oid, class_id))
            case wire.JoinRoom(room=room):
                self._make_room_for(room)
                reply = await rooms.join(oid, room, sink)
                self._joined.add(room)
                return reply
            case wire.LeaveRoom(room=room):
                await rooms.leave(oid, room, sink)
                self._joined.discard(room)
            case wire.RaiseHand(room=room, up=up):
                await host.hand(oid, room, sink, up)
            case wire.MuteSelf(room=room, source=source, muted=muted):
                await host.mute_self(oid, room, sink, as_source(source), muted)
            case wire.HostMute(room=room, person=person, source=source, forbid=forbid):
                await host.mute(oid, room, sink, person, as_source(source), forbid)
            case wire.HostAllow(room=room, person=person, source=source):
                await host.allow(oid, room, sink, person, as_source(source))
            case wire.HostMuteAll(room=room, forbid=forbid):
                await host.mute_all(oid, room, sink, forbid)
            case wire.HostStopScreen(room=room, person=person):
                await host.stop_screen(oid, room, sink, person)
            case wire.HostRemove(room=room, person=person):
                await host.remove(oid, room, sink, person)
            case wire.HostLowerHands(room=room, person=person):
                await host.lower_hands(oid, room, sink, person)
            case wire.HostAdmit(room=room, person=person, all=everyone):
                await host.admit(oid, room, sink, person, everyone)
            case wire.HostCohost(room=room, person=person):
                await host.cohost(oid, room, sink, person)
            case wire.HostEnd(room=room):
                await rooms.end(oid, room)
            case wire.RtcPublish(room=room, sdp=sdp, tracks=tracks):
                specs = [TrackSpec(mid=t.mid, source=as_source(t.source)) for t in tracks]
                answer = await self._rtc.publish(oid, room, sink, sdp, specs)
                return wire.RtcAnswer(room=room, sdp=answer)
            case wire.RtcAnswer(room=room, sdp=sdp):
                await self._rtc.answer(oid, room, sink, sdp)
            case wire.RtcCandidate(room=room, pc=pc, candidate=candidate):
                found = None
                if candidate is not None:
                    found = IceCandidate(
                        candidate.candidate, candidate.sdp_mid, candidate.sdp_mline_index
                    )
                await self._rtc.candidate(oid, room, sink, as_peer_role(pc), found)
            case wire.Unpublish(room=room, source=source):
                await self._rtc.unpublish(oid, room, sink, as_source(source))
            case wire.Subscribe(room=room, tracks=tracks):
                await self._rtc.subscribe(oid, room, sink, tracks)
            case wire.Unsubscribe(room=room, tracks=tracks):
                await self._rtc.unsubscribe(oid, room, sink, tracks)
            case wire.Show(room=room, tracks=tracks):
                await self._rtc.show(oid, room, sink, tracks)
            case other:
                raise ZvonokError("message.unknown_type", f"{other.TYPE} is not a room request")
        return wire.RoomOk(room=room)

    def _make_room_for(self, room_id: str) -> None:
        """A connection is in a few rooms at most; forget those it was moved out of."""
        if room_id in self._joined or len(self._joined) < MAX_ROOMS_PER_CONNECTION:
            return
        self._joined = {r for r in self._joined if self._rooms.holds(self._oid, r, self._sink)}
        if len(self._joined) >= MAX_ROOMS_PER_CONNECTION:
            raise e.invalid(f"a connection is in at most {MAX_ROOMS_PER_CONNECTION} rooms")

    async def close(self) -> None:
        """The connection closed: every room it is in starts its grace."""
        joined, self._joined = self._joined, set()
        for room in sorted(joined):
            try:
                await self._rooms.lost(self._oid, room, self._sink)
            except ZvonokError as exc:  # the store went away: the restart closes the rows
                log.warning("room %s: leaving %d failed: %s", room, self._oid, exc.code)
