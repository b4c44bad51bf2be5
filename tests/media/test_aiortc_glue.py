"""Each hook into aiortc's internals, tested on its own.

If an aiortc upgrade moves what media/aiortc_glue.py relies on, these tests
fail, with the hook's name, before any lesson does.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTP_HISTORY_SIZE,
    RtcpPsfbPacket,
    RtpPacket,
    unpack_remb_fci,
)

from media import aiortc_glue as glue
from media.forward import is_vp8_keyframe

from .peers import PatternVideo

Frame = tuple[bytes, int]


def test_the_pinned_aiortc_is_the_one_the_hooks_were_written_for() -> None:
    assert aiortc.__version__.startswith(glue.TESTED_AIORTC + "."), (
        f"aiortc {aiortc.__version__}: re-read media/aiortc_glue.py against it, then move "
        "TESTED_AIORTC and the pin in pyproject.toml together"
    )


class Pair:
    """A publisher and a bare receiving connection whose receiver is tapped."""

    def __init__(self, estimate: bool = True) -> None:
        self.sender_pc = RTCPeerConnection()
        self.receiver_pc = RTCPeerConnection()
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.ssrcs: set[int] = set()
        self.receiver: RTCRtpReceiver | None = None
        self.tap: glue.FrameTap | None = None
        self.video = PatternVideo()

        @self.receiver_pc.on("track")
        def on_track(track: object) -> None:
            for t in self.receiver_pc.getTransceivers():
                if t.receiver.track is track:
                    self.receiver = t.receiver
                    self.tap = glue.tap_receiver(t.receiver, self._frame, self._packet)
                    if not estimate:
                        glue.stop_receive_estimate(t.receiver)

    def _frame(self, codec: RTCRtpCodecParameters, frame: glue.EncodedFrame) -> None:
        self.frames.put_nowait((frame.data, frame.timestamp))

    def _packet(self, packet: object) -> None:
        self.ssrcs.add(packet.ssrc)  # type: ignore[attr-defined]

    async def connect(self) -> None:
        transceiver = self.sender_pc.addTransceiver(self.video, direction="sendonly")
        codecs = transceiver.sender.getCapabilities("video").codecs
        transceiver.setCodecPreferences([c for c in codecs if c.name in ("VP8", "rtx")])
        await self.sender_pc.setLocalDescription(await self.sender_pc.createOffer())
        await self.receiver_pc.setRemoteDescription(self.sender_pc.localDescription)
        await self.receiver_pc.setLocalDescription(await self.receiver_pc.createAnswer())
        await self.sender_pc.setRemoteDescription(self.receiver_pc.localDescription)

    async def next_frame(self) -> Frame:
        return await asyncio.wait_for(self.frames.get(), 5)

    async def close(self) -> None:
        await self.sender_pc.close()
        await self.receiver_pc.close()


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    p = Pair()
    await p.connect()
    yield p
    await p.close()


async def test_the_tap_gets_encoded_frames_and_nothing_is_decoded(pair: Pair) -> None:
    first, _ = await pair.next_frame()
    assert is_vp8_keyframe(first)  # a stream starts with a keyframe
    for _ in range(10):
        data, _ = await pair.next_frame()
        assert data  # encoded VP8, not pictures
    assert pair.receiver is not None and pair.tap is not None
    # The receiver's track is fed by its decoder thread: with the tap, never.
    assert pair.receiver.track._queue.qsize() == 0  # type: ignore[attr-defined]
    await pair.receiver.stop()
    assert pair.tap.stopped  # the decoder thread was told to end, and did (stop() joins it)


async def test_request_keyframe_makes_the_publisher_send_one(pair: Pair) -> None:
    await pair.next_frame()
    for _ in range(40):  # past the first keyframe: aiortc's encoder sends no more unasked
        data, _ = await pair.next_frame()
        assert not is_vp8_keyframe(data)
    assert pair.receiver is not None and pair.ssrcs
    await glue.request_keyframe(pair.receiver, next(iter(pair.ssrcs)))
    for _ in range(30):  # within a second at 30 fps
        data, _ = await pair.next_frame()
        if is_vp8_keyframe(data):
            return
    pytest.fail("no keyframe after a PLI")


def rembs_at(sender: RTCRtpSender) -> list[tuple[int, list[int]]]:
    """Every REMB the publisher's sender receives from now on: (bit/s, SSRCs)."""
    seen: list[tuple[int, list[int]]] = []
    handle = sender._handle_rtcp_packet  # type: ignore[attr-defined]

    async def observe(packet: object) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            seen.append(unpack_remb_fci(packet.fci))
        await handle(packet)

    sender._handle_rtcp_packet = observe  # type: ignore[attr-defined]
    return seen


