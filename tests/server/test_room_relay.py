"""The room relay's own rules (issue 18): bounded waits, garbage, stale and
foreign requests, dead nodes.

Two relays, nodes "a" (the room's) and "b" (the connection's), on one
in-process bus: what crosses is exactly what would cross Redis. The room's
requests on node "a" are served by a small table standing for
``RoomRequests`` (a collaborator, not what is tested here).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping

import pytest

from server.bus import LocalBus
from server.dispatch import Handler
from server.errors import ZvonokError
from server.rooms.directory import LocalDirectory
from server.rooms.live import RoomSink
from server.rooms.relay import RoomRelay, _Local, relay_topic
from signaling import rooms as wire
from signaling.codec import RequestId, decode_server_frame, encode
from signaling.messages import Error, Message
from tests.conftest import until

ALICE, BORIS = 1000100101, 1000100102


class Directory(LocalDirectory):
    """One node's directory, with the nodes the test says are alive."""

    def __init__(self, node: str, alive: set[str]) -> None:
        self.node = node
        self.living = alive

    async def alive(self, nodes: Collection[str]) -> set[str]:
        return {node for node in nodes if node in self.living}


class Socket:
    """A connection's sink: the frames it would write, decoded."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[Message] = asyncio.Queue()
        self.request_ids: list[RequestId | None] = []

    def send(self, message: Message, request_id: RequestId | None = None) -> None:
        self.push(encode(message, request_id))

    def push(
        self, frame: bytes, *, ephemeral: bool = False, committed_at: float | None = None
    ) -> None:
        envelope = decode_server_frame(frame)
        self.request_ids.append(envelope.request_id)
        self.frames.put_nowait(envelope.message)

    async def next(self) -> Message:
        return await asyncio.wait_for(self.frames.get(), 5.0)


class Served:
    """Node "a"'s side of one remote connection: joins answered, told on close."""

    def __init__(self, oid: int, sink: RoomSink, log: list[str], hold: asyncio.Event) -> None:
        self.oid = oid
        self.sink = sink
        self.log = log
        self.hold = hold

    @property
    def routes(self) -> Mapping[type[Message], Handler]:
        return {wire.JoinRoom: self.join, wire.LeaveRoom: self.leave}

    async def join(self, m: wire.JoinRoom, rid: RequestId | None) -> Message:
        await self.hold.wait()
        you: wire.Participant = {
            "person": self.oid,
            "name": "Белов Артём Дмитриевич",
            "role": "student",
            "status": "present",
            "hand": False,
            "muted": [],
            "forbidden": [],
        }
        self.sink.send(wire.Speaking(room=m.room, people=[self.oid]))  # an event before the reply
        record: wire.RoomRecord = {
            "id": m.room,
            "kind": "lesson",
            "class_id": "sosh-1-5a",
            "school_id": "sosh-1",
            "title": "Окружающий мир",
            "host": 1000100003,
            "cohost": None,
            "starts_at": None,
            "created_at": 1.0,
            "started_at": 1.0,
            "ended_at": None,
            "chat": f"room:{m.room}",
            "state": "open",
            "participants": 1,
        }
        return wire.RoomJoined(
            room=record,
            you=you,
            participants=[you],
            tracks=[],
            ice_servers=[],
            chat=None,
        )

    async def leave(self, m: wire.LeaveRoom, rid: RequestId | None) -> Message:
        raise ZvonokError("room.not_in_room", "join the room first")

    async def close(self) -> None:
        self.log.append(f"closed {self.oid}")


class Pair:
    def __init__(self, timeout: float = 5.0) -> None:
        self.bus = LocalBus()
        self.log: list[str] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.alive = {"a", "b"}

        def serve(oid: int, sink: RoomSink) -> Served:
            return Served(oid, sink, self.log, self.hold)

        self.a = RoomRelay(self.bus, Directory("a", self.alive), serve, timeout=timeout)
        self.b = RoomRelay(self.bus, Directory("b", self.alive), serve, timeout=timeout)

    async def __aenter__(self) -> Pair:
        await self.a.start()
        await self.b.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.b.close()
        await self.a.close()


