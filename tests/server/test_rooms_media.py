"""A lesson's media through the real server and the real SFU, signaled over the WebSocket.

The room tests (``test_rooms_ws.py``) replace the SFU; the SFU's own tests
(``tests/media``) drive it directly.  This one joins the two where a client
does: ``rtc.publish`` answered with the SFU's answer, ``media.subscribe``
followed by an ``rtc.offer`` event, the client's ``rtc.answer``, and
decoded video at the other end.  Every candidate is on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from media import aiortc_glue
from server.clock import ManualClock
from server.rooms.media import TrackSpec
from signaling import rooms as r
from tests.conftest import Running, ServerFactory
from tests.media.peers import PatternVideo, Subscriber, ToneAudio, publish
from tests.server.test_chats_ws import CLASS_TEACHER_5A
from tests.server.test_metrics import scrape
from tests.server.test_rooms_ws import ANYA, CLASS_5A, refused


@pytest.fixture
async def zvonok(make_server: ServerFactory, clock: ManualClock) -> Running:
    aiortc_glue.use_host_addresses(["127.0.0.1"])  # process-wide, as tests/media does
    return await make_server(clock)  # the real SFU


async def test_a_teachers_camera_reaches_a_student_through_the_sfu(zvonok: Running) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    room = (await teacher.start_room(CLASS_5A, "lesson", "Урок с видео"))["id"]
    await teacher.join_room(room)
    anya = await zvonok.connect(ANYA)
    await anya.join_room(room)

    async def send_offer(sdp: str, specs: Sequence[TrackSpec]) -> str:
        return await teacher.publish(room, sdp, [(s.mid, s.source) for s in specs])

    publisher = await publish({"camera": PatternVideo(), "microphone": ToneAudio()}, send_offer)
    subscriber = Subscriber()
    try:
        added = [await anya.next_of(r.TrackChanged) for _ in range(2)]
        camera = next(e.track for e in added if e.track["source"] == "camera")
        assert camera["owner"] == CLASS_TEACHER_5A and camera["kind"] == "video"

        await anya.room_request(r.Subscribe(room=room, tracks=(camera["id"],)))
        offer = await anya.next_of(r.RtcOffer)
        await anya.room_request(r.RtcAnswer(room=room, sdp=await subscriber.answer(offer.sdp)))
        received = await subscriber.arrived.get()
        assert received.kind == "video"
        for _ in range(3):
            await received.frames.get()  # decoded frames arrive
        _, figures = await scrape(zvonok)  # and /metrics counts them
        assert figures["zvonok_sfu_tracks"] == 2
        assert figures["zvonok_sfu_packets_in_total"] > 0
        assert figures["zvonok_sfu_bytes_in_total"] > figures["zvonok_sfu_packets_in_total"]
        assert figures["zvonok_sfu_frames_out_total"] >= 3  # those she decoded, at least
        assert figures["zvonok_sfu_bytes_out_total"] > figures["zvonok_sfu_frames_out_total"]

        # The host forbids her microphone: the SFU never sees her offer of it.
        await teacher.room_request(
            r.HostMute(room=room, person=ANYA, source="microphone", forbid=True)
        )
        offer_mic = r.RtcPublish(room=room, sdp="v=0", tracks=(r.PublishTrack("0", "microphone"),))
        assert await refused(anya, offer_mic) == "room.unmute_forbidden"
        await teacher.room_request(r.HostEnd(room=room))
        assert (await anya.next_of(r.Ended)).room == room
    finally:
        await subscriber.close()
        await publisher.close()


async def test_joining_again_on_the_same_socket_starts_the_media_afresh(zvonok: Running) -> None:
    """A browser whose network changed (Wi-Fi to mobile) keeps its socket but not
    its peer connections: it joins again and publishes on a new one."""
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    room = (await teacher.start_room(CLASS_5A, "lesson", "Урок с видео"))["id"]
    await teacher.join_room(room)
    anya = await zvonok.connect(ANYA)
    await anya.join_room(room)

    async def send_offer(sdp: str, specs: Sequence[TrackSpec]) -> str:
        return await teacher.publish(room, sdp, [(s.mid, s.source) for s in specs])

    first = await publish({"camera": PatternVideo()}, send_offer)
    second = None
    subscriber = Subscriber()
    try:
        old = (await anya.next_of(r.TrackChanged)).track
        await teacher.room_request(r.RaiseHand(room=room, up=True))
        again = await teacher.join_room(room)
        assert again.resumed and again.you["role"] == "host" and again.you["hand"] is True
        assert again.tracks == []  # her old connection's tracks are gone
        gone = await anya.next_of(r.TrackChanged)
        assert (gone.change, gone.track["id"]) == ("removed", old["id"])

        second = await publish({"camera": PatternVideo()}, send_offer)  # a new peer connection
        new = await anya.next_of(r.TrackChanged)
        assert new.change == "added" and new.track["source"] == "camera"
        await anya.room_request(r.Subscribe(room=room, tracks=(new.track["id"],)))
        offer = await anya.next_of(r.RtcOffer)
        await anya.room_request(r.RtcAnswer(room=room, sdp=await subscriber.answer(offer.sdp)))
        received = await subscriber.arrived.get()
        for _ in range(3):
            await received.frames.get()
    finally:
        await subscriber.close()
        await first.close()
        if second is not None:
            await second.close()
