"""The room messages on the wire: golden round trips, the shared ``rtc.answer``,
and bad bodies refused with the field named and the request id kept."""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling import rooms as r
from signaling.codec import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Envelope,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from signaling.errors import MESSAGE_INVALID, ProtocolError
from signaling.messages import Message

ROOM = "Xb3kq9P0c1mZ2VtA"
INFO = {
    "id": ROOM,
    "kind": "lesson",
    "class_id": "sosh-1-5a",
    "school_id": "sosh-1",
    "title": "Математика",
    "host": 1000100003,
    "cohost": None,
    "starts_at": None,
    "created_at": 1.8e9,
    "started_at": 1.8e9,
    "ended_at": None,
    "chat": "group:x",
    "state": "open",
    "participants": 1,
}
"""A whole room: the rooms of server messages are typed (signaling.rooms.RoomRecord)."""
STATE = {
    "person": 1000100101,
    "name": "Белов Артём Дмитриевич",
    "role": "student",
    "status": "present",
    "hand": False,
    "muted": [],
    "forbidden": [],
}
TRACK = {"id": "1000100003.camera.1", "owner": 1000100003, "source": "camera", "kind": "video"}
SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
JOINED: dict[str, Any] = {
    "room": INFO,
    "you": STATE,
    "participants": [STATE],
    "tracks": [TRACK],
    "ice_servers": [{"urls": ["stun:stun.example:3478"]}],
    "chat": "group:x",
}

CLIENT_SAMPLES: list[Message] = [
    r.StartRoom(class_id="sosh-1-5a", kind="lesson", title="Математика"),
    r.StartRoom(class_id="sosh-1-5a", kind="meeting", title="Собрание", starts_at=1.8e9),
    r.ListRooms(),
    r.ListRooms(class_id="sosh-1-5a"),
    r.JoinRoom(room=ROOM),
    r.LeaveRoom(room=ROOM),
    r.RaiseHand(room=ROOM, up=True),
    r.MuteSelf(room=ROOM, source="microphone", muted=False),
    r.HostMute(room=ROOM, person=1000100101, source="camera", forbid=True),
    r.HostAllow(room=ROOM, person=1000100101, source="camera"),
    r.HostMuteAll(room=ROOM),
    r.HostMuteAll(room=ROOM, forbid=True),
    r.HostStopScreen(room=ROOM, person=1000100101),
    r.HostRemove(room=ROOM, person=1000100101),
    r.HostLowerHands(room=ROOM),
    r.HostLowerHands(room=ROOM, person=1000100101),
    r.HostAdmit(room=ROOM, person=1000100201),
    r.HostAdmit(room=ROOM, all=True),
    r.HostCohost(room=ROOM, person=1000100004),
    r.HostCohost(room=ROOM),
    r.HostEnd(room=ROOM),
    r.RtcPublish(
        room=ROOM,
        sdp=SDP,
        tracks=(r.PublishTrack("0", "microphone"), r.PublishTrack("1", "camera")),
    ),
    r.RtcAnswer(room=ROOM, sdp=SDP),
    r.RtcCandidate(
        room=ROOM,
        pc="pub",
        candidate=r.Candidate("candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host", "0", 0),
    ),
    r.RtcCandidate(room=ROOM, pc="sub", candidate=None),
    r.Unpublish(room=ROOM, source="screen"),
    r.Subscribe(room=ROOM, tracks=(TRACK["id"],)),
    r.Unsubscribe(room=ROOM, tracks=(TRACK["id"],)),
    r.Show(room=ROOM, tracks=(TRACK["id"],)),
    r.Show(room=ROOM, tracks=None),
]

SERVER_SAMPLES: list[Message] = [
    r.RoomInfo(room=INFO),
    r.RoomList(rooms=[INFO]),
    r.RoomOk(room=ROOM),
    r.RoomJoined(**JOINED),
    r.RoomJoined(
        room=INFO, you=STATE, participants=[], tracks=[], ice_servers=[], chat=None, waiting=True
    ),
    r.RoomJoined(**JOINED, resumed=True),
    r.RoomAdmitted(**JOINED),
    r.RtcAnswer(room=ROOM, sdp=SDP),
    r.RtcOffer(room=ROOM, sdp=SDP),
    r.ParticipantChanged(room=ROOM, person=1000100101, change="hand", state=STATE),
    r.TrackChanged(room=ROOM, change="added", track=TRACK),
    r.Speaking(room=ROOM, people=[1000100003, 1000100101]),
    r.Waiting(room=ROOM, people=[{"person": 1000100201, "name": "Белова", "since": 1.8e9}]),
    r.Removed(room=ROOM, reason="host"),
    r.Ended(room=ROOM),
]


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=lambda m: m.TYPE)
@pytest.mark.parametrize("request_id", [None, 7, "req-1"])
def test_client_room_messages_round_trip(message: Message, request_id: int | str | None) -> None:
    assert CLIENT_MESSAGES[message.TYPE] is type(message)
    assert decode_client_frame(encode(message, request_id)) == Envelope(message, request_id)


