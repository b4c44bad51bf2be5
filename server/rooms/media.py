"""What a room needs from the media server (the SFU in ``media/``).

The room service decides who is in a room and what they may do; the SFU
moves their audio and video. This protocol is the seam between the two:
the room service calls it only after its own checks (membership, host
controls), and the SFU reports back through :class:`MediaEvents`.

Participants are people: one person is one participant per room, keyed by
their ESIA oid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from signaling.fields import PeerRole, Source
from signaling.rooms import Track

__all__ = ["SOURCES", "PeerRole", "Source"]

SOURCES: tuple[Source, ...] = ("camera", "microphone", "screen")


@dataclass(frozen=True, slots=True)
class TrackSpec:
    """A track a client offers to publish: its SDP media section and what it carries."""

    mid: str
    source: Source


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """A published track as subscribers see it."""

    track_id: str
    owner: int
    source: Source
    kind: Literal["audio", "video"]

    def to_json(self) -> Track:
        return {"id": self.track_id, "owner": self.owner, "source": self.source, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class IceCandidate:
    """A trickled ICE candidate, as the browser's RTCIceCandidate gives it."""

    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


class MediaEvents(Protocol):
    """What the SFU tells the room service (called on the event loop, never blocks)."""

    def subscriber_offer(self, room_id: str, participant: int, sdp: str) -> None:
        """Send this SDP offer for the participant's subscribing connection."""

    def track_added(self, room_id: str, track: TrackInfo) -> None: ...

    def track_removed(self, room_id: str, track: TrackInfo) -> None: ...

    def speakers(self, room_id: str, speaking: Sequence[int]) -> None:
        """The participants speaking now, loudest first (sent when the set changes)."""

    def media_failed(self, room_id: str, participant: int) -> None:
        """A participant's peer connections failed (network gone): the room starts its grace."""


class RoomMedia(Protocol):
    """The SFU as the room service drives it."""

    async def open_room(self, room_id: str, events: MediaEvents) -> None: ...

    async def close_room(self, room_id: str) -> None:
        """End every participant's media (host ended the room for all)."""

    async def publish(
        self, room_id: str, participant: int, sdp: str, tracks: Sequence[TrackSpec]
    ) -> str:
        """Take the client's offer for its publishing connection; return the answer SDP.

        Raises :class:`~server.errors.ZvonokError` (``media.bad_sdp``) for an offer it
        cannot use. Every track in the offer must be described in ``tracks`` by mid.
        """

    async def unpublish(self, room_id: str, participant: int, source: Source) -> None:
        """Stop forwarding this source (the client, or a host stopping a screen share)."""

    async def subscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        """Add tracks to the participant's subscribing connection.

        The SFU answers with :meth:`MediaEvents.subscriber_offer`.
        """

    async def unsubscribe(
        self, room_id: str, participant: int, track_ids: Sequence[str]
    ) -> None: ...

    async def answer(self, room_id: str, participant: int, sdp: str) -> None:
        """The client's answer to a subscriber offer."""

    async def add_candidate(
        self, room_id: str, participant: int, pc: PeerRole, candidate: IceCandidate | None
    ) -> None:
        """A trickled candidate; ``None`` means end of candidates."""

    async def show(self, room_id: str, participant: int, track_ids: Sequence[str] | None) -> None:
        """Video tiles the participant shows; the SFU stops sending its other video.

        ``None`` means show all.
        """

    async def set_muted(self, room_id: str, participant: int, source: Source, muted: bool) -> None:
        """Stop (or resume) forwarding a participant's source: a mute enforced by the server."""

    async def leave(self, room_id: str, participant: int) -> None:
        """Close the participant's peer connections; their tracks end."""

    def tracks(self, room_id: str) -> list[TrackInfo]: ...
