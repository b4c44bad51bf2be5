"""Everything the SFU needs from aiortc that aiortc does not offer publicly.

aiortc is a complete WebRTC endpoint: its receiver reassembles each encoded
frame in a jitter buffer and hands it to a decoder thread, and its sender
encodes frames, or packetizes pre-encoded ``av.Packet`` objects through the
codec's ``pack()``. An SFU wants the middle of that: the encoded frames, with
no decoding. The hooks below get there; each one names the private aiortc
attribute it relies on, and ``tests/media/test_aiortc_glue.py`` exercises
every one of them so that an aiortc upgrade that moves them fails loudly
there, not quietly in a lesson.

* :func:`tap_receiver` swaps the receiver's decoder queue for a
  :class:`FrameTap`: complete encoded frames go to a callback on the event
  loop; the decoder thread aiortc starts anyway waits idle until the receiver
  stops. It also observes each RTP packet of the stream itself (its SSRC
  and audio level), not the retransmissions and padding sent on RTX.
* :func:`request_keyframe` sends a PLI to the publisher through the receiver.
* :func:`stop_receive_estimate` turns off the receiver's bandwidth estimator,
  whose REMB a browser takes as the limit of its whole connection, and
  :func:`send_remb` sends the SFU's own REMB instead (docs/architecture.md,
  "Media").
* :func:`on_keyframe_request` routes a subscriber's PLI or FIR, which aiortc's
  sender would turn into "encode a keyframe next" (meaningless for forwarded
  data), to a callback instead. NACKs are left to aiortc's sender: it keeps
  the packets it sent and retransmits them (over RTX when negotiated).
* :class:`Packed` is a frame already cut into RTP payloads: the SFU
  packetizes each published frame once (:func:`packetize`), and every
  subscriber's sender only writes its own headers around the shared
  payloads, instead of each re-packetizing the frame through the codec's
  ``pack()``.
* :func:`run_packed` gives such a sender a send loop of Zvonok's own: per
  frame, one clock reading and the header extensions encoded once (by
  aiortc's own map); per packet, a 12-byte header packed and joined to
  them and to the shared payload. It keeps what aiortc's loop keeps for
  the rest of the sender: the history its NACK answers (and RTX) read, and
  the counts and times its sender reports give. Its clock is
  :func:`ntp_now`: ``time.time_ns()`` and integer arithmetic, in place of
  aiortc's two ``datetime`` conversions per packet.
* :func:`use_host_addresses` chooses the addresses ICE gathers host
  candidates on (aioice has no such option, and it never offers loopback).
* :func:`parse_description`, :func:`common_codecs` and
  :func:`parse_candidate` are aiortc's own SDP parser and codec matching,
  which :mod:`media.sdp_check` runs before aiortc sees a description, so that
  what aiortc would refuse half-way through applying it is refused first.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

import aioice.ice
import aiortc
import aiortc.rtcpeerconnection as aiortc_pc
import av
from aiortc import MediaStreamTrack, RTCIceCandidate, RTCRtpReceiver, RTCRtpSender
from aiortc import sdp as aiortc_sdp
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTP_HISTORY_SIZE,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
)
from aiortc.utils import random16, random32

if TYPE_CHECKING:
    from av.stream import Stream

    Packet = av.Packet[Stream]

log = logging.getLogger(__name__)

TESTED_AIORTC = "1.16"  # the minor version these hooks were written and tested against

VIDEO_TIME_BASE = Fraction(1, 90_000)
AUDIO_TIME_BASE = Fraction(1, 48_000)


class EncodedFrame(Protocol):
    """aiortc's ``JitterFrame``: one complete encoded frame."""

    data: bytes
    timestamp: int


FrameCallback = Callable[[RTCRtpCodecParameters, EncodedFrame], None]
PacketCallback = Callable[[RtpPacket], None]


class GlueError(RuntimeError):
    """aiortc no longer looks the way these hooks expect (an upgrade moved something)."""


class FrameTap:
    """Stands in for a receiver's decoder queue (a ``queue.Queue``).

    The receiver calls :meth:`put` on the event loop with ``(codec, frame)``
    for each complete frame, and ``None`` when it stops. Its decoder thread
    calls :meth:`get`, which blocks until that ``None``, so the thread ends
    with the receiver and decodes nothing.
    """

    def __init__(self, on_frame: FrameCallback) -> None:
        self._on_frame = on_frame
        self._stopped = threading.Event()

    def put(self, item: tuple[RTCRtpCodecParameters, EncodedFrame] | None) -> None:
        if item is None:
            self._stopped.set()
            return
        codec, frame = item
        self._on_frame(codec, frame)

    def get(self) -> None:
        self._stopped.wait()
        return None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()


