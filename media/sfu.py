"""The SFU: rooms of peer connections whose media is forwarded, never transcoded.

Each participant has up to two server-side peer connections, as in LiveKit:

* the *publishing* connection: the client offers its camera, microphone or
  screen; the SFU answers. Each incoming track becomes a
  :class:`Publication`; its receiver is tapped (:mod:`media.aiortc_glue`) so
  complete encoded frames arrive here instead of at a decoder;
* the *subscribing* connection: the SFU offers the tracks the participant
  subscribed to; the client answers. Each subscription is a
  :class:`~media.forward.ForwardTrack` read by an aiortc sender, which
  packetizes the publisher's encoded frames under its own SSRC and answers
  the subscriber's NACKs from its own history.

Per frame the work is: one reassembly per publisher, then per subscriber a
reference to the same ``av.Packet``, a packetization and SRTP. Nothing is
decoded or encoded. Keyframes are requested from the publisher when a
subscriber starts, resumes a hidden tile or reports picture loss, coalesced
by :class:`~media.keyframes.KeyframeRequester`.

The SFU implements :class:`server.rooms.media.RoomMedia`; the room service
has already checked who may do what before it calls in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from server.config import MediaConfig
from server.errors import ZvonokError
from server.rooms.media import (
    IceCandidate,
    MediaEvents,
    PeerRole,
    Source,
    TrackInfo,
    TrackSpec,
)

from . import aiortc_glue as glue
from .forward import ForwardTrack, is_vp8_keyframe
from .keyframes import KeyframeRequester
from .speaker import SpeakerDetector

if TYPE_CHECKING:
    from .aiortc_glue import EncodedFrame

log = logging.getLogger(__name__)

KIND_OF: dict[Source, Literal["audio", "video"]] = {
    "microphone": "audio",
    "camera": "video",
    "screen": "video",
}
MAX_SUBSCRIBER_TRANSCEIVERS = 256  # m-lines one subscribing connection may grow to


class MediaError(ZvonokError):
    """A media request the SFU cannot carry out."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, http_status=422)


@dataclass(eq=False)
class Publication:
    """One published track: frames in from the publisher, out to every subscriber."""

    info: TrackInfo
    receiver: RTCRtpReceiver
    keyframe_interval: float
    muted: bool = False
    ssrc: int | None = None
    frames: int = 0
    forwards: set[ForwardTrack] = field(default_factory=set)
    keyframes: KeyframeRequester = field(init=False)
    tap: glue.FrameTap | None = None

    def __post_init__(self) -> None:
        self.keyframes = KeyframeRequester(self._send_pli, self.keyframe_interval)

    async def _send_pli(self) -> None:
        if self.ssrc is not None:
            await glue.request_keyframe(self.receiver, self.ssrc)

    def want_keyframe(self) -> None:
        if self.info.kind == "video" and not self.muted:
            self.keyframes.request()

    def on_frame(self, codec: RTCRtpCodecParameters, frame: EncodedFrame) -> None:
        if self.muted or not self.forwards:
            return
        self.frames += 1
        if self.info.kind == "video":
            keyframe = is_vp8_keyframe(frame.data)
            packet = glue.encoded_packet(frame.data, frame.timestamp, glue.VIDEO_TIME_BASE)
        else:
            keyframe = True
            packet = glue.encoded_packet(frame.data, frame.timestamp, glue.AUDIO_TIME_BASE)
        for forward in self.forwards:
            forward.push(packet, keyframe)

    def close(self) -> None:
        self.keyframes.close()
        for forward in self.forwards:
            forward.stop()
        self.forwards.clear()


@dataclass(eq=False)
class Subscription:
    publication: Publication
    track: ForwardTrack
    transceiver: RTCRtpTransceiver


@dataclass(eq=False)
class Peer:
    """One participant's media: their connections, publications and subscriptions."""

    participant: int
    pub: RTCPeerConnection | None = None
    sub: RTCPeerConnection | None = None
    publications: dict[Source, Publication] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    visible: set[str] | None = None  # video tiles shown; None: all
    muted: set[Source] = field(default_factory=set)  # sources the server does not forward
    renegotiate: bool = False  # the subscriber's tracks changed while an offer was out


