"""Lessons and parent meetings through the real server, over sockets on 127.0.0.1.

The SFU is replaced by :class:`FakeMedia`, which records what the room
service asks of it and reports tracks as the SFU does: these tests are about
who may do what and when (the policy, the waiting room, the host controls,
the grace, the attendance), not about peer connections.  Time moves only
when a test advances the manual clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.config import RoomsConfig
from server.rooms.keys import ROOMS
from server.rooms.media import (
    IceCandidate,
    MediaEvents,
    PeerRole,
    Source,
    TrackInfo,
    TrackSpec,
)
from server.roster.demo import DEMO_ROSTER
from signaling import rooms as r
from signaling.chat import ChatList, ChatRemoved, History, HistoryPage, ListChats
from signaling.client import Client, RequestError
from signaling.messages import Message
from tests.conftest import Running, ServerFactory
from tests.server.test_chats_ws import CLASS_TEACHER_5A, send
from tests.server.test_removal_catchup import move_to_5b, upload

pytestmark = pytest.mark.both_engines

CLASS_5A = "sosh-1-5a"
CLASS_5B = "sosh-1-5b"
ADMIN = 1000100001  # admin of sosh-1, teaches nothing
MATH_TEACHER = 1000100004  # teaches 5A, class teacher of 5B
TEACHER_5B_ONLY = 1000100005
ANYA, BORIS, ROMA, LIZA = 1000100101, 1000100102, 1000100103, 1000100104  # students of 5A
STUDENT_5B = 1000100126
PARENT_OF_ANYA = 1000100201  # also of a twin in 5B
PARENT_OF_BORIS = 1000100203
PARENT_OF_ROMA = 1000100205

KINDS: dict[str, Literal["audio", "video"]] = {
    "microphone": "audio",
    "camera": "video",
    "screen": "video",
}


class FakeMedia:
    """A stand-in for the SFU (``server.rooms.media.RoomMedia``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.events: dict[str, MediaEvents] = {}
        self.published: dict[str, dict[str, TrackInfo]] = {}
        self.muted: dict[tuple[str, int], set[str]] = {}

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == name]

    async def open_room(self, room_id: str, events: MediaEvents) -> None:
        self.calls.append(("open_room", room_id))
        self.events[room_id] = events
        self.published.setdefault(room_id, {})

    async def close_room(self, room_id: str) -> None:
        self.calls.append(("close_room", room_id))
        self.events.pop(room_id, None)
        self.published.pop(room_id, None)

    async def publish(
        self, room_id: str, participant: int, sdp: str, tracks: Sequence[TrackSpec]
    ) -> str:
        self.calls.append(("publish", room_id, participant, [t.source for t in tracks]))
        for spec in tracks:
            info = TrackInfo(
                f"{participant}.{spec.source}", participant, spec.source, KINDS[spec.source]
            )
            self.published[room_id][info.track_id] = info
            self.events[room_id].track_added(room_id, info)
        return f"answer to {sdp}"

    async def unpublish(self, room_id: str, participant: int, source: Source) -> None:
        self.calls.append(("unpublish", room_id, participant, source))
        self._end(room_id, lambda t: t.owner == participant and t.source == source)

    def _end(self, room_id: str, which: Any) -> None:
        tracks = self.published.get(room_id, {})
        for track_id, info in list(tracks.items()):
            if which(info):
                del tracks[track_id]
                self.events[room_id].track_removed(room_id, info)

    async def subscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        self.calls.append(("subscribe", room_id, participant, list(track_ids)))
        self.events[room_id].subscriber_offer(room_id, participant, f"offer {','.join(track_ids)}")

    async def unsubscribe(self, room_id: str, participant: int, track_ids: Sequence[str]) -> None:
        self.calls.append(("unsubscribe", room_id, participant, list(track_ids)))

    async def answer(self, room_id: str, participant: int, sdp: str) -> None:
        self.calls.append(("answer", room_id, participant, sdp))

    async def add_candidate(
        self, room_id: str, participant: int, pc: PeerRole, candidate: IceCandidate | None
    ) -> None:
        self.calls.append(("add_candidate", room_id, participant, pc, candidate))

    async def show(self, room_id: str, participant: int, track_ids: Sequence[str] | None) -> None:
        self.calls.append(("show", room_id, participant, track_ids))

    async def set_muted(self, room_id: str, participant: int, source: Source, muted: bool) -> None:
        self.calls.append(("set_muted", room_id, participant, source, muted))
        sources = self.muted.setdefault((room_id, participant), set())
        if muted:
            sources.add(source)
        else:
            sources.discard(source)

    async def leave(self, room_id: str, participant: int) -> None:
        self.calls.append(("leave", room_id, participant))
        self.muted.pop((room_id, participant), None)
        self._end(room_id, lambda t: t.owner == participant)

    def tracks(self, room_id: str) -> list[TrackInfo]:
        return list(self.published.get(room_id, {}).values())

    def fail(self, room_id: str, participant: int) -> None:
        """The participant's peer connections failed (as the SFU reports it)."""
        self.events[room_id].media_failed(room_id, participant)


