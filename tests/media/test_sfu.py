"""The SFU with real aiortc publishers and subscribers over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, unpack_remb_fci
from av import AudioFrame, VideoFrame

from media import aiortc_glue as glue
from media import sdp_check
from media.sfu import PUBLISH_BITRATE, REMB_INTERVAL, MediaError, Sfu
from server.config import MediaConfig
from server.rooms.media import TrackInfo, TrackSpec

from .browser_sdp import captured
from .peers import PatternVideo, Subscriber, ToneAudio, publish, shade_of

ROOM = "room-1"
TEACHER, STUDENT, STUDENT_2 = 1000100003, 1000100101, 1000100102


@dataclass
class Events:
    """The room service's side of the seam, recording what the SFU says."""

    offers: dict[int, asyncio.Queue[str]] = field(default_factory=dict)
    added: asyncio.Queue[TrackInfo] = field(default_factory=asyncio.Queue)
    removed: asyncio.Queue[TrackInfo] = field(default_factory=asyncio.Queue)
    speaking: asyncio.Queue[list[int]] = field(default_factory=asyncio.Queue)
    failed: list[int] = field(default_factory=list)

    def offers_for(self, participant: int) -> asyncio.Queue[str]:
        return self.offers.setdefault(participant, asyncio.Queue())

    def subscriber_offer(self, room_id: str, participant: int, sdp: str) -> None:
        self.offers_for(participant).put_nowait(sdp)

    def track_added(self, room_id: str, track: TrackInfo) -> None:
        self.added.put_nowait(track)

    def track_removed(self, room_id: str, track: TrackInfo) -> None:
        self.removed.put_nowait(track)

    def speakers(self, room_id: str, speaking: Sequence[int]) -> None:
        self.speaking.put_nowait(list(speaking))

    def media_failed(self, room_id: str, participant: int) -> None:
        self.failed.append(participant)


@dataclass
class Lesson:
    sfu: Sfu
    events: Events
    closing: list[RTCPeerConnection | Subscriber] = field(default_factory=list)

    async def publisher(self, participant: int, **tracks: object) -> dict[str, TrackInfo]:
        async def send(sdp: str, specs: Sequence[TrackSpec]) -> str:
            return await self.sfu.publish(ROOM, participant, sdp, specs)

        pc = await publish(tracks, send)  # type: ignore[arg-type]
        self.closing.append(pc)
        infos = [await asyncio.wait_for(self.events.added.get(), 5) for _ in tracks]
        return {info.source: info for info in infos}

    async def subscriber(self, participant: int, tracks: Sequence[TrackInfo]) -> Subscriber:
        subscriber = Subscriber()
        self.closing.append(subscriber)
        await self.sfu.subscribe(ROOM, participant, [t.track_id for t in tracks])
        await self.negotiate(participant, subscriber)
        return subscriber

    async def negotiate(self, participant: int, subscriber: Subscriber) -> None:
        offer = await asyncio.wait_for(self.events.offers_for(participant).get(), 5)
        await self.sfu.answer(ROOM, participant, await subscriber.answer(offer))


@pytest.fixture
async def lesson() -> AsyncIterator[Lesson]:
    sfu = Sfu(MediaConfig(ice_addresses=("127.0.0.1",), speaker_interval=0.1))
    events = Events()
    await sfu.open_room(ROOM, events)
    room = Lesson(sfu, events)
    yield room
    for item in room.closing:
        await item.close()
    await sfu.close()


async def frames(received: object, n: int, timeout: float = 10.0) -> list[object]:
    queue: asyncio.Queue[object] = received.frames  # type: ignore[attr-defined]
    return [await asyncio.wait_for(queue.get(), timeout) for _ in range(n)]


async def test_video_and_audio_reach_a_subscriber_and_decode(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo(), microphone=ToneAudio())
    subscriber = await lesson.subscriber(STUDENT, [tracks["camera"], tracks["microphone"]])

    video = await subscriber.track(tracks["camera"])
    audio = await subscriber.track(tracks["microphone"])
    pictures = await frames(video, 10)
    sounds = await frames(audio, 10)

    assert all(isinstance(f, VideoFrame) and (f.width, f.height) == (320, 240) for f in pictures)
    # The pattern changes frame to frame: these are the publisher's pictures, not a still.
    assert len({round(shade_of(f)) for f in pictures}) > 3  # type: ignore[arg-type]
    assert all(isinstance(f, AudioFrame) and f.sample_rate == 48_000 for f in sounds)
    stats = lesson.sfu.stats(ROOM)
    assert stats[tracks["camera"].track_id]["frames"] >= 10