@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=lambda m: m.TYPE)
def test_server_room_messages_round_trip(message: Message) -> None:
    assert SERVER_MESSAGES[message.TYPE] is type(message)
    assert decode_server_frame(encode(message, 3)) == Envelope(message, 3)


def test_every_room_type_is_registered_in_the_right_direction() -> None:
    client = {m.TYPE for m in CLIENT_SAMPLES}
    server = {m.TYPE for m in SERVER_SAMPLES}
    assert client == {t for t in CLIENT_MESSAGES if t.startswith(("room.", "rtc.", "media."))}
    assert server == {t for t in SERVER_MESSAGES if t.startswith(("room.", "rtc.", "media."))}
    # rtc.answer is the one type of both directions: the same shape either way.
    assert CLIENT_MESSAGES["rtc.answer"] is SERVER_MESSAGES["rtc.answer"] is r.RtcAnswer
    for kind in ("room.joined", "room.participant", "rtc.offer", "room.ended", "room.ok"):
        frame = msgpack.packb({"type": kind, "body": {"room": ROOM}})
        with pytest.raises(ProtocolError) as caught:
            decode_client_frame(frame)
        assert caught.value.code == "message.unknown_type"


def test_golden_bytes_of_room_join() -> None:
    frame = encode(r.JoinRoom(room="r1"), 5)
    assert frame == bytes.fromhex(
        "83a474797065a9726f6f6d2e6a6f696ea2696405a4626f647981a4726f6f6da27231"
    )
    assert msgpack.unpackb(frame) == {"type": "room.join", "id": 5, "body": {"room": "r1"}}


def test_optional_fields_are_omitted_or_defaulted() -> None:
    assert r.StartRoom(class_id="c", kind="lesson", title="t").encode() == {
        "class": "c",
        "kind": "lesson",
        "title": "t",
    }
    assert r.ListRooms().encode() == {}
    assert r.HostLowerHands(room=ROOM).encode() == {"room": ROOM}
    frame = msgpack.packb(
        {"type": "room.host.mute", "body": {"room": ROOM, "person": 5, "source": "camera"}}
    )
    assert decode_client_frame(frame).message == r.HostMute(room=ROOM, person=5, source="camera")
    waiting = decode_server_frame(
        msgpack.packb(
            {
                "type": "room.joined",
                "body": {**JOINED, "chat": None},
            }
        )
    ).message
    assert isinstance(waiting, r.RoomJoined) and not waiting.waiting and not waiting.resumed


def _refused(kind: str, body: dict[str, object]) -> ProtocolError:
    frame = msgpack.packb({"type": kind, "id": 9, "body": body})
    with pytest.raises(ProtocolError) as caught:
        decode_client_frame(frame, max_size=1 << 20)
    return caught.value


PUB = [{"mid": "0", "source": "microphone"}]
START = {"class": "c", "kind": "lesson", "title": "t"}
CAND = "rtc.candidate.candidate"

