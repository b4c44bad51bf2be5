"""The SFU: rooms of peer connections whose media is forwarded, never transcoded.

Each participant has up to two server-side peer connections, as in LiveKit:

* the *publishing* connection: the client offers its camera, microphone or
  screen; the SFU answers. Each incoming track becomes a
  :class:`Publication`; its receiver is tapped (:mod:`media.aiortc_glue`) so
  complete encoded frames arrive here instead of at a decoder;
* the *subscribing* connection: the SFU offers the tracks the participant
  subscribed to; the client answers. Each subscription is a
  :class:`~media.forward.ForwardTrack` read by an aiortc sender, which
  sends the publisher's frames, cut into RTP payloads once, under its own
  SSRC and answers the subscriber's NACKs from its own history.

Per frame the work is: one reassembly and one packetization per publisher,
then per subscriber a reference to the same payloads, its RTP headers and
SRTP. Nothing is
decoded or encoded. Keyframes are requested from the publisher when a
subscriber starts, resumes a hidden tile or reports picture loss, coalesced
by :class:`~media.keyframes.KeyframeRequester`. Each publisher is told by
REMB what it may send: the sum of :data:`PUBLISH_BITRATE` over its sources,
under its browser's own loss-based control (docs/architecture.md, "Media").

The SFU implements :class:`server.rooms.media.RoomMedia`; the room service
has already checked who may do what before it calls in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Iterator, Sequence
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
from aiortc.exceptions import InvalidAccessError, InvalidStateError, OperationError
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from server.config import MediaConfig
from server.rooms.media import (
    IceCandidate,
    MediaEvents,
    PeerRole,
    Source,
    TrackInfo,
    TrackSpec,
)

from . import aiortc_glue as glue
from . import sdp_check
from .errors import (
    MEDIA_BAD_TRACKS,
    MEDIA_CODEC,
    MEDIA_NO_CONNECTION,
    MEDIA_NO_OFFER,
    MEDIA_NO_ROOM,
    MEDIA_OWN_TRACK,
    MEDIA_TOO_MANY_TRACKS,
    MEDIA_UNKNOWN_TRACK,
    MediaError,
    bad_candidate,
    bad_sdp,
)
from .forward import ForwardTrack, Sent, is_vp8_keyframe
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

# What one publishing connection may send, per source it publishes: the sum
# is stated to the publisher's browser as its REMB, the cap its congestion
# control works under (docs/architecture.md, "Media"). A camera up to 720p
# and a screen up to 1080p at a lesson's rates fit; every subscriber of the
# publisher receives up to the sum.
PUBLISH_BITRATE: dict[Source, int] = {
    "microphone": 64_000,
    "camera": 1_500_000,
    "screen": 2_500_000,
}
REMB_INTERVAL = 1.0  # seconds; browsers keep the last REMB, this restates it

__all__ = ["MediaError", "MediaRoom", "Publication", "Sfu"]


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
    picture_ids: glue.PictureIds = field(
        default_factory=lambda: glue.PictureIds(secrets.randbelow(1 << 15))
    )
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
        keyframe = self.info.kind != "video" or is_vp8_keyframe(frame.data)
        # Cut into RTP payloads once; each subscriber's sender adds its headers.
        packed = glue.packetize(self.info.kind, frame.data, frame.timestamp, self.picture_ids)
        for forward in self.forwards:
            forward.push(packed, keyframe)

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
    pub_layout: sdp_check.Sections = ()  # (kind, mid) of the publishing offer taken last
    # One negotiation at a time on each connection: aiortc's offer/answer
    # steps await, and a second one started meanwhile sees a state the first
    # is about to change.
    publishing: asyncio.Lock = field(default_factory=asyncio.Lock)
    negotiating: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send_remb(self) -> None:
        """Tell the publisher's browser what it may send: the sum of its sources' caps."""
        receiving = [p for p in self.publications.values() if p.ssrc is not None]
        video = [p for p in receiving if p.info.kind == "video"]
        if not video:  # audio alone needs no cap, and aiortc never sent one for it
            return
        bitrate = sum(PUBLISH_BITRATE[source] for source in self.publications)
        ssrcs = [p.ssrc for p in receiving if p.ssrc is not None]
        await glue.send_remb(video[0].receiver, bitrate, ssrcs)


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
        loop = asyncio.get_running_loop()
        self._speaker_task = loop.create_task(self._watch_speakers())
        self._remb_task = loop.create_task(self._send_rembs())

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

    async def _send_rembs(self) -> None:
        while True:
            await asyncio.sleep(REMB_INTERVAL)
            for peer in list(self.peers.values()):
                await peer.send_remb()

    async def close(self) -> None:
        for task in (self._speaker_task, self._remb_task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Sfu:
    """Implements :class:`server.rooms.media.RoomMedia` on aiortc."""

    def __init__(self, config: MediaConfig) -> None:
        self._config = config
        self._rooms: dict[str, MediaRoom] = {}
        self._ids = itertools.count(1)
        self._closing: set[asyncio.Task[None]] = set()
        self.packets_in = 0  # RTP packets from publishers (not RTX), for /metrics
        self.bytes_in = 0  # their payload bytes
        self.sent = Sent()  # frames and payload bytes handed to subscribers' senders
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
        """Close every room (the server is stopping), and wait for every
        connection still closing, whoever asked for it."""
        await asyncio.gather(*(self.close_room(r) for r in list(self._rooms)))
        await asyncio.gather(*self._closing, return_exceptions=True)

    async def _close_connection(self, pc: RTCPeerConnection) -> None:
        """Close ``pc`` to the end even if the caller is cancelled.

        aiortc stops a connection's receivers one after another, each with an
        await; cancelled half-way, the rest keep their decoder threads, which
        are not daemons and would keep the process from exiting. So the close
        runs as a task of its own, which :meth:`close` waits for.
        """
        task = asyncio.get_running_loop().create_task(pc.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        await asyncio.shield(task)

    def track_count(self) -> int:
        """Tracks published in every room (for /metrics)."""
        return sum(len(room.publications) for room in self._rooms.values())

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
            raise MediaError(MEDIA_NO_ROOM, "this room has no media session")
        return room

    # -- publishing ----------------------------------------------------------------

    async def publish(
        self, room_id: str, participant: int, sdp: str, tracks: Sequence[TrackSpec]
    ) -> str:
        room = self._room(room_id)
        peer = room.peer(participant)
        async with peer.publishing:
            if room.peers.get(participant) is not peer:
                raise MediaError(MEDIA_NO_CONNECTION, "the participant's media ended meanwhile")
            offer = sdp_check.check_offer(sdp, peer.pub_layout)
            specs = _check_tracks(offer.sections, tracks)
            created = peer.pub is None
            pc = peer.pub = peer.pub or self._connection(room, peer)
            added: list[Publication] = []

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                for transceiver in pc.getTransceivers():
                    if transceiver.receiver.track is track and transceiver.mid in specs:
                        added.append(
                            self._add_publication(room, peer, specs[transceiver.mid], transceiver)
                        )

            try:
                with _refusals("offer", pc):
                    await pc.setRemoteDescription(
                        RTCSessionDescription(sdp=offer.sdp, type="offer")
                    )
                    await pc.setLocalDescription(await pc.createAnswer())
            except MediaError:
                for publication in added:
                    if room.publications.get(publication.info.track_id) is publication:
                        self._end_publication(room, peer, publication)
                if created and peer.pub is pc:  # a connection that never worked is not kept
                    peer.pub = None
                    await self._close_connection(pc)
                raise
            finally:
                pc.remove_listener("track", on_track)
            peer.pub_layout = offer.layout
            return pc.localDescription.sdp

    def _add_publication(
        self, room: MediaRoom, peer: Peer, spec: TrackSpec, transceiver: RTCRtpTransceiver
    ) -> Publication:
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
            self.packets_in += 1
            self.bytes_in += len(packet.payload)
            level = packet.extensions.audio_level
            if level is not None and not publication.muted:
                room.detector.add(peer.participant, level[1])

        publication.tap = glue.tap_receiver(transceiver.receiver, publication.on_frame, on_packet)
        glue.stop_receive_estimate(transceiver.receiver)  # the room's REMB speaks instead
        peer.publications[spec.source] = publication
        room.publications[info.track_id] = publication
        room.events.track_added(room.id, info)
        return publication

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
        async with peer.negotiating:
            if room.peers.get(participant) is not peer:
                raise MediaError(MEDIA_NO_CONNECTION, "the participant's media ended meanwhile")
            wanted: dict[str, Publication] = {}
            for track_id in track_ids:
                publication = room.publications.get(track_id)
                if publication is None:
                    raise MediaError(MEDIA_UNKNOWN_TRACK, f"no track {track_id} in this room")
                if publication.info.owner == participant:
                    raise MediaError(MEDIA_OWN_TRACK, "a participant does not subscribe to itself")
                if track_id not in peer.subscriptions:
                    wanted[track_id] = publication
            if not wanted:
                return
            if peer.sub is None:
                peer.sub = self._connection(room, peer)
            pc = peer.sub
            if len(pc.getTransceivers()) + len(wanted) > MAX_SUBSCRIBER_TRANSCEIVERS:
                raise MediaError(MEDIA_TOO_MANY_TRACKS, "resubscribe on a new connection")
            for publication in wanted.values():
                info = publication.info
                track = ForwardTrack(info.kind, publication.want_keyframe, self.sent)
                glue.set_track_id(track, info.track_id)
                transceiver = pc.addTransceiver(track, direction="sendonly")
                transceiver.setCodecPreferences(_codecs(info.kind))
                glue.on_keyframe_request(transceiver.sender, publication.want_keyframe)
                glue.run_packed(transceiver.sender)
                if publication.muted or (
                    info.kind == "video"
                    and peer.visible is not None
                    and info.track_id not in peer.visible
                ):
                    track.pause(True)
                publication.forwards.add(track)
                peer.subscriptions[info.track_id] = Subscription(publication, track, transceiver)
            await self._offer(room, peer)

    async def unsubscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        room = self._room(room_id)
        peer = room.peers.get(participant)
        if peer is None:
            return
        async with peer.negotiating:
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
            if changed and room.peers.get(participant) is peer:
                await self._offer(room, peer)

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
        if peer is None:
            raise MediaError(MEDIA_NO_OFFER, "there is no subscriber offer to answer")
        async with peer.negotiating:
            pc = peer.sub
            if (
                pc is None
                or room.peers.get(participant) is not peer
                or pc.signalingState != "have-local-offer"
            ):
                raise MediaError(MEDIA_NO_OFFER, "there is no subscriber offer to answer")
            answer = sdp_check.check_answer(sdp, pc.localDescription.sdp, PREFERRED)
            with _refusals("answer", pc):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            if peer.renegotiate:
                await self._offer(room, peer)

    async def _negotiate(self, room: MediaRoom, peer: Peer) -> None:
        async with peer.negotiating:
            if room.peers.get(peer.participant) is peer:
                await self._offer(room, peer)

    async def _offer(self, room: MediaRoom, peer: Peer) -> None:
        """Offer the subscribing connection again, or note that it must be (lock held)."""
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
        if connection is None or connection.connectionState == "closed":
            raise MediaError(MEDIA_NO_CONNECTION, f"no {pc} connection to add a candidate to")
        if candidate is None:
            return  # aiortc needs no end-of-candidates marker
        parsed = sdp_check.check_candidate(candidate.candidate)
        mids = [t.mid for t in connection.getTransceivers()]
        if candidate.sdp_mid is not None:  # it names the section; the index is not needed
            if candidate.sdp_mid not in mids:
                raise bad_candidate(f"the {pc} connection has no section {candidate.sdp_mid!r}")
            parsed.sdpMid = candidate.sdp_mid
        elif candidate.sdp_mline_index is not None and candidate.sdp_mline_index < len(mids):
            parsed.sdpMLineIndex = candidate.sdp_mline_index
        else:  # the codec refuses a candidate that names no section
            raise bad_candidate(f"the {pc} connection has no section {candidate.sdp_mline_index}")
        if sdp_check.is_mdns(parsed):
            return  # never resolved: see sdp_check.is_mdns
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
                await self._close_connection(pc)


def _check_tracks(
    sections: Sequence[sdp_check.Section], tracks: Sequence[TrackSpec]
) -> dict[str, TrackSpec]:
    """The offer's sending sections, each described by exactly one spec of the right kind."""
    specs = {spec.mid: spec for spec in tracks}
    if len(specs) != len(tracks) or len({s.source for s in tracks}) != len(tracks):
        raise MediaError(MEDIA_BAD_TRACKS, "each mid and each source at most once")
    sending = {m.mid: m for m in sections if m.direction in ("sendonly", "sendrecv")}
    if set(sending) != set(specs):
        raise MediaError(MEDIA_BAD_TRACKS, "describe every sending section of the offer by mid")
    for mid, media in sending.items():
        spec = specs[mid]
        if KIND_OF[spec.source] != media.kind:
            raise MediaError(MEDIA_BAD_TRACKS, f"mid {mid} is {media.kind}, not {spec.source}")
        wanted = glue.FORWARDED_CODECS[media.kind][0]
        if wanted.lower() not in {codec.lower() for codec in media.codecs}:
            raise MediaError(MEDIA_CODEC, f"mid {mid} must offer {wanted}")
    return specs