async def test_a_late_subscriber_gets_a_keyframe_and_sees_video(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo())
    first = await lesson.subscriber(STUDENT, [tracks["camera"]])
    await frames(await first.track(tracks["camera"]), 45)  # well past the first keyframe
    asked_before = lesson.sfu.stats(ROOM)[tracks["camera"].track_id]["keyframe_requests"]

    late = await lesson.subscriber(STUDENT_2, [tracks["camera"]])
    await frames(await late.track(tracks["camera"]), 1, timeout=5)

    # aiortc's encoder sends a keyframe only when asked: the SFU asked for one
    # for the late subscriber, whose first frame decoded. How soon is measured
    # by bench/sfu.py (join to first frame), not timed here.
    assert lesson.sfu.stats(ROOM)[tracks["camera"].track_id]["keyframe_requests"] > asked_before


async def test_unknown_and_own_tracks_are_refused(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo())
    with pytest.raises(MediaError) as unknown:
        await lesson.sfu.subscribe(ROOM, STUDENT, ["no-such-track"])
    assert unknown.value.code == "media.unknown_track"
    with pytest.raises(MediaError) as own:
        await lesson.sfu.subscribe(ROOM, TEACHER, [tracks["camera"].track_id])
    assert own.value.code == "media.own_track"


async def forwarded(lesson: Lesson, participant: int, track: TrackInfo) -> int:
    return lesson.sfu.stats(ROOM)[f"{participant}<-{track.track_id}"]["forwarded"]


async def test_hidden_tiles_stop_video_and_showing_resumes_from_a_keyframe(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo(), microphone=ToneAudio())
    subscriber = await lesson.subscriber(STUDENT, [tracks["camera"], tracks["microphone"]])
    video = await subscriber.track(tracks["camera"])
    audio = await subscriber.track(tracks["microphone"])
    await frames(video, 5)

    await lesson.sfu.show(ROOM, STUDENT, [])  # the student shows no video tile
    hidden_at = await forwarded(lesson, STUDENT, tracks["camera"])
    audio_at = await forwarded(lesson, STUDENT, tracks["microphone"])
    await frames(audio, 25)  # half a second of audio goes on arriving
    assert await forwarded(lesson, STUDENT, tracks["camera"]) == hidden_at
    assert await forwarded(lesson, STUDENT, tracks["microphone"]) > audio_at

    asked = lesson.sfu.stats(ROOM)[tracks["camera"].track_id]["keyframe_requests"]
    await lesson.sfu.show(ROOM, STUDENT, [tracks["camera"].track_id])
    while not video.frames.empty():
        video.frames.get_nowait()
    await frames(video, 3, timeout=5)
    assert await forwarded(lesson, STUDENT, tracks["camera"]) > hidden_at
    assert lesson.sfu.stats(ROOM)[tracks["camera"].track_id]["keyframe_requests"] > asked


async def test_a_source_muted_by_the_server_stops_reaching_subscribers(lesson: Lesson) -> None:
    tracks = await lesson.publisher(STUDENT, camera=PatternVideo(), microphone=ToneAudio())
    teacher = await lesson.subscriber(TEACHER, [tracks["camera"], tracks["microphone"]])
    audio = await teacher.track(tracks["microphone"])
    video = await teacher.track(tracks["camera"])
    await frames(audio, 5)

    await lesson.sfu.set_muted(ROOM, STUDENT, "microphone", True)
    muted_at = await forwarded(lesson, TEACHER, tracks["microphone"])
    await frames(video, 15)  # the camera goes on
    assert await forwarded(lesson, TEACHER, tracks["microphone"]) == muted_at

    await lesson.sfu.set_muted(ROOM, STUDENT, "microphone", False)
    while not audio.frames.empty():
        audio.frames.get_nowait()
    await frames(audio, 5)
    assert await forwarded(lesson, TEACHER, tracks["microphone"]) > muted_at


async def test_the_loud_participant_is_the_active_speaker(lesson: Lesson) -> None:
    await lesson.publisher(TEACHER, microphone=ToneAudio(amplitude=0.6))
    await lesson.publisher(STUDENT, microphone=ToneAudio(amplitude=0.0))
    # The speaker events come from the publishers' RTP audio levels; nobody subscribes.
    while (speaking := await asyncio.wait_for(lesson.events.speaking.get(), 5)) != [TEACHER]:
        assert STUDENT not in speaking