BAD_CLIENT_BODIES: list[tuple[str, dict[str, object], str]] = [
    ("room.start", {"class": "c", "kind": "webinar", "title": "t"}, "room.start.kind"),
    ("room.start", {"class": "c", "kind": "lesson", "title": ""}, "room.start.title"),
    ("room.start", {"class": "c", "kind": "lesson", "title": "t" * 201}, "room.start.title"),
    ("room.start", {"kind": "lesson", "title": "t"}, "room.start.class"),
    ("room.start", {**START, "starts_at": -1}, "room.start.starts_at"),
    ("room.start", {**START, "starts_at": "9:00"}, "room.start.starts_at"),
    ("room.list", {"class": 5}, "room.list.class"),
    ("room.join", {}, "room.join.room"),
    ("room.join", {"room": "r" * 65}, "room.join.room"),
    ("room.leave", {"room": ""}, "room.leave.room"),
    ("room.hand", {"room": ROOM, "up": 1}, "room.hand.up"),
    ("room.mute", {"room": ROOM, "source": "speaker", "muted": True}, "room.mute.source"),
    ("room.mute", {"room": ROOM, "source": "camera"}, "room.mute.muted"),
    ("room.host.mute", {"room": ROOM, "person": 0, "source": "camera"}, "room.host.mute.person"),
    (
        "room.host.mute",
        {"room": ROOM, "person": 5, "source": "camera", "forbid": "yes"},
        "room.host.mute.forbid",
    ),
    ("room.host.allow", {"room": ROOM, "person": 5}, "room.host.allow.source"),
    ("room.host.mute_all", {"room": ROOM, "forbid": 1}, "room.host.mute_all.forbid"),
    ("room.host.stop_screen", {"room": ROOM}, "room.host.stop_screen.person"),
    ("room.host.remove", {"room": ROOM, "person": 2**53}, "room.host.remove.person"),
    ("room.host.lower_hands", {"room": ROOM, "person": -1}, "room.host.lower_hands.person"),
    ("room.host.admit", {"room": ROOM}, "room.host.admit.person"),
    ("room.host.admit", {"room": ROOM, "person": 5, "all": True}, "room.host.admit.person"),
    ("room.host.cohost", {"room": ROOM, "person": "x"}, "room.host.cohost.person"),
    ("room.host.end", {"room": None}, "room.host.end.room"),
    ("rtc.publish", {"room": ROOM, "sdp": SDP}, "rtc.publish.tracks"),
    ("rtc.publish", {"room": ROOM, "sdp": SDP, "tracks": PUB * 9}, "rtc.publish.tracks"),
    ("rtc.publish", {"room": ROOM, "sdp": SDP, "tracks": ["0"]}, "rtc.publish.tracks[0]"),
    (
        "rtc.publish",
        {"room": ROOM, "sdp": SDP, "tracks": [{"mid": "0", "source": "tv"}]},
        "rtc.publish.tracks[0].source",
    ),
    ("rtc.publish", {"room": ROOM, "sdp": "", "tracks": PUB}, "rtc.publish.sdp"),
    ("rtc.publish", {"room": ROOM, "sdp": "x" * 65_537, "tracks": PUB}, "rtc.publish.sdp"),
    ("rtc.answer", {"room": ROOM}, "rtc.answer.sdp"),
    ("rtc.candidate", {"room": ROOM, "pc": "both", "candidate": None}, "rtc.candidate.pc"),
    ("rtc.candidate", {"room": ROOM, "pc": "pub", "candidate": "candidate:1"}, CAND),
    (
        "rtc.candidate",
        {"room": ROOM, "pc": "pub", "candidate": {"sdp_mid": "0"}},
        f"{CAND}.candidate",
    ),
    (
        "rtc.candidate",
        {"room": ROOM, "pc": "pub", "candidate": {"candidate": "c", "sdp_mline_index": 5000}},
        f"{CAND}.sdp_mline_index",
    ),
    (  # a candidate for no section: addIceCandidate refuses it, so does the codec
        "rtc.candidate",
        {
            "room": ROOM,
            "pc": "pub",
            "candidate": {"candidate": "candidate:1 1 udp 1 ::1 9 typ host"},
        },
        f"{CAND}.sdp_mid",
    ),
    (
        "rtc.candidate",
        {
            "room": ROOM,
            "pc": "sub",
            "candidate": {"candidate": "c", "sdp_mid": None, "sdp_mline_index": None},
        },
        f"{CAND}.sdp_mid",
    ),
    ("media.unpublish", {"room": ROOM, "source": "all"}, "media.unpublish.source"),
    ("media.subscribe", {"room": ROOM}, "media.subscribe.tracks"),
    ("media.subscribe", {"room": ROOM, "tracks": ["t"] * 201}, "media.subscribe.tracks"),
    ("media.unsubscribe", {"room": ROOM, "tracks": [""]}, "media.unsubscribe.tracks[0]"),
    ("media.show", {"room": ROOM, "tracks": [7]}, "media.show.tracks[0]"),
]


@pytest.mark.parametrize(("kind", "body", "field"), BAD_CLIENT_BODIES)
def test_bad_room_bodies_name_the_field_and_keep_the_request_id(
    kind: str, body: dict[str, object], field: str
) -> None:
    error = _refused(kind, body)
    assert (error.code, error.request_id) == (MESSAGE_INVALID, 9)
    assert error.message.startswith(f"{field}:") or error.message.startswith(f"{field}["), (
        error.message
    )


def test_every_client_room_type_has_a_bad_body() -> None:
    bad = {kind for kind, _, _ in BAD_CLIENT_BODIES}
    assert bad == {m.TYPE for m in CLIENT_SAMPLES}


def test_the_limits_themselves_are_accepted() -> None:
    samples: list[Message] = [
        r.StartRoom(class_id="c" * 64, kind="meeting", title="т" * 200, starts_at=1e11),
        r.JoinRoom(room="r" * 64),
        r.RtcPublish(room=ROOM, sdp="v" * 60_000, tracks=(r.PublishTrack("m" * 32, "screen"),) * 8),
        r.Subscribe(room=ROOM, tracks=("t" * 128,) * 200),
        r.RtcCandidate(room=ROOM, pc="pub", candidate=r.Candidate("c", sdp_mid="0")),
        r.RtcCandidate(room=ROOM, pc="sub", candidate=r.Candidate("c", sdp_mline_index=1023)),
    ]
    for message in samples:
        assert decode_client_frame(encode(message), max_size=1 << 20).message == message


room_fields = ["room", "class", "kind", "title", "starts_at", "up", "source", "muted", "person"]
room_fields += ["forbid", "all", "sdp", "tracks", "pc", "candidate", "change", "state", "people"]
room_fields += ["you", "participants", "ice_servers", "chat", "waiting", "resumed", "reason"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ROOM_TYPES = sorted(
    t for t in {*CLIENT_MESSAGES, *SERVER_MESSAGES} if t.startswith(("room.", "rtc.", "media."))
)


@given(
    st.sampled_from(ROOM_TYPES),
    st.dictionaries(st.sampled_from(room_fields), json_values, max_size=6),
)
def test_arbitrary_room_bodies_never_raise_anything_else(kind: str, body: object) -> None:
    frame = msgpack.packb({"type": kind, "body": body})
    for decode in (decode_client_frame, decode_server_frame):
        with contextlib.suppress(ProtocolError):
            decode(frame)