async def test_the_receivers_own_remb_stops_and_the_sfus_is_sent() -> None:
    # Two pairs side by side: aiortc's estimator sends its first REMB about
    # 3 s in (naming only its own stream); the stopped one sends none.
    estimating, stopped = Pair(), Pair(estimate=False)
    try:
        await estimating.connect()
        await stopped.connect()
        aiortcs = rembs_at(estimating.sender_pc.getTransceivers()[0].sender)
        ours = rembs_at(stopped.sender_pc.getTransceivers()[0].sender)
        await stopped.next_frame()
        assert stopped.receiver is not None and stopped.ssrcs
        ssrc = next(iter(stopped.ssrcs))
        await glue.send_remb(stopped.receiver, 4_064_000, [ssrc])
        loop = asyncio.get_running_loop()
        until = loop.time() + 4.5
        while loop.time() < until:  # both keep receiving meanwhile
            await stopped.next_frame()
            await estimating.next_frame()
        assert aiortcs and all(ssrcs == list(estimating.ssrcs) for _, ssrcs in aiortcs)
        assert ours == [(4_064_000, [ssrc])]
    finally:
        await estimating.close()
        await stopped.close()


async def test_packets_on_rtx_are_not_observed(pair: Pair) -> None:
    await pair.next_frame()
    assert pair.receiver is not None
    sdp = pair.receiver_pc.localDescription.sdp
    rtx = int(re.findall(r"a=rtpmap:(\d+) rtx/90000", sdp)[0])
    media_ssrcs = set(pair.ssrcs)
    padding = RtpPacket(payload_type=rtx, sequence_number=1, timestamp=0, ssrc=4242)
    await pair.receiver._handle_rtp_packet(padding, 0)  # type: ignore[attr-defined]
    await pair.next_frame()
    assert pair.ssrcs == media_ssrcs  # 4242 came on RTX: not the stream's SSRC


async def test_a_subscribers_picture_loss_reaches_the_callback(pair: Pair) -> None:
    requests: asyncio.Queue[None] = asyncio.Queue()
    sender = pair.sender_pc.getTransceivers()[0].sender
    glue.on_keyframe_request(sender, lambda: requests.put_nowait(None))
    await pair.next_frame()
    assert pair.receiver is not None
    await glue.request_keyframe(pair.receiver, next(iter(pair.ssrcs)))
    await asyncio.wait_for(requests.get(), 5)


async def test_tapping_a_started_receiver_is_refused(pair: Pair) -> None:
    await pair.next_frame()
    assert pair.receiver is not None
    with pytest.raises(glue.GlueError):
        glue.tap_receiver(pair.receiver, lambda c, f: None)


async def test_host_candidates_are_the_chosen_addresses() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        addresses = set(
            re.findall(r"a=candidate:\S+ \d \S+ \d+ (\S+) \d+ typ host", pc.localDescription.sdp)
        )
        assert addresses == {"127.0.0.1"}  # tests/media/conftest.py chose loopback
    finally:
        await pc.close()


async def test_offers_keep_only_the_codecs_the_sfu_forwards() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
    finally:
        await pc.close()
    before = {c for m in glue.offered_media(sdp) for c in m.codecs}
    assert {"video/H264", "audio/PCMU"} <= before
    media = glue.offered_media(glue.forwardable_offer(sdp))
    assert [set(m.codecs) for m in media] == [{"video/VP8", "video/rtx"}, {"audio/opus"}]
    assert [(m.kind, m.direction) for m in media] == [("video", "sendonly"), ("audio", "sendonly")]
    # and aiortc accepts the result
    answerer = RTCPeerConnection()
    try:
        offer = RTCSessionDescription(sdp=glue.forwardable_offer(sdp), type="offer")
        await answerer.setRemoteDescription(offer)
    finally:
        await answerer.close()


def test_browser_candidates_parse() -> None:
    line = "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx raddr 0.0.0.0 rport 0"
    candidate = glue.parse_candidate(line)
    assert (candidate.ip, candidate.port, candidate.type) == ("127.0.0.1", 54321, "srflx")
    # aiortc asserts on garbage: media.sdp_check.check_candidate reads a line first.
    with pytest.raises(AssertionError):
        glue.parse_candidate("candidate:garbage")


def test_common_codecs_are_aiortcs_choice() -> None:
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=100)
    rtx = RTCRtpCodecParameters(
        mimeType="video/rtx", clockRate=90000, payloadType=101, parameters={"apt": 100}
    )
    h264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102)
    odd_clock = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=1000, payloadType=103)
    chosen = glue.common_codecs("video", [vp8, rtx])
    assert [(c.mimeType, c.payloadType) for c in chosen] == [("video/VP8", 100), ("video/rtx", 101)]
    assert glue.common_codecs("video", [odd_clock]) == []  # aiortc would raise OperationError
    vp8_only = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.name == "VP8"]
    assert glue.common_codecs("video", [h264], vp8_only) == []