async def test_leaving_ends_the_tracks_and_tells_subscribers(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo(), microphone=ToneAudio())
    subscriber = await lesson.subscriber(STUDENT, [tracks["camera"], tracks["microphone"]])
    await frames(await subscriber.track(tracks["camera"]), 3)

    await lesson.sfu.leave(ROOM, TEACHER)

    removed = {(await asyncio.wait_for(lesson.events.removed.get(), 5)).track_id for _ in range(2)}
    assert removed == {tracks["camera"].track_id, tracks["microphone"].track_id}
    assert lesson.sfu.tracks(ROOM) == []
    # The subscriber is offered a description with those sections inactive.
    offer = await asyncio.wait_for(lesson.events.offers_for(STUDENT).get(), 5)
    assert offer.count("a=inactive") == 2
    await lesson.sfu.answer(ROOM, STUDENT, await subscriber.answer(offer))


def decoder_threads() -> list[threading.Thread]:
    """aiortc's decoder threads, one per started receiver; not daemons."""
    return [t for t in threading.enumerate() if t.name.endswith("-decoder")]


async def test_a_leave_cancelled_while_closing_still_ends_every_receiver(lesson: Lesson) -> None:
    # The publisher's own connection only sends, so every decoder thread is the SFU's.
    await lesson.publisher(TEACHER, camera=PatternVideo(), microphone=ToneAudio())
    async with asyncio.timeout(10):  # each receiver starts its thread once DTLS is up
        while len(decoder_threads()) < 2:  # noqa: ASYNC110 (aiortc has no event for that)
            await asyncio.sleep(0.02)

    leaving = asyncio.ensure_future(lesson.sfu.leave(ROOM, TEACHER))
    await asyncio.sleep(0)  # the leave is now inside the connection's close
    leaving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await leaving
    await lesson.sfu.close()

    # A thread left waiting here keeps the server's process from exiting.
    assert decoder_threads() == []


async def test_unpublishing_a_screen_share_keeps_the_camera(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo(), screen=PatternVideo())
    await lesson.sfu.unpublish(ROOM, TEACHER, "screen")
    gone = await asyncio.wait_for(lesson.events.removed.get(), 5)
    assert gone == tracks["screen"]
    assert [t.track_id for t in lesson.sfu.tracks(ROOM)] == [tracks["camera"].track_id]


async def test_offers_the_sfu_cannot_forward_are_refused(lesson: Lesson) -> None:
    pc = RTCPeerConnection()
    lesson.closing.append(pc)
    transceiver = pc.addTransceiver(PatternVideo(), direction="sendonly")
    h264 = [c for c in transceiver.sender.getCapabilities("video").codecs if c.name == "H264"]
    transceiver.setCodecPreferences(h264)
    await pc.setLocalDescription(await pc.createOffer())
    sdp, mid = pc.localDescription.sdp, str(transceiver.mid)

    vp8_pc = RTCPeerConnection()
    lesson.closing.append(vp8_pc)
    vp8 = vp8_pc.addTransceiver(PatternVideo(), direction="sendonly")
    await vp8_pc.setLocalDescription(await vp8_pc.createOffer())
    vp8_sdp, vp8_mid = vp8_pc.localDescription.sdp, str(vp8.mid)

    cases = [
        ("v=0 garbage", [TrackSpec(mid, "camera")], "media.bad_sdp"),
        (vp8_sdp, [], "media.bad_tracks"),
        (vp8_sdp, [TrackSpec(vp8_mid, "microphone")], "media.bad_tracks"),
        (sdp, [TrackSpec(mid, "camera")], "media.codec"),
        (sdp, [], "media.codec"),  # a section the SFU cannot take, sending or not
    ]
    for offer, specs, code in cases:
        with pytest.raises(MediaError) as refused:
            await lesson.sfu.publish(ROOM, TEACHER, offer, specs)
        assert refused.value.code == code, (specs, refused.value)
    assert lesson.sfu.tracks(ROOM) == []


async def test_a_firefox_offer_of_mdns_candidates_only_is_answered_with_the_sfus_own(
    lesson: Lesson,
) -> None:
    """Firefox hides every host address behind an mDNS name, which the SFU never
    resolves; its answer must still carry the SFU's candidates for Firefox's checks."""
    offer = captured("firefox-153-publish-offer")
    assert all(sdp_check.is_mdns(c) for m in sdp_check.parse(offer).media for c in m.ice_candidates)
    answer = await lesson.sfu.publish(
        ROOM, TEACHER, offer, [TrackSpec("0", "microphone"), TrackSpec("1", "camera")]
    )
    for media in sdp_check.parse(answer).media:
        assert [c.ip for c in media.ice_candidates] == ["127.0.0.1"]
        assert media.rtcp_mux