class MediaRoom:
    """The media side of one lesson or meeting."""

    def __init__(self, room_id: str, events: MediaEvents, config: MediaConfig) -> None:
        self.id = room_id
        self.events = events
        self.config = config
        self.peers: dict[int, Peer] = {}
        self.publications: dict[str, Publication] = {}
        self.detector = SpeakerDetector()
        self._speaking: list[int] = []
        self._speaker_task = asyncio.get_running_loop().create_task(self._watch_speakers())

    def peer(self, participant: int) -> Peer:
        peer = self.peers.get(participant)
        if peer is None:
            peer = self.peers[participant] = Peer(participant)
        return peer

    async def _watch_speakers(self) -> None:
        while True:
            await asyncio.sleep(self.config.speaker_interval)
            speaking = self.detector.tick()
            if speaking != self._speaking:
                self._speaking = speaking
                self.events.speakers(self.id, speaking)

    async def close(self) -> None:
        self._speaker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._speaker_task


class Sfu:
    """Implements :class:`server.rooms.media.RoomMedia` on aiortc."""

    def __init__(self, config: MediaConfig) -> None:
        self._config = config
        self._rooms: dict[str, MediaRoom] = {}
        self._ids = itertools.count(1)
        if config.ice_addresses:
            glue.use_host_addresses(config.ice_addresses)

    # -- rooms -------------------------------------------------------------------

    async def open_room(self, room_id: str, events: MediaEvents) -> None:
        if room_id not in self._rooms:
            self._rooms[room_id] = MediaRoom(room_id, events, self._config)

    async def close_room(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        if room is None:
            return
        await asyncio.gather(*(self._drop_peer(room, p) for p in list(room.peers)))
        await room.close()

    async def close(self) -> None:
        """Close every room (the server is stopping)."""
        await asyncio.gather(*(self.close_room(r) for r in list(self._rooms)))

    def tracks(self, room_id: str) -> list[TrackInfo]:
        room = self._rooms.get(room_id)
        return [] if room is None else [p.info for p in room.publications.values()]

    def stats(self, room_id: str) -> dict[str, dict[str, int]]:
        """Frames in per publication, and forwarded/dropped per subscription (for tests)."""
        room = self._room(room_id)
        out: dict[str, dict[str, int]] = {}
        for track_id, pub in room.publications.items():
            out[track_id] = {
                "frames": pub.frames,
                "keyframe_asks": pub.keyframes.asked,
                "keyframe_requests": pub.keyframes.sent,
            }
        for peer in room.peers.values():
            for track_id, sub in peer.subscriptions.items():
                out[f"{peer.participant}<-{track_id}"] = {
                    "forwarded": sub.track.forwarded,
                    "dropped": sub.track.dropped,
                    "keyframes": sub.track.keyframes,
                }
        return out

    def _room(self, room_id: str) -> MediaRoom:
        room = self._rooms.get(room_id)
        if room is None:
            raise MediaError("media.no_room", "this room has no media session")
        return room

    # -- publishing ----------------------------------------------------------------

    async def publish(
        self, room_id: str, participant: int, sdp: str, tracks: Sequence[TrackSpec]
    ) -> str:
        room = self._room(room_id)
        specs = _check_offer(sdp, tracks)
        peer = room.peer(participant)
        if peer.pub is None:
            peer.pub = self._connection(room, peer)
        pc = peer.pub

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track and transceiver.mid in specs:
                    self._add_publication(room, peer, specs[transceiver.mid], transceiver)

        try:
            await pc.setRemoteDescription(
                RTCSessionDescription(sdp=glue.forwardable_offer(sdp), type="offer")
            )
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, TypeError, KeyError) as exc:
            raise MediaError("media.bad_sdp", f"the offer cannot be used: {exc}") from exc
        except Exception as exc:  # aiortc raises its own InvalidStateError/OperationError
            if type(exc).__module__.startswith("aiortc"):
                raise MediaError("media.bad_sdp", f"the offer cannot be used: {exc}") from exc
            raise
        finally:
            pc.remove_listener("track", on_track)
        return pc.localDescription.sdp

    def _add_publication(
        self, room: MediaRoom, peer: Peer, spec: TrackSpec, transceiver: RTCRtpTransceiver
    ) -> None:
        old = peer.publications.get(spec.source)
        if old is not None:
            self._end_publication(room, peer, old)
        info = TrackInfo(
            track_id=f"{peer.participant}.{spec.source}.{next(self._ids)}",
            owner=peer.participant,
            source=spec.source,
            kind=KIND_OF[spec.source],
        )
        publication = Publication(
            info=info,
            receiver=transceiver.receiver,
            keyframe_interval=self._config.keyframe_interval,
            muted=spec.source in peer.muted,
        )

        def on_packet(packet: RtpPacket) -> None:
            publication.ssrc = packet.ssrc
            level = packet.extensions.audio_level
            if level is not None and not publication.muted:
                room.detector.add(peer.participant, level[1])

        publication.tap = glue.tap_receiver(transceiver.receiver, publication.on_frame, on_packet)
        peer.publications[spec.source] = publication
        room.publications[info.track_id] = publication
        room.events.track_added(room.id, info)

    async def unpublish(self, room_id: str, participant: int, source: Source) -> None:
        room = self._room(room_id)
        peer = room.peers.get(participant)
        if peer is None or source not in peer.publications:
            return
        self._end_publication(room, peer, peer.publications[source])
        await self._renegotiate_all(room)

    def _end_publication(self, room: MediaRoom, peer: Peer, publication: Publication) -> None:
        info = publication.info
        peer.publications.pop(info.source, None)
        room.publications.pop(info.track_id, None)
        for other in room.peers.values():
            subscription = other.subscriptions.pop(info.track_id, None)
            if subscription is not None:
                subscription.transceiver.direction = "inactive"
                other.renegotiate = True
        publication.close()
        if info.kind == "audio":
            room.detector.forget(peer.participant)
        room.events.track_removed(room.id, info)

    async def set_muted(self, room_id: str, participant: int, source: Source, muted: bool) -> None:
        room = self._room(room_id)
        peer = room.peer(participant)
        if muted:
            peer.muted.add(source)
        else:
            peer.muted.discard(source)
        publication = peer.publications.get(source)
        if publication is None or publication.muted == muted:
            return
        publication.muted = muted
        if publication.info.kind == "audio" and muted:
            room.detector.forget(participant)
        for forward in publication.forwards:
            # A video subscriber resumes from a keyframe (ForwardTrack.pause asks for one).
            forward.pause(muted)

    # -- subscribing ---------------------------------------------------------------

    async def subscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        room = self._room(room_id)
        peer = room.peer(participant)
        wanted: list[Publication] = []
        for track_id in track_ids:
            publication = room.publications.get(track_id)
            if publication is None:
                raise MediaError("media.unknown_track", f"no track {track_id} in this room")
            if publication.info.owner == participant:
                raise MediaError("media.own_track", "a participant does not subscribe to itself")
            if track_id not in peer.subscriptions:
                wanted.append(publication)
        if not wanted:
            return
        if peer.sub is None:
            peer.sub = self._connection(room, peer)
        pc = peer.sub
        if len(pc.getTransceivers()) + len(wanted) > MAX_SUBSCRIBER_TRANSCEIVERS:
            raise MediaError("media.too_many_tracks", "resubscribe on a new connection")
        for publication in wanted:
            info = publication.info
            track = ForwardTrack(info.kind, publication.want_keyframe)
            glue.set_track_id(track, info.track_id)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(_codecs(info.kind))
            glue.on_keyframe_request(transceiver.sender, publication.want_keyframe)
            if publication.muted or (
                info.kind == "video"
                and peer.visible is not None
                and info.track_id not in peer.visible
            ):
                track.pause(True)
            publication.forwards.add(track)
            peer.subscriptions[info.track_id] = Subscription(publication, track, transceiver)
        await self._negotiate(room, peer)

    async def unsubscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        room = self._room(room_id)
        peer = room.peers.get(participant)
        if peer is None:
            return
        changed = False
        for track_id in track_ids:
            subscription = peer.subscriptions.pop(track_id, None)
            if subscription is None:
                continue
            subscription.publication.forwards.discard(subscription.track)
            # The sender keeps waiting on the track (stopping it would end the
            # sender for good); the m-line goes inactive at the next offer.
            subscription.track.pause(True)
            subscription.transceiver.direction = "inactive"
            changed = True
        if changed:
            await self._negotiate(room, peer)

    async def show(self, room_id: str, participant: int, track_ids: Sequence[str] | None) -> None:
        room = self._room(room_id)
        peer = room.peer(participant)
        peer.visible = None if track_ids is None else set(track_ids)
        for track_id, subscription in peer.subscriptions.items():
            if subscription.publication.info.kind != "video" or subscription.publication.muted:
                continue
            subscription.track.pause(peer.visible is not None and track_id not in peer.visible)

    async def answer(self, room_id: str, participant: int, sdp: str) -> None:
        room = self._room(room_id)
        peer = room.peers.get(participant)
        pc = None if peer is None else peer.sub
        if peer is None or pc is None or pc.signalingState != "have-local-offer":
            raise MediaError("media.no_offer", "there is no subscriber offer to answer")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except (ValueError, TypeError, KeyError) as exc:
            raise MediaError("media.bad_sdp", f"the answer cannot be used: {exc}") from exc
        if peer.renegotiate:
            await self._negotiate(room, peer)

    async def _negotiate(self, room: MediaRoom, peer: Peer) -> None:
        pc = peer.sub
        if pc is None:
            return
        if pc.signalingState != "stable":
            peer.renegotiate = True  # offered again once the client answers
            return
        peer.renegotiate = False
        await pc.setLocalDescription(await pc.createOffer())
        room.events.subscriber_offer(room.id, peer.participant, pc.localDescription.sdp)

    async def _renegotiate_all(self, room: MediaRoom) -> None:
        for peer in list(room.peers.values()):
            if peer.renegotiate:
                await self._negotiate(room, peer)

    # -- connections -----------------------------------------------------------------

    def _connection(self, room: MediaRoom, peer: Peer) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "failed" and room.peers.get(peer.participant) is peer:
                room.events.media_failed(room.id, peer.participant)

        return pc

    async def add_candidate(
        self, room_id: str, participant: int, pc: PeerRole, candidate: IceCandidate | None
    ) -> None:
        room = self._room(room_id)
        peer = room.peers.get(participant)
        connection = None if peer is None else (peer.pub if pc == "pub" else peer.sub)
        if connection is None:
            raise MediaError("media.no_connection", f"no {pc} connection to add a candidate to")
        if candidate is None:
            return  # aiortc needs no end-of-candidates marker
        try:
            parsed = glue.parse_candidate(candidate.candidate)
        except (ValueError, IndexError) as exc:
            raise MediaError("media.bad_candidate", str(exc)) from exc
        parsed.sdpMid = candidate.sdp_mid
        parsed.sdpMLineIndex = candidate.sdp_mline_index
        await connection.addIceCandidate(parsed)

    async def leave(self, room_id: str, participant: int) -> None:
        room = self._rooms.get(room_id)
        if room is not None:
            await self._drop_peer(room, participant)
            await self._renegotiate_all(room)

    async def _drop_peer(self, room: MediaRoom, participant: int) -> None:
        peer = room.peers.pop(participant, None)
        if peer is None:
            return
        for publication in list(peer.publications.values()):
            self._end_publication(room, peer, publication)
        for subscription in peer.subscriptions.values():
            subscription.publication.forwards.discard(subscription.track)
            subscription.track.stop()
        peer.subscriptions.clear()
        room.detector.forget(participant)
        for pc in (peer.pub, peer.sub):
            if pc is not None:
                await pc.close()