def test_the_parser_failures_are_the_ones_aiortc_raises() -> None:
    for text in ("v=0\r\nm=audio\r\n", "v=x\r\n", "v=0\r\na=setup:sideways\r\n"):
        with pytest.raises(glue.PARSER_FAILURES):
            glue.parse_description(text)


def test_a_frame_is_packetized_as_aiortcs_own_pack_would() -> None:
    from aiortc.codecs.vpx import Vp8Encoder

    frame = b"\x00" + bytes(range(256)) * 12  # a keyframe's tag, three packets' worth
    ids = glue.PictureIds(32_767)
    packed = glue.packetize("video", frame, 123_456, ids)
    own = Vp8Encoder()
    own.picture_id = 32_767
    payloads, timestamp = own.pack(
        glue.encoded_packet(frame, 123_456, glue.VIDEO_TIME_BASE)  # type: ignore[arg-type]
    )
    assert (list(packed.payloads), packed.timestamp, packed.size) == (payloads, timestamp, 3073)
    assert len(payloads) > 1 and ids.next == 0  # the next frame's ID wraps at 15 bits
    audio = glue.packetize("audio", b"opus", 960, ids)
    assert (list(audio.payloads), audio.timestamp, ids.next) == ([b"opus"], 960, 0)


def test_the_send_loops_clock_tells_aiortcs_ntp_time() -> None:
    from aiortc import clock

    theirs, ours = clock.current_ntp_time(), glue.ntp_now()
    assert abs(ours - theirs) < (5 << 32) // 1000  # within 5 ms, taken one after the other


class PackedVideo(aiortc.MediaStreamTrack):
    """Frames already cut into payloads, as the SFU's forward tracks give them."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self._frames = frames
        self._ids = glue.PictureIds(7)
        self._sent = 0

    async def recv(self) -> glue.Packed:  # type: ignore[override]
        if self._sent:
            await asyncio.sleep(1 / 30)  # a source's pace, as PatternVideo's
        data = self._frames[self._sent % len(self._frames)]
        self._sent += 1
        return glue.packetize("video", data, self._sent * 3000, self._ids)


async def test_the_packed_send_loop_sends_what_aiortc_would_and_keeps_its_books() -> None:
    frames = [b"\x00" + bytes([n]) * 2500 for n in range(1, 4)]
    pair = Pair()
    pair.video = PackedVideo(frames)  # type: ignore[assignment]
    sent: list[bytes] = []
    await _connect_packed(pair, sent)
    try:
        got = [await pair.next_frame() for _ in range(4)]
        # Whole frames, in order, at their timestamps' distance (the sender
        # adds its own random origin).
        assert [data for data, _ in got] == [*frames, frames[0]]
        steps = {(b - a) % (1 << 32) for (_, a), (_, b) in itertools.pairwise(got)}
        assert steps == {3000}

        sender = pair.sender_pc.getTransceivers()[0].sender
        state: Any = sender
        extensions = state._RTCRtpSender__rtp_header_extensions_map
        history = state._RTCRtpSender__rtp_history
        for data in list(sent):
            packet = RtpPacket.parse(data, extensions)
            assert packet.extensions.mid == "0" and packet.extensions.abs_send_time is not None
            # What NACKs (and RTX) will resend is this packet, as aiortc writes it.
            assert history[packet.sequence_number % RTP_HISTORY_SIZE].serialize(extensions) == data
        # Its sender reports count what went out (up to the frame being sent).
        counted = state._RTCRtpSender__packet_count
        assert len(sent) - 3 <= counted <= len(sent)
        assert state._RTCRtpSender__octet_count >= 2500 * 4
    finally:
        await pair.close()


async def _connect_packed(pair: Pair, sent: list[bytes]) -> None:
    """``pair.connect()``, its sender on the packed loop, what it sends recorded."""
    transceiver = pair.sender_pc.addTransceiver(pair.video, direction="sendonly")
    codecs = transceiver.sender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.name in ("VP8", "rtx")])
    glue.run_packed(transceiver.sender)
    transport: Any = transceiver.sender.transport
    send = transport._send_rtp

    async def recording(data: bytes) -> None:
        sent.append(data)
        await send(data)

    transport._send_rtp = recording
    await pair.sender_pc.setLocalDescription(await pair.sender_pc.createOffer())
    await pair.receiver_pc.setRemoteDescription(pair.sender_pc.localDescription)
    await pair.receiver_pc.setLocalDescription(await pair.receiver_pc.createAnswer())
    await pair.sender_pc.setRemoteDescription(pair.receiver_pc.localDescription)