def _private(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name)
    except AttributeError:
        raise GlueError(
            f"aiortc {aiortc.__version__} has no {type(obj).__name__}.{name}; "
            f"media/aiortc_glue.py was written for aiortc {TESTED_AIORTC}"
        ) from None


def tap_receiver(
    receiver: RTCRtpReceiver, on_frame: FrameCallback, on_packet: PacketCallback | None = None
) -> FrameTap:
    """Send the receiver's complete encoded frames to ``on_frame``, never to a decoder.

    ``on_packet`` sees the stream's own packets, not RTX (retransmissions
    and bandwidth-probe padding come from another SSRC, which a PLI or REMB
    must not name). Must be called before the receiver starts (in the peer
    connection's ``track`` event, which aiortc emits before it connects).
    """
    if _private(receiver, "_RTCRtpReceiver__decoder_thread") is not None:
        raise GlueError("tap_receiver() after the receiver started: its decoder already runs")
    _private(receiver, "_RTCRtpReceiver__decoder_queue")
    tap = FrameTap(on_frame)
    receiver._RTCRtpReceiver__decoder_queue = tap  # type: ignore[attr-defined]
    if on_packet is not None:
        handle: Callable[..., Awaitable[None]] = _private(receiver, "_handle_rtp_packet")
        # Filled in place when the receiver starts: payload type -> codec.
        codecs: dict[int, RTCRtpCodecParameters] = _private(receiver, "_RTCRtpReceiver__codecs")

        async def observe(packet: RtpPacket, arrival_time_ms: int) -> None:
            codec = codecs.get(packet.payload_type)
            if codec is not None and codec.mimeType.lower() != "video/rtx":
                on_packet(packet)
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = observe  # type: ignore[method-assign]
    return tap


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a Picture Loss Indication for ``media_ssrc`` to the publisher."""
    send_pli: Callable[[int], Awaitable[None]] = _private(receiver, "_send_rtcp_pli")
    await send_pli(media_ssrc)


def stop_receive_estimate(receiver: RTCRtpReceiver) -> None:
    """Stop the receiver's bandwidth estimator, and with it the REMB it sends.

    aiortc gives each video receiver its own estimator over abs-send-time,
    and each one sends REMB naming only its own stream; a browser applies
    every REMB to its whole connection, so the smallest stream's estimate
    (about 1.5 times what that stream sends) caps every track. aiortc sends
    it whether or not ``goog-remb`` was negotiated. The estimator also costs
    Python time on every packet. Must be called before packets arrive.
    """
    _private(receiver, "_RTCRtpReceiver__remote_bitrate_estimator")
    receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]


async def send_remb(receiver: RTCRtpReceiver, bitrate: int, ssrcs: Iterable[int]) -> None:
    """Send a Receiver Estimated Maximum Bitrate (``bitrate`` bit/s) for ``ssrcs``.

    A REMB is about the whole transport, so one receiver of a bundled
    connection speaks for all its streams. Like aiortc's own RTCP, nothing is
    sent before the connection has an RTCP SSRC or while it is not connected.
    """
    rtcp_ssrc: int | None = _private(receiver, "_RTCRtpReceiver__rtcp_ssrc")
    send: Callable[[RtcpPsfbPacket], Awaitable[None]] = _private(receiver, "_send_rtcp")
    if rtcp_ssrc is not None:
        fci = pack_remb_fci(bitrate, list(ssrcs))
        await send(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=fci))


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the subscriber behind ``sender`` sends a PLI or FIR."""
    _private(sender, "_send_keyframe")
    sender._send_keyframe = callback  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class Packed:
    """One encoded frame cut into RTP payloads, shared by every subscriber."""

    payloads: Sequence[bytes]
    timestamp: int  # in the codec's clock (90 kHz video, 48 kHz Opus)
    size: int  # the frame's bytes, before the payload descriptors


class PictureIds:
    """A publication's VP8 picture IDs (15 bits), one per frame packetized."""

    def __init__(self, first: int) -> None:
        self.next = first % (1 << 15)

    def take(self) -> int:
        picture_id, self.next = self.next, (self.next + 1) % (1 << 15)
        return picture_id


def packetize(kind: str, data: bytes, timestamp: int, picture_ids: PictureIds) -> Packed:
    """A frame's RTP payloads as aiortc's own ``pack()`` cuts them: VP8 with
    its payload descriptor (RFC 7741; the picture ID from ``picture_ids``),
    Opus whole."""
    if kind == "video":
        _private(Vp8Encoder, "_packetize")
        payloads = Vp8Encoder._packetize(data, picture_ids.take())
    else:
        payloads = [data]
    return Packed(payloads, timestamp, len(data))


_HEADER = struct.Struct("!BBHLL")


