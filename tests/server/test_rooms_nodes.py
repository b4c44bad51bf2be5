"""A lesson across nodes (issue 18): the room on one node, its people on any.

Two ``zvonok serve`` processes share one store (SQLite, and PostgreSQL) and
one Redis, each started by the test. The room lives on the node it was made live on (the directory
in Redis says which, and /metrics shows it); a participant connected to the
other node has its signalling forwarded there and its media straight to
that node's SFU. When the room's node is SIGKILLed its participants on the
other node are told they are away, join again, and the room is taken over
with the dead node's attendance intervals closed; when a participant's node
dies, the room's node starts his grace and he takes his place back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiortc import RTCPeerConnection

from media import aiortc_glue
from server.rooms.media import TrackSpec
from signaling import rooms as r
from signaling.client import Client
from tests.conftest import Database, until
from tests.media.peers import PatternVideo, Subscriber, publish, shade_of
from tests.redisserver import RedisServer
from tests.serverproc import ServerProcess, free_port

TEACHER_5A, STUDENT_5A, CLASSMATE_5A = 1000100003, 1000100101, 1000100102
TTL = "1.5"  # seconds a node's word lasts: how soon a dead node is seen dead


pytestmark = pytest.mark.both_engines


@dataclass
class Nodes:
    a: ServerProcess
    b: ServerProcess
    http: aiohttp.ClientSession
    database: Database

    async def connect(self, node: ServerProcess, oid: int) -> Client:
        token = self.a.identity_provider().issue(oid, lifetime=600)
        return await Client.connect(node.ws_url, token, session=self.http)

    async def lesson_on_a(self) -> tuple[Client, str]:
        """The teacher, connected to node A, starts a lesson of 5А and enters it."""
        teacher = await self.connect(self.a, TEACHER_5A)
        room = (await teacher.start_room("sosh-1-5a", "lesson", "Окружающий мир"))["id"]
        await teacher.join_room(room)
        return teacher, room


@asynccontextmanager
async def two_nodes(tmp_path: Path, redis: RedisServer, database: Database) -> AsyncIterator[Nodes]:
    aiortc_glue.use_host_addresses(["127.0.0.1"])
    env = {
        "ZVONOK_BUS_URL": redis.url,
        "ZVONOK_BUS_PRESENCE_TTL": TTL,
        "ZVONOK_MEDIA_ICE_ADDRESSES": "127.0.0.1",
    }
    if database.engine == "postgresql":  # else: the SQLite file in their one directory
        env["ZVONOK_STORAGE_DATABASE"] = database.dsn
    a = ServerProcess(tmp_path, env=env)  # one directory: one store, one IdP key
    b = ServerProcess(tmp_path, port=free_port(), env=env)
    await a.start()
    try:
        await b.start()
        async with aiohttp.ClientSession() as http:
            yield Nodes(a, b, http, database)
    finally:
        await b.stop()
        await a.stop()


async def level(nodes: Nodes, node: ServerProcess, name: str) -> float:
    """One figure of the node's /metrics."""
    async with nodes.http.get(f"{node.base}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def teacher_publishes(teacher: Client, room: str) -> RTCPeerConnection:
    async def send_offer(sdp: str, specs: Sequence[TrackSpec]) -> str:
        return await teacher.publish(room, sdp, [(s.mid, s.source) for s in specs])

    return await publish({"camera": PatternVideo()}, send_offer)


async def sees_the_camera(student: Client, room: str, subscriber: Subscriber) -> None:
    """The student subscribes to the teacher's camera and decodes a moving picture."""
    camera = (await student.next_of(r.TrackChanged, timeout=15)).track
    assert (camera["owner"], camera["source"]) == (TEACHER_5A, "camera")
    await student.room_request(r.Subscribe(room=room, tracks=(camera["id"],)))
    offer = await student.next_of(r.RtcOffer, timeout=15)
    await student.room_request(r.RtcAnswer(room=room, sdp=await subscriber.answer(offer.sdp)))
    async with asyncio.timeout(30):
        video = await subscriber.arrived.get()
        shades = {round(shade_of(await video.frames.get())) for _ in range(10)}
    assert len(shades) > 3


async def intervals(nodes: Nodes, room: str) -> list[tuple[int, bool]]:
    """(person, still open) of each attendance interval of the room, in the
    order they began, read from the store itself."""
    store = nodes.database.store()
    await store.open()
    try:
        rows = await store.room_attendance(room)
    finally:
        await store.close()
    return [(row.person, row.left_at is None) for row in rows]


async def test_a_student_on_the_other_node_joins_the_lesson_and_sees_the_teacher(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    subscriber = Subscriber()
    publisher = None
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        try:
            student = await nodes.connect(nodes.b, STUDENT_5A)
            teacher, room = await nodes.lesson_on_a()

            joined = await student.join_room(room)  # through node B, served by node A
            assert joined.you["person"] == STUDENT_5A and joined.room["id"] == room
            assert [p["person"] for p in joined.participants] == [TEACHER_5A, STUDENT_5A]
            # The room is on node A only: B holds no room and forwards.
            assert await level(nodes, nodes.a, "zvonok_room_participants") == 2
            assert await level(nodes, nodes.b, "zvonok_rooms") == 0

            publisher = await teacher_publishes(teacher, room)
            await sees_the_camera(student, room, subscriber)

            # Controls cross too, both ways: his hand reaches her, her mute reaches him.
            await student.room_request(r.RaiseHand(room=room, up=True))
            hand = await teacher.next_of(
                r.ParticipantChanged, where=lambda p: p.change == "hand", timeout=10
            )
            assert (hand.person, hand.state["hand"]) == (STUDENT_5A, True)
            await teacher.room_request(
                r.HostMute(room=room, person=STUDENT_5A, source="microphone", forbid=True)
            )
            muted = await student.next_of(
                r.ParticipantChanged, where=lambda p: p.change == "forbidden", timeout=10
            )
            assert muted.state["forbidden"] == ["microphone"]

            await student.leave_room(room)
            left = await teacher.next_of(
                r.ParticipantChanged, where=lambda p: p.change == "left", timeout=10
            )
            assert left.person == STUDENT_5A
            await student.close()
            await teacher.close()
        finally:
            await subscriber.close()
            if publisher is not None:
                await publisher.close()


async def test_when_the_rooms_node_dies_the_room_goes_on_through_the_other(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        classmate = await nodes.connect(nodes.a, CLASSMATE_5A)  # does not come back
        student = await nodes.connect(nodes.b, STUDENT_5A)
        teacher, room = await nodes.lesson_on_a()
        await classmate.join_room(room)
        await student.join_room(room)

        await nodes.a.kill()  # SIGKILL: the room's node says nothing more
        away = await student.next_of(
            r.ParticipantChanged, where=lambda p: p.person == STUDENT_5A, timeout=15
        )
        assert (away.change, away.state["status"]) == ("away", "away")

        # He joins again through his node, which takes the room over; the
        # teacher's client reconnects (to B, as a load balancer would send it).
        again = await student.join_room(room)
        assert [p["person"] for p in again.participants] == [STUDENT_5A]
        assert await level(nodes, nodes.b, "zvonok_rooms") == 1
        teacher = await nodes.connect(nodes.b, TEACHER_5A)
        back = await teacher.join_room(room)
        assert back.you["role"] == "host"
        assert {p["person"] for p in back.participants} == {TEACHER_5A, STUDENT_5A}

        # What node A left open is closed by B, his who never came back too;
        # the intervals opened on B stay open.
        async def only_bs_open() -> bool:
            rows = await intervals(nodes, room)
            return len(rows) == 5 and sorted(oid for oid, still in rows if still) == [
                TEACHER_5A,
                STUDENT_5A,
            ]

        await until(only_bs_open)
        assert [still for _, still in (await intervals(nodes, room))[:3]] == [False] * 3
        await classmate.close()
        await student.close()
        await teacher.close()


async def test_when_a_participants_node_dies_his_grace_runs_and_he_comes_back(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        student = await nodes.connect(nodes.b, STUDENT_5A)
        teacher, room = await nodes.lesson_on_a()
        await student.join_room(room)
        await student.room_request(r.RaiseHand(room=room, up=True))
        await teacher.next_of(r.ParticipantChanged, where=lambda p: p.change == "hand")

        await nodes.b.kill()
        away = await teacher.next_of(
            r.ParticipantChanged, where=lambda p: p.change == "away", timeout=15
        )
        assert away.person == STUDENT_5A

        student = await nodes.connect(nodes.a, STUDENT_5A)  # his client comes back through A
        again = await student.join_room(room)
        assert again.resumed and again.you["hand"]  # his place, hand up, within the grace
        assert [still for _, still in await intervals(nodes, room)] == [True, True]
        await student.close()
        await teacher.close()


async def test_a_node_that_restarts_closes_only_what_no_live_node_holds(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        teacher, room = await nodes.lesson_on_a()

        await nodes.b.stop()
        await nodes.b.start()  # its start-up closes the intervals no live node holds

        assert await intervals(nodes, room) == [(TEACHER_5A, True)]
        student = await nodes.connect(nodes.b, STUDENT_5A)
        joined = await student.join_room(room)  # and the room is still A's
        assert {p["person"] for p in joined.participants} == {TEACHER_5A, STUDENT_5A}

        # The teacher ends it from her phone, on B and not in the room: B sends
        # the end to A, which tells everyone in the room, wherever they are.
        phone = await nodes.connect(nodes.b, TEACHER_5A)
        await phone.room_request(r.HostEnd(room=room))
        assert (await student.next_of(r.Ended, timeout=10)).room == room
        assert (await teacher.next_of(r.Ended, timeout=10)).room == room
        assert await intervals(nodes, room) == [(TEACHER_5A, False), (STUDENT_5A, False)]
        await phone.close()
        await student.close()
        await teacher.close()


async def test_a_frozen_rooms_node_that_comes_back_lets_the_room_go_to_its_new_node(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        student = await nodes.connect(nodes.b, STUDENT_5A)
        teacher, room = await nodes.lesson_on_a()
        await student.join_room(room)

        nodes.a.freeze()  # past the TTL: taken for dead, the room is taken over by B
        try:
            away = await student.next_of(
                r.ParticipantChanged, where=lambda p: p.person == STUDENT_5A, timeout=15
            )
            assert away.change == "away"
            again = await student.join_room(room)
            assert [p["person"] for p in again.participants] == [STUDENT_5A]
        finally:
            nodes.a.thaw()

        # Back, node A finds the room is B's: its people are told they are away,
        # and join again where the room is. One lesson, on one node.
        gone = await teacher.next_of(
            r.ParticipantChanged, where=lambda p: p.person == TEACHER_5A, timeout=15
        )
        assert gone.change == "away"
        back = await teacher.join_room(room)  # through A, served by B
        assert {p["person"] for p in back.participants} == {TEACHER_5A, STUDENT_5A}
        assert await level(nodes, nodes.a, "zvonok_rooms") == 0
        assert await level(nodes, nodes.b, "zvonok_rooms") == 1
        await student.close()
        await teacher.close()


async def test_after_a_redis_restart_the_rooms_node_records_its_room_again(
    tmp_path: Path, redis_server: RedisServer, database: Database
) -> None:
    async with two_nodes(tmp_path, redis_server, database) as nodes:
        teacher, room = await nodes.lesson_on_a()

        redis_server.stop()  # no persistence: the directory is gone with it
        redis_server.start()
        directory = aioredis.from_url(redis_server.url)
        try:

            async def recorded() -> bool:
                # The room in the directory again, and both nodes back on their
                # relay channels (each node's subscription comes back by itself,
                # with backoff; a request forwarded before would wait its time).
                there = await directory.hexists("rooms:live", room)  # type: ignore[misc]
                relays = await directory.pubsub_channels("relay:*")
                return bool(there) and len(relays) == 2

            async with asyncio.timeout(15):
                while not await recorded():  # noqa: ASYNC110  (Redis tells no one)
                    await asyncio.sleep(0.05)
        finally:
            await directory.aclose()
        student = await nodes.connect(nodes.b, STUDENT_5A)
        joined = await student.join_room(room)  # the same lesson, still on A
        assert {p["person"] for p in joined.participants} == {TEACHER_5A, STUDENT_5A}
        assert await level(nodes, nodes.b, "zvonok_rooms") == 0
        await student.close()
        await teacher.close()