@contextlib.contextmanager
def _refusals(what: str, pc: RTCPeerConnection) -> Iterator[None]:
    """aiortc's refusals of a description, as the SFU's.

    ``ValueError`` and ``OperationError`` are aiortc checking a description
    against itself and the offer (what :mod:`media.sdp_check` has not
    already refused); ``InvalidStateError`` and ``InvalidAccessError`` a
    connection in the wrong state for it, closed included. Nothing else is
    caught: anything else is a bug, reported as one.
    """
    try:
        yield
    except (InvalidStateError, InvalidAccessError) as exc:
        if pc.signalingState == "closed":
            raise MediaError(MEDIA_NO_CONNECTION, f"the {what}'s connection closed") from exc
        raise bad_sdp(f"the {what} cannot be used now: {str(exc)[:200]}") from exc
    except (ValueError, OperationError) as exc:
        raise bad_sdp(f"the {what} cannot be used: {str(exc)[:200]}") from exc


def _codecs(kind: str) -> list[RTCRtpCodecCapability]:
    allowed = glue.FORWARDED_CODECS[kind]
    capabilities = RTCRtpSender.getCapabilities(kind)
    return [c for c in capabilities.codecs if c.mimeType in allowed]


# What a subscribing connection's transceivers prefer (setCodecPreferences).
PREFERRED: dict[str, list[RTCRtpCodecCapability]] = {k: _codecs(k) for k in ("audio", "video")}