def _check_offer(sdp: str, tracks: Sequence[TrackSpec]) -> dict[str, TrackSpec]:
    """The offer's sending sections, each described by exactly one spec of the right kind."""
    try:
        offered = glue.offered_media(sdp)
    except (ValueError, IndexError, KeyError) as exc:
        raise MediaError("media.bad_sdp", "the offer does not parse") from exc
    specs = {spec.mid: spec for spec in tracks}
    if len(specs) != len(tracks) or len({s.source for s in tracks}) != len(tracks):
        raise MediaError("media.bad_tracks", "each mid and each source at most once")
    sending = {m.mid: m for m in offered if m.direction in ("sendonly", "sendrecv")}
    if set(sending) != set(specs):
        raise MediaError("media.bad_tracks", "describe every sending section of the offer by mid")
    for mid, media in sending.items():
        spec = specs[mid]
        if KIND_OF[spec.source] != media.kind:
            raise MediaError("media.bad_tracks", f"mid {mid} is {media.kind}, not {spec.source}")
        wanted = glue.FORWARDED_CODECS[media.kind][0]
        if wanted not in media.codecs:
            raise MediaError("media.codec", f"mid {mid} must offer {wanted}")
    return specs


def _codecs(kind: str) -> list[RTCRtpCodecCapability]:
    allowed = glue.FORWARDED_CODECS[kind]
    capabilities = RTCRtpSender.getCapabilities(kind)
    return [c for c in capabilities.codecs if c.mimeType in allowed]