@pytest.fixture
def media() -> FakeMedia:
    return FakeMedia()


@pytest.fixture
async def zvonok(make_server: ServerFactory, clock: ManualClock, media: FakeMedia) -> Running:
    return await make_server(clock, media=media)


# -- helpers -------------------------------------------------------------------------


async def refused(client: Client, message: Message) -> str:
    with pytest.raises(RequestError) as caught:
        await client.request(message)
    return caught.value.code


async def lesson(zvonok: Running, host: int = CLASS_TEACHER_5A, **kw: Any) -> tuple[Client, str]:
    """A lesson of 5A started and entered by ``host``."""
    teacher = await zvonok.connect(host)
    info = await teacher.start_room(kw.pop("class_id", CLASS_5A), "lesson", "Математика", **kw)
    joined = await teacher.join_room(info["id"])
    assert joined.you["role"] == "host"
    return teacher, info["id"]


async def meeting(zvonok: Running) -> tuple[Client, str]:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    info = await teacher.start_room(CLASS_5A, "meeting", "Родительское собрание")
    await teacher.join_room(info["id"])
    return teacher, info["id"]


async def enter(zvonok: Running, room: str, oid: int) -> Client:
    client = await zvonok.connect(oid)
    joined = await client.join_room(room)
    assert not joined.waiting
    return client


async def change(client: Client, person: int, what: str) -> r.ParticipantChanged:
    """The next ``room.participant`` event about ``person`` with this change."""
    return await client.next_of(
        r.ParticipantChanged, where=lambda e: e.person == person and e.change == what
    )


async def each_of(client: Client, *kinds: type[Message]) -> dict[type[Message], Message]:
    """The next event of each of ``kinds``, in whatever order they come."""
    found: dict[type[Message], Message] = {}
    while len(found) < len(kinds):
        event = await client.next_event()
        if type(event) in kinds and type(event) not in found:
            found[type(event)] = event
    return found


# -- starting and joining -----------------------------------------------------------