def video_receiver(subscriber: Subscriber) -> RTCRtpReceiver:
    (transceiver,) = [t for t in subscriber.pc.getTransceivers() if t.kind == "video"]
    return transceiver.receiver


async def test_a_subscribers_nack_is_answered_with_the_lost_packet(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo())
    subscriber = Subscriber()
    lesson.closing.append(subscriber)
    await lesson.sfu.subscribe(ROOM, STUDENT, [tracks["camera"].track_id])
    await lesson.negotiate(STUDENT, subscriber)

    # Between the SFU and this subscriber, lose one packet on the way in, once.
    receiver = video_receiver(subscriber)
    handle = receiver._handle_rtp_packet
    seen: list[RtpPacket] = []
    dropped: list[int] = []
    resent: asyncio.Queue[int] = asyncio.Queue()

    async def lossy(packet: RtpPacket, arrival_time_ms: int) -> None:
        if not seen:
            seen.append(packet)
        media_ssrc = seen[0].ssrc
        if (
            packet.ssrc == media_ssrc
            and not dropped
            and packet.sequence_number != seen[0].sequence_number
        ):
            if len(seen) >= 30:
                dropped.append(packet.sequence_number)
                return
            seen.append(packet)
        elif packet.ssrc != media_ssrc:  # RTX: the payload starts with the original sequence number
            resent.put_nowait(int.from_bytes(packet.payload[:2], "big"))
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]
    while await asyncio.wait_for(resent.get(), 10) not in dropped:
        pass


async def test_a_subscribers_picture_loss_brings_a_keyframe(lesson: Lesson) -> None:
    tracks = await lesson.publisher(TEACHER, camera=PatternVideo())
    subscriber = await lesson.subscriber(STUDENT, [tracks["camera"]])
    video = await subscriber.track(tracks["camera"])
    await frames(video, 45)
    stats = lesson.sfu.stats(ROOM)[tracks["camera"].track_id]
    keyframes = lesson.sfu.stats(ROOM)[f"{STUDENT}<-{tracks['camera'].track_id}"]["keyframes"]

    # The subscriber (a browser that failed to decode) reports picture loss twice, at once:
    # both are asked of the publisher, one at once and one when the interval allows.
    receiver = video_receiver(subscriber)
    ssrc = receiver.getSynchronizationSources()[0].source
    await glue.request_keyframe(receiver, ssrc)
    await glue.request_keyframe(receiver, ssrc)
    for _ in range(60):  # two seconds of frames
        await asyncio.wait_for(video.frames.get(), 5)
        mine = lesson.sfu.stats(ROOM)[f"{STUDENT}<-{tracks['camera'].track_id}"]
        if mine["keyframes"] > keyframes:
            break
    else:
        pytest.fail("no keyframe was forwarded to the subscriber after its PLI")
    after = lesson.sfu.stats(ROOM)[tracks["camera"].track_id]
    assert after["keyframe_asks"] >= stats["keyframe_asks"] + 2
    assert after["keyframe_requests"] >= stats["keyframe_requests"] + 1


async def test_a_publisher_is_told_the_sfus_cap_and_nothing_else(lesson: Lesson) -> None:
    await lesson.publisher(TEACHER, camera=PatternVideo(), screen=PatternVideo())
    pc = lesson.closing[-1]
    assert isinstance(pc, RTCPeerConnection)
    senders = [t.sender for t in pc.getTransceivers()]
    seen: list[tuple[int, list[int]]] = []
    handle = senders[0]._handle_rtcp_packet

    async def observe(packet: object) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            seen.append(unpack_remb_fci(packet.fci))
        await handle(packet)

    senders[0]._handle_rtcp_packet = observe  # type: ignore[method-assign]
    # aiortc's own estimator would have sent its first REMB about 3 s in.
    await asyncio.sleep(REMB_INTERVAL * 4)
    cap = PUBLISH_BITRATE["camera"] + PUBLISH_BITRATE["screen"]
    assert len(seen) >= 2
    assert all(b == cap and sorted(s) == sorted(x._ssrc for x in senders) for b, s in seen)
