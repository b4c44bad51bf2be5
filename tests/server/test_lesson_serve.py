"""The check from the video issue, on a real ``zvonok serve`` process.

A teacher starts a lesson for 5A; an aiortc client joins as a student of
5A, subscribes to the teacher's camera and decodes its frames; a student of
5B is refused. Signaling goes over the server's WebSocket, media over UDP
between the server's SFU and the clients, all on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import pytest

from media import aiortc_glue
from server.rooms.media import TrackSpec
from signaling import rooms as r
from signaling.client import Client, RequestError
from tests.media.peers import PatternVideo, Subscriber, publish, shade_of
from tests.serverproc import ServerProcess

TEACHER_5A, STUDENT_5A, STUDENT_5B = 1000100003, 1000100101, 1000100126


async def test_a_student_of_the_class_sees_the_teacher_and_another_class_is_refused(
    tmp_path: Path,
) -> None:
    aiortc_glue.use_host_addresses(["127.0.0.1"])  # the clients' side, as the server's below
    server = ServerProcess(tmp_path / "server", env={"ZVONOK_MEDIA_ICE_ADDRESSES": "127.0.0.1"})
    await server.start()
    subscriber = Subscriber()
    publisher = None
    try:
        idp = server.identity_provider()
        async with aiohttp.ClientSession() as session:
            teacher = await Client.connect(
                server.ws_url, idp.issue(TEACHER_5A, lifetime=600), session=session
            )
            student = await Client.connect(
                server.ws_url, idp.issue(STUDENT_5A, lifetime=600), session=session
            )
            outsider = await Client.connect(
                server.ws_url, idp.issue(STUDENT_5B, lifetime=600), session=session
            )
            room = (await teacher.start_room("sosh-1-5a", "lesson", "Окружающий мир"))["id"]
            await teacher.join_room(room)

            with pytest.raises(RequestError) as refused:
                await outsider.join_room(room)
            assert refused.value.code == "room.forbidden"

            joined = await student.join_room(room)
            assert joined.you["role"] != "host"

            async def send_offer(sdp: str, specs: Sequence[TrackSpec]) -> str:
                return await teacher.publish(room, sdp, [(s.mid, s.source) for s in specs])

            publisher = await publish({"camera": PatternVideo()}, send_offer)
            camera = (await student.next_of(r.TrackChanged)).track
            assert (camera["owner"], camera["source"]) == (TEACHER_5A, "camera")

            await student.room_request(r.Subscribe(room=room, tracks=(camera["id"],)))
            offer = await student.next_of(r.RtcOffer)
            answer = await subscriber.answer(offer.sdp)
            await student.room_request(r.RtcAnswer(room=room, sdp=answer))
            async with asyncio.timeout(30):
                video = await subscriber.arrived.get()
                shades = {round(shade_of(await video.frames.get())) for _ in range(10)}
            assert len(shades) > 3  # the teacher's moving picture, decoded by the student

            for client in (teacher, student, outsider):
                await client.close()
    finally:
        await subscriber.close()
        if publisher is not None:
            await publisher.close()
        await server.stop()