def rtp_extension_block(extensions_map: HeaderExtensionsMap, values: HeaderExtensions) -> bytes:
    """The header extensions as ``RtpPacket.serialize`` writes them after the
    fixed header: profile, length in words, the elements (b"" for none)."""
    profile, value = extensions_map.set(values)
    if not value:
        return b""
    return struct.pack("!HH", profile, len(value) >> 2) + value


def run_packed(sender: RTCRtpSender) -> None:
    """Give ``sender`` (whose track yields :class:`Packed` frames) Zvonok's send loop.

    aiortc's loop builds an ``RtpPacket``, encodes its header extensions,
    reads the clock twice and serialises, for every packet of every
    subscriber. This one does per frame what is the same for its packets
    (the clock, the extensions) and per packet only the fixed header. Must
    be called before the sender starts (``send()`` starts ``_run_rtp``).
    """
    for name in (
        "_run_rtp",
        "_enabled",
        "_ssrc",
        "_RTCRtpSender__rtp_started",
        "_RTCRtpSender__rtp_exited",
        "_RTCRtpSender__rtp_history",
        "_RTCRtpSender__rtp_header_extensions_map",
        "_RTCRtpSender__mid",
        "_RTCRtpSender__track",
        "_RTCRtpSender__packet_count",
        "_RTCRtpSender__octet_count",
        "_RTCRtpSender__ntp_timestamp",
        "_RTCRtpSender__rtp_timestamp",
    ):
        _private(sender, name)
    sender._run_rtp = functools.partial(_packed_loop, sender)  # type: ignore[method-assign]