async def test_a_forwarded_join_is_answered_in_order_and_its_room_remembered() -> None:
    async with Pair() as pair:
        socket = Socket()
        await pair.b.forward("a", "s1", ALICE, socket, wire.JoinRoom(room="r1"), 7)
        assert isinstance(await socket.next(), wire.Speaking)  # what came first, first
        joined = await socket.next()
        assert isinstance(joined, wire.RoomJoined) and socket.request_ids == [None, 7]
        assert pair.b.elsewhere("s1", "r1") == "a"
        assert pair.b.elsewhere("s1", "r2") is None and pair.b.elsewhere("s2", "r1") is None
        assert pair.a.remote_sessions == 1

        # A refusal comes back as the error frame, with the request's id.
        await pair.b.forward("a", "s1", ALICE, socket, wire.LeaveRoom(room="r1"), 8)
        refused = await socket.next()
        assert isinstance(refused, Error) and refused.code == "room.not_in_room"
        assert pair.b.elsewhere("s1", "r1") == "a"  # a refused leave leaves him in

        pair.b.close_session("s1")  # his socket closed: node "a" ends his session
        await until(lambda: pair.log == [f"closed {ALICE}"], timeout=5)
        assert pair.a.remote_sessions == 0

        # A connection whose only request was refused is forgotten there too.
        other = Socket()
        await pair.b.forward("a", "s2", BORIS, other, wire.LeaveRoom(room="r1"), 1)
        assert isinstance(await other.next(), Error) and pair.a.remote_sessions == 1
        pair.b.close_session("s2")
        await until(lambda: pair.a.remote_sessions == 0, timeout=5)


async def test_a_node_that_does_not_answer_costs_a_bounded_wait() -> None:
    async with Pair(timeout=0.3) as pair:
        pair.hold.clear()  # node "a" is stuck on the request
        started = time.monotonic()
        with pytest.raises(ZvonokError) as refused:
            await pair.b.forward("a", "s1", ALICE, Socket(), wire.JoinRoom(room="r1"), 1)
        assert refused.value.code == "room.unavailable"
        assert time.monotonic() - started < 3.0
        with pytest.raises(ZvonokError):  # nobody at all on that node's topic
            await pair.b.forward("c", "s1", ALICE, Socket(), wire.JoinRoom(room="r1"), 2)
        pair.hold.set()


async def test_garbage_stale_and_foreign_requests_are_refused_or_dropped() -> None:
    async with Pair() as pair:
        back = Socket()
        # Node "b" waits for its call 1; node "a" gets a frame of garbage for it.
        pair.b._locals["s1"] = _Local(ALICE, back)
        replies: list[object] = []
        await pair.bus.subscribe(relay_topic("b"), lambda _t, e: replies.append(e))
        request = {"op": "req", "from": "b", "session": "s1", "oid": ALICE, "call": 1}
        pair.bus.post(relay_topic("a"), {**request, "at": time.time(), "frame": b"\xc1garbage"})
        await until(lambda: len(replies) == 1, timeout=5)
        error = await back.next()
        assert isinstance(error, Error) and error.code.startswith("frame.")

        # Held up past the wait (the node was frozen): dropped, not served.
        frame = encode(wire.JoinRoom(room="r1"), 3)
        pair.bus.post(
            relay_topic("a"), {**request, "call": 2, "at": time.time() - 60, "frame": frame}
        )
        # One connection is one person: the same session naming another is ignored.
        pair.bus.post(
            relay_topic("a"),
            {**request, "call": 3, "oid": BORIS, "at": time.time(), "frame": frame},
        )
        # Shapes that are not the relay's are ignored, the relay goes on.
        for junk in ({"op": "req"}, {"op": "out", "session": 5}, {"op": "done"}, {"nothing": 1}):
            pair.bus.post(relay_topic("a"), junk)
            pair.bus.post(relay_topic("b"), junk)
        pair.bus.post(relay_topic("a"), {**request, "call": 4, "at": time.time(), "frame": frame})
        await until(lambda: any(e.get("call") == 4 for e in replies), timeout=5)
        answered = [e["call"] for e in replies if isinstance(e, dict) and "call" in e]
        assert answered == [1, 4]


async def test_when_the_rooms_node_dies_its_participants_here_are_told_they_are_away() -> None:
    async with Pair() as pair:
        socket = Socket()
        await pair.b.forward("a", "s1", ALICE, socket, wire.JoinRoom(room="r1"), 1)
        await socket.next()
        await socket.next()
        pair.alive.discard("a")
        await pair.b.check()
        away = await socket.next()
        assert isinstance(away, wire.ParticipantChanged)
        assert (away.person, away.change, away.state["status"]) == (ALICE, "away", "away")
        assert pair.b.elsewhere("s1", "r1") is None  # joining again goes where the room is now

        # And the other way: a connection's node dies, its session here ends.
        pair.alive.add("a")
        await pair.b.forward("a", "s2", BORIS, Socket(), wire.JoinRoom(room="r1"), 1)
        pair.log.clear()
        pair.alive.discard("b")
        await pair.a.check()
        await until(lambda: pair.log == [f"closed {BORIS}"], timeout=5)
        assert pair.a.remote_sessions == 0