async def test_a_teacher_starts_a_lesson_and_a_student_of_the_class_joins(
    zvonok: Running, media: FakeMedia
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    info = await teacher.start_room(CLASS_5A, "lesson", "  Математика  ")
    assert (info["kind"], info["class_id"], info["school_id"]) == ("lesson", CLASS_5A, "sosh-1")
    assert (info["title"], info["host"], info["state"]) == ("Математика", CLASS_TEACHER_5A, "open")
    assert info["chat"].startswith("group:")
    room = info["id"]
    mine = await teacher.join_room(room)
    assert (mine.you["role"], mine.you["status"], mine.resumed, mine.waiting) == (
        "host",
        "present",
        False,
        False,
    )
    assert mine.chat == info["chat"] and mine.ice_servers == []
    assert ("open_room", room) in media.calls

    anya = await zvonok.connect(ANYA)
    joined = await anya.join_room(room)
    assert joined.you == {
        "person": ANYA,
        "name": "Белов Артём Дмитриевич",
        "role": "student",
        "status": "present",
        "hand": False,
        "muted": [],
        "forbidden": [],
    }
    assert {p["person"]: p["role"] for p in joined.participants} == {
        CLASS_TEACHER_5A: "host",
        ANYA: "student",
    }
    assert joined.room["participants"] == 2 and joined.chat == info["chat"]
    event = await change(teacher, ANYA, "joined")
    assert event.room == room and event.state["role"] == "student"
    # Listing the class shows the lesson to both.
    assert [x["id"] for x in await anya.list_rooms(CLASS_5A)] == [room]
    assert room in [x["id"] for x in await teacher.list_rooms()]


async def test_who_may_start_and_join_follows_the_policy(zvonok: Running) -> None:
    teacher, room = await lesson(zvonok)
    # A student of another class, a parent (of a lesson), a stranger to 5A's school roles.
    for oid in (STUDENT_5B, PARENT_OF_BORIS):
        client = await zvonok.connect(oid)
        assert await refused(client, r.JoinRoom(room=room)) == "room.forbidden"
    # Any teacher of the school may join, as staff.
    other = await enter(zvonok, room, TEACHER_5B_ONLY)
    assert (await other.join_room(room)).you["role"] == "staff"
    # A student may not join a meeting; a parent of the class may.
    _, parents = await meeting(zvonok)
    anya = await zvonok.connect(ANYA)
    assert await refused(anya, r.JoinRoom(room=parents)) == "room.forbidden"
    mum = await zvonok.connect(PARENT_OF_BORIS)
    assert (await mum.join_room(parents)).waiting
    # Starting: the class's teachers and the school's admins only.
    start = r.StartRoom(class_id=CLASS_5A, kind="lesson", title="Урок")
    assert await refused(anya, start) == "room.forbidden"
    assert await refused(mum, r.StartRoom(class_id=CLASS_5A, kind="meeting", title="x")) == (
        "room.forbidden"
    )
    assert await refused(other, start) == "room.forbidden"  # teaches 5B only
    admin = await zvonok.connect(ADMIN)
    assert (await admin.start_room(CLASS_5A, "meeting", "Собрание"))["host"] == ADMIN
    assert await refused(teacher, r.StartRoom(class_id="no-such", kind="lesson", title="x")) == (
        "room.invalid"
    )
    assert await refused(teacher, r.StartRoom(class_id=CLASS_5A, kind="lesson", title="  ")) == (
        "room.invalid"
    )
    assert await refused(anya, r.JoinRoom(room="nope")) == "room.not_found"
    # Students see the lessons of their class, not its meetings.
    assert {x["kind"] for x in await anya.list_rooms(CLASS_5A)} == {"lesson"}
    assert {x["kind"] for x in await mum.list_rooms()} == {"meeting"}


async def test_a_scheduled_room_opens_when_its_host_joins(
    zvonok: Running, clock: ManualClock
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    info = await teacher.start_room(CLASS_5A, "lesson", "Завтра", starts_at=clock.time() + 3600)
    assert (info["state"], info["started_at"]) == ("scheduled", None)
    anya = await zvonok.connect(ANYA)
    assert await refused(anya, r.JoinRoom(room=info["id"])) == "room.not_started"
    assert zvonok.app[ROOMS].live == 0  # a refusal leaves no room in memory
    clock.advance(3000)  # the host may open it early
    opened = await teacher.join_room(info["id"])
    assert (opened.room["state"], opened.room["started_at"]) == ("open", clock.time())
    assert (await anya.join_room(info["id"])).you["role"] == "student"


async def test_a_full_room_refuses_guests_but_not_its_host(
    make_server: ServerFactory, clock: ManualClock, media: FakeMedia
) -> None:
    zvonok = await make_server(clock, media=media, rooms=RoomsConfig(max_participants=2))
    teacher, room = await lesson(zvonok)
    students = [await enter(zvonok, room, ANYA), await enter(zvonok, room, BORIS)]
    roma = await zvonok.connect(ROMA)
    assert await refused(roma, r.JoinRoom(room=room)) == "room.full"
    await teacher.leave_room(room)
    await teacher.join_room(room)  # the host always gets in
    for client in (teacher, *students):
        await client.leave_room(room)
    assert zvonok.app[ROOMS].live == 0 and ("close_room", room) in media.calls


# -- the waiting room -----------------------------------------------------------------


async def test_parents_wait_until_the_host_admits_them_one_then_all(
    zvonok: Running, clock: ManualClock
) -> None:
    teacher, room = await meeting(zvonok)
    mum = await zvonok.connect(PARENT_OF_BORIS)
    waiting = await mum.join_room(room)
    assert waiting.waiting and waiting.you["status"] == "waiting"
    assert (waiting.participants, waiting.tracks, waiting.ice_servers, waiting.chat) == (
        [],
        [],
        [],
        None,
    )
    told = await mum.next_of(r.Waiting)
    assert [p["person"] for p in told.people] == [PARENT_OF_BORIS]
    queue = await teacher.next_of(r.Waiting)
    assert [p["person"] for p in queue.people] == [PARENT_OF_BORIS]
    # A waiter is in nothing yet: no requests about the room, no chat.
    assert await refused(mum, r.RaiseHand(room=room, up=True)) == "room.not_in_room"
    chat = waiting.room["chat"]
    assert await refused(mum, History(chat=chat)) == "chat.not_found"

    clock.advance(120)  # attendance counts from admission, not from the waiting room
    await teacher.room_request(r.HostAdmit(room=room, person=PARENT_OF_BORIS))
    admitted = await mum.next_of(r.RoomAdmitted)
    assert not admitted.waiting and admitted.chat == chat
    assert admitted.you["role"] == "parent" and len(admitted.participants) == 2
    await change(teacher, PARENT_OF_BORIS, "joined")
    assert (await teacher.next_of(r.Waiting)).people == []

    others = [await zvonok.connect(oid) for oid in (PARENT_OF_ANYA, PARENT_OF_ROMA)]
    for client in others:
        assert (await client.join_room(room)).waiting
    queue = await teacher.next_of(r.Waiting, where=lambda e: len(e.people) == 2)
    assert [p["person"] for p in queue.people] == [PARENT_OF_ANYA, PARENT_OF_ROMA]
    await teacher.room_request(r.HostAdmit(room=room, all=True))
    for client in others:
        assert not (await client.next_of(r.RoomAdmitted)).waiting
    assert await refused(teacher, r.HostAdmit(room=room, person=PARENT_OF_ANYA)) == "room.invalid"
    # Once admitted, a parent who leaves comes back without waiting.
    await mum.leave_room(room)
    assert not (await mum.join_room(room)).waiting

    # Attendance: the host from the start, each parent from admission (the
    # 120 s in the waiting room do not count); Boris's mother twice.
    rows = [
        (row.person, row.role.value, row.joined_at)
        for row in await zvonok.app[STORE].room_attendance(room)
    ]
    now = clock.time()
    assert rows == [
        (CLASS_TEACHER_5A, "host", now - 120),
        (PARENT_OF_ANYA, "parent", now),
        (PARENT_OF_BORIS, "parent", now),
        (PARENT_OF_BORIS, "parent", now),
        (PARENT_OF_ROMA, "parent", now),
    ]


async def test_a_waiting_parent_is_refused_and_cannot_come_back(zvonok: Running) -> None:
    teacher, room = await meeting(zvonok)
    mum = await zvonok.connect(PARENT_OF_BORIS)
    await mum.join_room(room)
    await teacher.room_request(r.HostRemove(room=room, person=PARENT_OF_BORIS))
    removed = await mum.next_of(r.Removed)
    assert (removed.room, removed.reason) == (room, "host")
    assert await refused(mum, r.JoinRoom(room=room)) == "room.removed"


# -- host controls ----------------------------------------------------------------------


async def test_a_forbidden_microphone_stays_off_on_the_server(
    zvonok: Running, media: FakeMedia
) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    await teacher.room_request(r.HostMute(room=room, person=ANYA, source="microphone", forbid=True))
    event = await change(anya, ANYA, "forbidden")
    assert (event.state["muted"], event.state["forbidden"]) == (["microphone"], ["microphone"])
    assert media.muted[(room, ANYA)] == {"microphone"}

    unmute = r.MuteSelf(room=room, source="microphone", muted=False)
    assert await refused(anya, unmute) == "room.unmute_forbidden"
    offer = r.RtcPublish(room=room, sdp="v=0", tracks=(r.PublishTrack("0", "microphone"),))
    assert await refused(anya, offer) == "room.unmute_forbidden"
    assert media.called("publish") == []
    assert media.muted[(room, ANYA)] == {"microphone"}
    # The camera is not forbidden.
    assert await anya.publish(room, "v=1", [("1", "camera")]) == "answer to v=1"

    await teacher.room_request(r.HostAllow(room=room, person=ANYA, source="microphone"))
    allowed = await change(anya, ANYA, "allowed")
    assert allowed.state["forbidden"] == [] and allowed.state["muted"] == ["microphone"]
    # Allowed is not unmuted: a published microphone stays muted until she unmutes.
    assert await anya.publish(room, "v=2", [("0", "microphone")]) == "answer to v=2"
    assert media.muted[(room, ANYA)] == {"microphone"}
    await anya.room_request(unmute)
    assert (await change(teacher, ANYA, "unmuted")).state["muted"] == []
    assert media.muted[(room, ANYA)] == set()


async def test_mute_all_stop_screen_and_hands(zvonok: Running, media: FakeMedia) -> None:
    teacher, room = await lesson(zvonok)
    anya, boris = await enter(zvonok, room, ANYA), await enter(zvonok, room, BORIS)
    await boris.room_request(r.RaiseHand(room=room, up=True))
    assert (await change(anya, BORIS, "hand")).state["hand"] is True
    await anya.room_request(r.RaiseHand(room=room, up=True))
    await change(teacher, ANYA, "hand")

    await teacher.room_request(r.HostMuteAll(room=room, forbid=True))
    for oid in (ANYA, BORIS):
        assert (await change(teacher, oid, "forbidden")).state["forbidden"] == ["microphone"]
        assert media.muted[(room, oid)] == {"microphone"}
    assert (room, CLASS_TEACHER_5A) not in media.muted  # the host keeps the floor
    assert await refused(boris, r.MuteSelf(room=room, source="microphone", muted=False)) == (
        "room.unmute_forbidden"
    )

    await boris.publish(room, "v=0", [("0", "screen")])
    added = await teacher.next_of(r.TrackChanged)
    assert (added.change, added.track["owner"], added.track["source"]) == ("added", BORIS, "screen")
    await teacher.room_request(r.HostStopScreen(room=room, person=BORIS))
    assert media.called("unpublish") == [(room, BORIS, "screen")]
    removed = await anya.next_of(r.TrackChanged, where=lambda e: e.change == "removed")
    assert removed.track["id"] == added.track["id"]

    await teacher.room_request(r.HostLowerHands(room=room, person=BORIS))
    assert (await change(anya, BORIS, "hand")).state["hand"] is False
    await teacher.room_request(r.HostLowerHands(room=room))
    lowered = await boris.next_of(
        r.ParticipantChanged, where=lambda e: e.person == ANYA and not e.state["hand"]
    )
    assert lowered.change == "hand"


async def test_a_removed_participant_leaves_room_chat_and_media_for_good(
    zvonok: Running, media: FakeMedia
) -> None:
    teacher, room = await lesson(zvonok)
    anya, boris = await enter(zvonok, room, ANYA), await enter(zvonok, room, BORIS)
    joined = await boris.join_room(room)
    await send(boris, joined.chat or "", "я тут")
    await teacher.room_request(r.HostRemove(room=room, person=BORIS))
    told = await each_of(boris, r.Removed, ChatRemoved)
    assert told[r.Removed] == r.Removed(room=room, reason="host")
    assert told[ChatRemoved] == ChatRemoved(chat=joined.chat or "")
    gone = await change(anya, BORIS, "removed")
    assert gone.state["status"] == "left"
    assert (room, BORIS) in media.called("leave")
    assert await refused(boris, r.JoinRoom(room=room)) == "room.removed"
    again = await zvonok.connect(BORIS)
    assert await refused(again, r.JoinRoom(room=room)) == "room.removed"
    assert await refused(teacher, r.HostRemove(room=room, person=BORIS)) == "room.invalid"
    assert await refused(teacher, r.HostRemove(room=room, person=CLASS_TEACHER_5A)) == (
        "room.invalid"
    )


async def test_the_host_ends_the_room_for_everyone(zvonok: Running, media: FakeMedia) -> None:
    teacher, room = await lesson(zvonok)
    students = [await enter(zvonok, room, oid) for oid in (ANYA, BORIS)]
    await teacher.room_request(r.HostEnd(room=room))
    for client in (teacher, *students):
        assert (await client.next_of(r.Ended)).room == room
    assert ("close_room", room) in media.calls
    assert await refused(students[0], r.JoinRoom(room=room)) == "room.ended"
    assert await refused(students[0], r.RaiseHand(room=room, up=True)) == "room.not_in_room"
    listed = {x["id"]: x for x in await teacher.list_rooms(CLASS_5A)}
    assert listed[room]["state"] == "ended"
    rows = await zvonok.app[STORE].room_attendance(room)
    assert len(rows) == 3 and all(row.left_at is not None for row in rows)


async def test_every_host_control_is_refused_to_a_participant(zvonok: Running) -> None:
    _, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    await enter(zvonok, room, BORIS)
    controls: list[Message] = [
        r.HostMute(room=room, person=BORIS, source="microphone"),
        r.HostAllow(room=room, person=BORIS, source="microphone"),
        r.HostMuteAll(room=room),
        r.HostStopScreen(room=room, person=BORIS),
        r.HostRemove(room=room, person=BORIS),
        r.HostLowerHands(room=room),
        r.HostAdmit(room=room, all=True),
        r.HostCohost(room=room, person=ANYA),
        r.HostEnd(room=room),
    ]
    for message in controls:
        assert await refused(anya, message) == "room.not_host", message.TYPE
    # Nothing happened: Boris is still in, the room is open.
    assert len((await anya.join_room(room)).participants) == 3


async def test_a_cohost_uses_the_controls(zvonok: Running, media: FakeMedia) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    math = await enter(zvonok, room, MATH_TEACHER)
    # Only someone who may host the class's lessons can be co-host.
    assert await refused(teacher, r.HostCohost(room=room, person=ANYA)) == "room.invalid"
    await teacher.room_request(r.HostCohost(room=room, person=MATH_TEACHER))
    assert (await change(anya, MATH_TEACHER, "role")).state["role"] == "cohost"
    await math.room_request(r.HostMute(room=room, person=ANYA, source="camera"))
    assert (await change(anya, ANYA, "muted")).state["muted"] == ["camera"]
    # A co-host does not name co-hosts, nor act on the host.
    assert await refused(math, r.HostCohost(room=room)) == "room.not_host"
    assert await refused(math, r.HostMute(room=room, person=CLASS_TEACHER_5A, source="camera")) == (
        "room.invalid"
    )
    await math.room_request(r.HostEnd(room=room))
    assert (await anya.next_of(r.Ended)).room == room


# -- media signaling --------------------------------------------------------------------


async def test_publish_subscribe_and_candidates_reach_the_sfu(
    zvonok: Running, media: FakeMedia
) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    answer = await teacher.publish(room, "offer-sdp", [("0", "microphone"), ("1", "camera")])
    assert answer == "answer to offer-sdp"
    added = [await anya.next_of(r.TrackChanged) for _ in range(2)]
    ids = [event.track["id"] for event in added]
    # A late joiner sees the tracks in its join reply.
    boris = await enter(zvonok, room, BORIS)
    assert sorted(t["id"] for t in (await boris.join_room(room)).tracks) == sorted(ids)

    await anya.room_request(r.Subscribe(room=room, tracks=tuple(ids)))
    offer = await anya.next_of(r.RtcOffer)
    assert (offer.room, offer.sdp) == (room, f"offer {','.join(ids)}")
    await anya.room_request(r.RtcAnswer(room=room, sdp="client answer"))
    candidate = r.Candidate("candidate:1 1 udp 1 10.0.0.2 5000 typ host", "0", 0)
    await anya.room_request(r.RtcCandidate(room=room, pc="sub", candidate=candidate))
    await anya.room_request(r.RtcCandidate(room=room, pc="sub", candidate=None))
    await anya.room_request(r.Show(room=room, tracks=(ids[1],)))
    await anya.room_request(r.Unsubscribe(room=room, tracks=(ids[0],)))
    assert media.called("answer") == [(room, ANYA, "client answer")]
    assert media.called("add_candidate") == [
        (room, ANYA, "sub", IceCandidate(candidate.candidate, "0", 0)),
        (room, ANYA, "sub", None),
    ]
    assert media.called("show") == [(room, ANYA, (ids[1],))]
    await teacher.room_request(r.Unpublish(room=room, source="camera"))
    assert (await anya.next_of(r.TrackChanged, where=lambda e: e.change == "removed")).track[
        "source"
    ] == "camera"
    # Not in the room: nothing reaches the SFU.
    roma = await zvonok.connect(ROMA)
    offer_msg = r.RtcPublish(room=room, sdp="x", tracks=(r.PublishTrack("0", "camera"),))
    assert await refused(roma, offer_msg) == "room.not_in_room"
    twice = r.RtcPublish(
        room=room, sdp="x", tracks=(r.PublishTrack("0", "camera"), r.PublishTrack("1", "camera"))
    )
    assert await refused(anya, twice) == "room.invalid"


# -- reconnect grace -----------------------------------------------------------------------


async def test_a_dropped_participant_gets_their_place_back_within_the_grace(
    zvonok: Running, clock: ManualClock, media: FakeMedia
) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    await anya.room_request(r.RaiseHand(room=room, up=True))
    await teacher.room_request(r.HostMute(room=room, person=ANYA, source="camera", forbid=True))
    await anya.close()  # the network fails
    away = await change(teacher, ANYA, "away")
    assert away.state["status"] == "away"
    assert (room, ANYA) in media.called("leave")

    clock.advance(29)
    anya = await zvonok.connect(ANYA)
    back = await anya.join_room(room)
    assert back.resumed and back.you["status"] == "present"
    assert (back.you["hand"], back.you["forbidden"]) == (True, ["camera"])
    assert (await change(teacher, ANYA, "back")).state["hand"] is True
    clock.advance(5)  # past the first grace: nothing happens, she is back
    await teacher.room_request(r.HostLowerHands(room=room, person=ANYA))
    assert (await change(anya, ANYA, "hand")).state["hand"] is False
    rows = [row for row in await zvonok.app[STORE].room_attendance(room) if row.person == ANYA]
    assert len(rows) == 1 and rows[0].left_at is None  # one unbroken interval

    # The host too: their rights come back with their place.
    await teacher.close()
    await change(anya, CLASS_TEACHER_5A, "away")
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    again = await teacher.join_room(room)
    assert again.resumed and again.you["role"] == "host"
    await teacher.room_request(r.HostMute(room=room, person=ANYA, source="microphone"))


async def test_after_the_grace_the_participant_has_left(
    zvonok: Running, clock: ManualClock
) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    clock.advance(60)
    dropped_at = clock.time()
    await anya.close()
    await change(teacher, ANYA, "away")
    clock.advance(30.5)
    left = await change(teacher, ANYA, "left")
    assert left.state["status"] == "left"
    [row] = [row for row in await zvonok.app[STORE].room_attendance(room) if row.person == ANYA]
    assert row.left_at == dropped_at and row.joined_at == dropped_at - 60
    anya = await zvonok.connect(ANYA)
    fresh = await anya.join_room(room)
    assert not fresh.resumed and fresh.you["hand"] is False


async def test_failed_media_starts_the_grace_too(zvonok: Running, media: FakeMedia) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    media.fail(room, ANYA)
    await change(teacher, ANYA, "away")
    assert (await change(anya, ANYA, "away")).state["status"] == "away"  # she is told
    assert await refused(anya, r.RaiseHand(room=room, up=True)) == "room.not_in_room"
    assert (await anya.join_room(room)).resumed  # the same socket rejoins
    await change(teacher, ANYA, "back")


async def test_joining_from_another_connection_moves_the_place(zvonok: Running) -> None:
    teacher, room = await lesson(zvonok)
    laptop = await enter(zvonok, room, ANYA)
    phone = await zvonok.connect(ANYA)
    moved = await phone.join_room(room)
    assert moved.resumed
    assert (await laptop.next_of(r.Removed)).reason == "elsewhere"
    assert await refused(laptop, r.RaiseHand(room=room, up=True)) == "room.not_in_room"
    await phone.room_request(r.RaiseHand(room=room, up=True))
    await laptop.close()  # the old connection closing does not take her away
    await phone.room_request(r.RaiseHand(room=room, up=False))
    assert [p["status"] for p in (await teacher.join_room(room)).participants] == [
        "present",
        "present",
    ]


# -- the room's chat ------------------------------------------------------------------------


async def test_participants_post_in_the_rooms_chat(zvonok: Running) -> None:
    teacher, room = await lesson(zvonok)
    anya = await enter(zvonok, room, ANYA)
    chat = (await anya.join_room(room)).chat
    assert chat is not None
    ack = await send(anya, chat, "Можно вопрос?")
    page = await teacher.request(History(chat=chat))
    assert isinstance(page, HistoryPage)
    assert [e["data"].get("text") for e in page.events if e["kind"] == "message"] == [
        "Можно вопрос?"
    ]
    assert ack.chat == chat
    # Someone who never entered cannot read it.
    boris = await zvonok.connect(BORIS)
    assert await refused(boris, History(chat=chat)) == "chat.not_found"


async def chat_count(client: Client) -> int:
    reply = await client.request(ListChats())
    assert isinstance(reply, ChatList)
    return len(reply.chats)


async def test_a_start_retried_with_its_key_gives_the_first_room_and_stores_nothing(
    zvonok: Running,
) -> None:
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    first = await teacher.start_room(CLASS_5A, "lesson", "Чтение", key="start-1")
    chats = await chat_count(teacher)
    # The retry comes over another connection (the first one dropped before its reply).
    again = await (await zvonok.connect(CLASS_TEACHER_5A)).start_room(
        CLASS_5A, "lesson", "Чтение", key="start-1"
    )
    assert again == first
    assert [x["id"] for x in await teacher.list_rooms(CLASS_5A)] == [first["id"]]
    assert await chat_count(teacher) == chats  # no second room chat
    # The same key for another start is refused; a new key is a new room.
    other = r.StartRoom(class_id=CLASS_5A, kind="lesson", title="Письмо", key="start-1")
    assert await refused(teacher, other) == "idempotency.conflict"
    second = await teacher.start_room(CLASS_5A, "lesson", "Чтение", key="start-2")
    assert second["id"] != first["id"]


async def test_a_student_moved_out_of_the_class_leaves_its_live_lesson(
    zvonok: Running, media: FakeMedia
) -> None:
    """Being in a room is a use of the right to join it: a roster upload that
    moves Anya to 5B takes her out of 5A's lesson at once (issue 12), and
    moving her back lets her in again."""
    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    _teacher, room = await lesson(zvonok)
    anya, boris = await enter(zvonok, room, ANYA), await enter(zvonok, room, BORIS)
    await upload(zvonok, move_to_5b(json.loads(json.dumps(roster)), ANYA))
    assert await anya.next_of(r.Removed) == r.Removed(room=room, reason="roster")
    gone = await change(boris, ANYA, "removed")
    assert gone.state["status"] == "left"
    assert (room, ANYA) in media.called("leave")
    assert await refused(anya, r.JoinRoom(room=room)) == "room.forbidden"
    await upload(zvonok, roster)
    assert (await anya.join_room(room)).room["id"] == room