async def _packed_loop(sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
    state: Any = sender  # its private fields, checked by name in run_packed
    state._RTCRtpSender__rtp_started.set()
    history: dict[int, RtpPacket] = state._RTCRtpSender__rtp_history
    extensions_map: HeaderExtensionsMap = state._RTCRtpSender__rtp_header_extensions_map
    send = sender.transport._send_rtp
    payload_type, ssrc = codec.payloadType, sender._ssrc
    if payload_type is None:
        raise GlueError(f"no payload type in the negotiated codec {codec.mimeType}")
    sequence_number, origin = random16(), random32()
    sent_packets: int = state._RTCRtpSender__packet_count
    sent_octets: int = state._RTCRtpSender__octet_count
    try:
        while True:
            track = state._RTCRtpSender__track
            if track is None:
                await asyncio.sleep(0.02)
                continue
            packed: Packed = await track.recv()
            if not sender._enabled:
                continue
            timestamp = (origin + packed.timestamp) & 0xFFFFFFFF
            ntp = ntp_now()  # one reading for the frame's packets
            values = HeaderExtensions()
            values.abs_send_time = (ntp >> 14) & 0x00FFFFFF
            values.mid = state._RTCRtpSender__mid
            block = rtp_extension_block(extensions_map, values)
            first = 0x90 if block else 0x80  # version 2, the extension bit
            last = len(packed.payloads) - 1
            for i, payload in enumerate(packed.payloads):
                marker = 0x80 if i == last else 0
                header = _HEADER.pack(
                    first, marker | payload_type, sequence_number, timestamp, ssrc
                )
                packet = RtpPacket(
                    payload_type=payload_type,
                    marker=1 if marker else 0,
                    sequence_number=sequence_number,
                    timestamp=timestamp,
                    ssrc=ssrc,
                    payload=payload,
                )
                packet.extensions = values  # for a retransmission (aiortc's, over RTX)
                history[sequence_number % RTP_HISTORY_SIZE] = packet
                await send(header + block + payload)
                sent_octets += len(payload)
                sent_packets += 1
                sequence_number = (sequence_number + 1) & 0xFFFF
            # What its sender reports say: counts, and the last packet's times.
            state._RTCRtpSender__ntp_timestamp = ntp
            state._RTCRtpSender__rtp_timestamp = timestamp
            state._RTCRtpSender__octet_count = sent_octets
            state._RTCRtpSender__packet_count = sent_packets
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:  # as aiortc's loop: said, and the sender still stops cleanly
        log.exception("packed send loop of %s failed", codec.mimeType)
    finally:
        track = state._RTCRtpSender__track
        if track is not None:
            track.stop()
            state._RTCRtpSender__track = None
        state._RTCRtpSender__rtp_exited.set()


NTP_EPOCH_OFFSET_NS = 2_208_988_800 * 1_000_000_000  # 1900-01-01 to 1970-01-01


def ntp_now() -> int:
    """The NTP time (64-bit fixed point) as ``aiortc.clock.current_ntp_time()`` gives it."""
    ns = time.time_ns() + NTP_EPOCH_OFFSET_NS
    seconds, rest = divmod(ns, 1_000_000_000)
    return (seconds << 32) | (rest * 0xFFFFFFFF // 1_000_000_000)


def use_host_addresses(addresses: Iterable[str]) -> None:
    """Gather ICE host candidates on exactly these addresses (process-wide).

    aioice gathers on every interface except loopback; a server on a host
    with many interfaces, or a test on 127.0.0.1, names its own.
    """
    chosen = list(addresses)
    _private(aioice.ice, "get_host_addresses")

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


def encoded_packet(data: bytes, pts: int, time_base: Fraction) -> Packet:
    """An ``av.Packet`` that aiortc's sender packetizes with the codec's ``pack()``."""
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = time_base
    return packet


FORWARDED_CODECS = {"audio": ("audio/opus",), "video": ("video/VP8", "video/rtx")}


@dataclass(frozen=True, slots=True)
class OfferedMedia:
    """One audio or video section of an SDP offer."""

    mid: str
    kind: str
    direction: str
    codecs: tuple[str, ...]  # mime types, e.g. ("video/VP8", "video/rtx")


def offered_media(sdp: str) -> list[OfferedMedia]:
    """The audio and video sections of an offer (ValueError if it does not parse)."""
    description = aiortc_sdp.SessionDescription.parse(sdp)
    return [
        OfferedMedia(
            mid=str(m.rtp.muxId),
            kind=m.kind,
            direction=str(m.direction),
            codecs=tuple(c.mimeType for c in m.rtp.codecs),
        )
        for m in description.media
        if m.kind in ("audio", "video")
    ]


def forwardable_offer(sdp: str) -> str:
    """The offer with only the codecs the SFU forwards (VP8, its RTX, Opus).

    aiortc answers with the offerer's first common codec; a browser that
    lists H.264 first would otherwise publish a codec other subscribers may
    not have been offered. Removing the rest from the offer makes the answer
    choose VP8 and Opus.
    """
    description = aiortc_sdp.SessionDescription.parse(sdp)
    keep_forwarded_codecs(description)
    return str(description)


def keep_forwarded_codecs(description: SessionDescription) -> None:
    """:func:`forwardable_offer` on a parsed description (changed in place)."""
    for media in description.media:
        allowed = FORWARDED_CODECS.get(media.kind)
        if allowed is None:
            continue
        keep = [c for c in media.rtp.codecs if c.mimeType in allowed and c.mimeType != "video/rtx"]
        kept_types = {c.payloadType for c in keep}
        keep += [
            c
            for c in media.rtp.codecs
            if c.mimeType == "video/rtx" and c.parameters.get("apt") in kept_types
        ]
        media.rtp.codecs = keep
        media.fmt = [c.payloadType for c in keep]


def set_track_id(track: MediaStreamTrack, track_id: str) -> None:
    """Name a local track: its id goes into the SDP's ``msid`` for the subscriber to read."""
    _private(track, "_id")
    track._id = track_id


SessionDescription = aiortc_sdp.SessionDescription
MediaDescription = aiortc_sdp.MediaDescription

# What aiortc's SDP parser (a pure function of the text) raises on text it
# cannot read: ``assert`` on a malformed m-line or payload type, ``int()`` on
# a number that is not one, ``DTLS_SETUP_ROLE[value]`` on an unknown setup,
# ``value.split()`` on an attribute without a value, ``bits[1]`` on a short
# one, ``next()`` on an fmtp line for a payload type the section lacks.
PARSER_FAILURES: tuple[type[Exception], ...] = (
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    StopIteration,
    ValueError,
)


def parse_description(sdp: str) -> SessionDescription:
    """aiortc's reading of an SDP text (raises one of :data:`PARSER_FAILURES`)."""
    return aiortc_sdp.SessionDescription.parse(sdp)


def common_codecs(
    kind: str,
    offered: list[RTCRtpCodecParameters],
    preferred: list[RTCRtpCodecCapability] | None = None,
) -> list[RTCRtpCodecParameters]:
    """The codecs aiortc negotiates for a section offering ``offered``.

    Empty means aiortc refuses the section with ``OperationError``, after it
    has already changed the connection for the sections before it.
    ``preferred`` is what ``setCodecPreferences`` was given, if anything.
    """
    local: list[RTCRtpCodecParameters] = _private(aiortc_pc, "CODECS")[kind]
    common = aiortc_pc.find_common_codecs(local, offered)
    return aiortc_pc.filter_preferred_codecs(common, preferred or [])


def parse_candidate(line: str) -> RTCIceCandidate:
    """A browser's ``candidate:...`` string as aiortc's candidate.

    aiortc asserts and calls ``int()`` without checking; the caller
    (:func:`media.sdp_check.check_candidate`) has checked every field first.
    """
    return aiortc_sdp.candidate_from_sdp(line.removeprefix("a=").removeprefix("candidate:"))
