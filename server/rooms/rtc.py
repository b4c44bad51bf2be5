"""The WebRTC side of a room's requests, handed to the SFU after the room's checks.

The client offers on its *publishing* connection (``rtc.publish``, answered
at once with the SFU's answer: aiortc gathers its candidates before
answering, so they are in that SDP) and may trickle its own candidates
(``rtc.candidate``).  The SFU offers on the client's *subscribing*
connection (``rtc.offer`` events, after ``media.subscribe``) and the client
answers with ``rtc.answer``.

Only a participant present on the asking connection gets through
(``room.not_in_room``), and a source the host forbids is not published
(``room.unmute_forbidden``).  These calls do not take the room's lock:
negotiating one participant's media must not hold up the room.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.errors import rooms as e

from .live import RoomSink
from .media import IceCandidate, PeerRole, Source, TrackSpec
from .service import RoomService


class MediaRequests:
    """``rtc.*`` and ``media.*`` requests of one service's rooms."""

    def __init__(self, rooms: RoomService) -> None:
        self._rooms = rooms
        self._media = rooms.media

    async def publish(
        self, oid: int, room_id: str, sink: RoomSink, sdp: str, tracks: Sequence[TrackSpec]
    ) -> str:
        """The SFU's answer to the client's publishing offer."""
        room, me = self._rooms.find(oid, room_id, sink)
        sources = [track.source for track in tracks]
        if len(set(sources)) != len(sources) or len({t.mid for t in tracks}) != len(tracks):
            raise e.invalid("each source and each mid at most once in an offer")
        for source in sources:
            if source in me.forbidden:
                raise e.unmute_forbidden(source)
        for source in sources:
            if source in me.muted:  # published muted: the SFU forwards nothing yet
                await self._media.set_muted(room.id, oid, source, True)
        answer = await self._media.publish(room.id, oid, sdp, tracks)
        # A host may have muted a source while the offer was being answered.
        for source in sources:
            if source in me.muted or source in me.forbidden:
                await self._media.set_muted(room.id, oid, source, True)
        return answer

    async def answer(self, oid: int, room_id: str, sink: RoomSink, sdp: str) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.answer(room.id, oid, sdp)

    async def candidate(
        self, oid: int, room_id: str, sink: RoomSink, pc: PeerRole, candidate: IceCandidate | None
    ) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.add_candidate(room.id, oid, pc, candidate)

    async def unpublish(self, oid: int, room_id: str, sink: RoomSink, source: Source) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.unpublish(room.id, oid, source)

    async def subscribe(
        self, oid: int, room_id: str, sink: RoomSink, track_ids: Sequence[str]
    ) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.subscribe(room.id, oid, track_ids)

    async def unsubscribe(
        self, oid: int, room_id: str, sink: RoomSink, track_ids: Sequence[str]
    ) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.unsubscribe(room.id, oid, track_ids)

    async def show(
        self, oid: int, room_id: str, sink: RoomSink, track_ids: Sequence[str] | None
    ) -> None:
        room, _ = self._rooms.find(oid, room_id, sink)
        await self._media.show(room.id, oid, track_ids)
