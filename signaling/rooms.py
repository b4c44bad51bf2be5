"""The room messages of the Zvonok protocol: video lessons and parent meetings.

Client requests and the reply each one gets::

    room.start              -> room.info          rtc.publish        -> rtc.answer
    room.list               -> room.list_result   rtc.answer         -> room.ok
    room.join               -> room.joined        rtc.candidate      -> room.ok
    room.leave, room.hand,  -> room.ok            media.unpublish    -> room.ok
    room.mute, room.host.*                        media.subscribe,   -> room.ok
                                                  media.unsubscribe,
                                                  media.show

Events the server sends on its own: ``rtc.offer`` (for the subscribing peer
connection), ``room.participant`` (a participant's state changed),
``room.track`` (a track was published or ended), ``room.speaking``,
``room.waiting`` (to the hosts: who waits; to a waiter: that they wait),
``room.admitted``, ``room.removed`` and ``room.ended``.

``rtc.answer`` is one type string in both directions, as ``typing`` is: the
server's answer to a publishing offer, and the client's answer to a
subscriber offer.  The flow, the fields and the error codes are in
``docs/protocol.md`` (section "Rooms"); who may do what is the server's
(``server/rooms``).  These classes check shapes and ranges only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .chat import MAX_KEY
from .fields import MAX_SAFE_INT, Body
from .messages import Message

ROOM_KINDS = ("lesson", "meeting")
SOURCES = ("camera", "microphone", "screen")
PEER_ROLES = ("pub", "sub")  # the client's publishing and subscribing peer connections
TRACK_CHANGES = ("added", "removed")

MAX_ROOM_ID = 64  # characters of a room id
MAX_CLASS_ID = 64  # characters of a roster class id
MAX_TITLE = 200  # characters of a room's title
MAX_SDP = 65_536  # characters of an SDP offer or answer (the frame limit binds first)
MAX_PUBLISH_TRACKS = 8  # tracks in one rtc.publish
MAX_MID = 32  # characters of an SDP media id
MAX_TRACK_ID = 128  # characters of a track id
MAX_TRACK_IDS = 200  # track ids in one media.subscribe, media.unsubscribe, media.show
MAX_CANDIDATE = 2048  # characters of one ICE candidate line
MAX_MLINE_INDEX = 1023  # an ICE candidate's sdp_mline_index
MAX_ROOMS = 100  # rooms in one room.list_result
MAX_PEOPLE = 1000  # participants, waiters or speakers in one event or reply
MAX_ICE_SERVERS = 16
MAX_CHANGE = 32  # characters of a participant change or a removal reason
MAX_STARTS_AT = 1e11  # Unix seconds: year 5138, far past any schedule


def _room(body: Body) -> str:
    return body.text("room", max_len=MAX_ROOM_ID)


def _person(body: Body) -> int:
    return body.integer("person", lo=1, hi=MAX_SAFE_INT)


def _opt_person(body: Body) -> int | None:
    return body.opt_integer("person", lo=1, hi=MAX_SAFE_INT)


def _choice(body: Body, key: str, allowed: tuple[str, ...]) -> str:
    value = body.text(key, max_len=32)
    if value not in allowed:
        raise body._fail(key, f"one of {', '.join(allowed)}")
    return value


def _source(body: Body) -> str:
    return _choice(body, "source", SOURCES)


def _sdp(body: Body) -> str:
    return body.text("sdp", max_len=MAX_SDP)


def _text_list(body: Body, key: str, *, max_items: int, max_len: int) -> list[str] | None:
    """An optional list of at most ``max_items`` strings of 1 to ``max_len`` characters."""
    value = body._get(key, False)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > max_items:
        raise body._fail(key, f"a list of at most {max_items} strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not 0 < len(item) <= max_len:
            raise body._fail(f"{key}[{index}]", f"a string of 1 to {max_len} characters")
    return value


def _track_ids(body: Body) -> list[str]:
    ids = _text_list(body, "tracks", max_items=MAX_TRACK_IDS, max_len=MAX_TRACK_ID)
    if ids is None:
        raise body._fail("tracks", f"a list of at most {MAX_TRACK_IDS} track ids")
    return ids


# --------------------------------------------------------------------------
# Client to server: rooms
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRoom(Message):
    """Start a lesson (for a class's students) or a parent meeting (for its
    parents), now or at ``starts_at``.  Reply ``room.info``.

    ``{"class": "sosh-1-5a", "kind": "lesson" | "meeting", "title": "...",
    "starts_at": unix?, "key": "..."?}``; the same ``key`` again returns the
    room the first start made.
    """

    TYPE: ClassVar[str] = "room.start"
    class_id: str
    kind: str
    title: str
    starts_at: float | None = None
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            class_id=body.text("class", max_len=MAX_CLASS_ID),
            kind=_choice(body, "kind", ROOM_KINDS),
            title=body.text("title", max_len=MAX_TITLE),
            starts_at=body.opt_number("starts_at", hi=MAX_STARTS_AT),
            key=body.opt_text("key", max_len=MAX_KEY),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"class": self.class_id, "kind": self.kind, "title": self.title}
        if self.starts_at is not None:
            out["starts_at"] = self.starts_at
        if self.key is not None:
            out["key"] = self.key
        return out


@dataclass(frozen=True, slots=True)
class ListRooms(Message):
    """Rooms of one class, or of all the person's classes (and children's).

    ``{"class": "sosh-1-5a"?}``; reply ``room.list_result``.
    """

    TYPE: ClassVar[str] = "room.list"
    class_id: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(class_id=body.opt_text("class", max_len=MAX_CLASS_ID))

    def encode(self) -> dict[str, Any]:
        return {} if self.class_id is None else {"class": self.class_id}


@dataclass(frozen=True, slots=True)
class _RoomOnly(Message):
    """A request that names only its room: ``{"room": "..."}``."""

    room: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room}


@dataclass(frozen=True, slots=True)
class JoinRoom(_RoomOnly):
    """Enter a room (or its waiting room), or take one's place back after a
    lost connection.  ``{"room"}``; reply ``room.joined``."""

    TYPE: ClassVar[str] = "room.join"


@dataclass(frozen=True, slots=True)
class LeaveRoom(_RoomOnly):
    """Leave a room or its waiting room.  ``{"room"}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "room.leave"


@dataclass(frozen=True, slots=True)
class RaiseHand(Message):
    """Raise (``up``) or lower one's hand.  ``{"room", "up": bool}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "room.hand"
    room: str
    up: bool

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), up=body.boolean("up"))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "up": self.up}


@dataclass(frozen=True, slots=True)
class MuteSelf(Message):
    """Mute or unmute one's own source.  Unmuting a source the host forbids is
    refused with ``room.unmute_forbidden``.

    ``{"room", "source": "camera" | "microphone" | "screen", "muted": bool}``;
    reply ``room.ok``.
    """

    TYPE: ClassVar[str] = "room.mute"
    room: str
    source: str
    muted: bool

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), source=_source(body), muted=body.boolean("muted"))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "source": self.source, "muted": self.muted}


# --------------------------------------------------------------------------
# Client to server: host controls (host and co-host only; room.not_host)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostMute(Message):
    """Mute a participant's source; with ``forbid`` they may not unmute it
    until ``room.host.allow``.  ``{"room", "person", "source", "forbid": false?}``"""

    TYPE: ClassVar[str] = "room.host.mute"
    room: str
    person: int
    source: str
    forbid: bool = False

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            room=_room(body),
            person=_person(body),
            source=_source(body),
            forbid=body.opt_boolean("forbid", False),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "person": self.person,
            "source": self.source,
            "forbid": self.forbid,
        }


@dataclass(frozen=True, slots=True)
class HostAllow(Message):
    """Let a participant unmute a forbidden source again (it stays muted until
    they unmute it).  ``{"room", "person", "source"}``"""

    TYPE: ClassVar[str] = "room.host.allow"
    room: str
    person: int
    source: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), person=_person(body), source=_source(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "person": self.person, "source": self.source}


@dataclass(frozen=True, slots=True)
class HostMuteAll(Message):
    """Mute every microphone but the hosts'; with ``forbid``, keep them muted.
    ``{"room", "forbid": false?}``"""

    TYPE: ClassVar[str] = "room.host.mute_all"
    room: str
    forbid: bool = False

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), forbid=body.opt_boolean("forbid", False))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "forbid": self.forbid}


@dataclass(frozen=True, slots=True)
class _RoomPerson(Message):
    """A host control about one person: ``{"room", "person"}``."""

    room: str
    person: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), person=_person(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "person": self.person}


@dataclass(frozen=True, slots=True)
class HostStopScreen(_RoomPerson):
    """Stop a participant's screen share.  ``{"room", "person"}``"""

    TYPE: ClassVar[str] = "room.host.stop_screen"


@dataclass(frozen=True, slots=True)
class HostRemove(_RoomPerson):
    """Remove a participant (or a waiter); they may not come back to this room.
    ``{"room", "person"}``"""

    TYPE: ClassVar[str] = "room.host.remove"


@dataclass(frozen=True, slots=True)
class HostLowerHands(Message):
    """Lower one participant's hand, or (without ``person``) everyone's.
    ``{"room", "person": oid?}``"""

    TYPE: ClassVar[str] = "room.host.lower_hands"
    room: str
    person: int | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), person=_opt_person(body))

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"room": self.room}
        if self.person is not None:
            out["person"] = self.person
        return out


@dataclass(frozen=True, slots=True)
class HostAdmit(Message):
    """Let one waiter (``person``) or every waiter (``all: true``) into a
    meeting.  Exactly one of the two.  ``{"room", "person"?, "all"?}``"""

    TYPE: ClassVar[str] = "room.host.admit"
    room: str
    person: int | None = None
    all: bool = False

    @classmethod
    def decode(cls, body: Body) -> Self:
        person, everyone = _opt_person(body), body.opt_boolean("all", False)
        if (person is None) == (not everyone):
            raise body._fail("person", "either a person or all: true, not both")
        return cls(room=_room(body), person=person, all=everyone)

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"room": self.room}
        if self.person is not None:
            out["person"] = self.person
        if self.all:
            out["all"] = True
        return out


@dataclass(frozen=True, slots=True)
class HostCohost(Message):
    """Name the co-host (the host only), or with ``person`` nil or absent, name
    none.  ``{"room", "person": oid?}``"""

    TYPE: ClassVar[str] = "room.host.cohost"
    room: str
    person: int | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), person=_opt_person(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "person": self.person}


@dataclass(frozen=True, slots=True)
class HostEnd(_RoomOnly):
    """End the room for everyone; nobody may join it again.  ``{"room"}``"""

    TYPE: ClassVar[str] = "room.host.end"


# --------------------------------------------------------------------------
# Client to server: media
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishTrack:
    """One track of a publishing offer: its SDP ``mid`` and what it carries."""

    mid: str
    source: str

    @classmethod
    def decode(cls, item: dict[str, Any], name: str) -> Self:
        body = Body(item, name)
        return cls(mid=body.text("mid", max_len=MAX_MID), source=_source(body))

    def encode(self) -> dict[str, Any]:
        return {"mid": self.mid, "source": self.source}


@dataclass(frozen=True, slots=True)
class RtcPublish(Message):
    """The client's offer for its publishing connection.  Reply ``rtc.answer``.

    ``{"room", "sdp": "v=0...", "tracks": [{"mid": "0", "source": "microphone"}, ...]}``
    """

    TYPE: ClassVar[str] = "rtc.publish"
    room: str
    sdp: str
    tracks: tuple[PublishTrack, ...]

    @classmethod
    def decode(cls, body: Body) -> Self:
        items = body.list_of_maps("tracks", MAX_PUBLISH_TRACKS)
        tracks = tuple(
            PublishTrack.decode(item, f"rtc.publish.tracks[{index}]")
            for index, item in enumerate(items)
        )
        return cls(room=_room(body), sdp=_sdp(body), tracks=tracks)

    def encode(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "sdp": self.sdp,
            "tracks": [track.encode() for track in self.tracks],
        }


@dataclass(frozen=True, slots=True)
class RtcAnswer(Message):
    """An SDP answer: from the server, the reply to ``rtc.publish``; from the
    client, its answer to an ``rtc.offer`` (reply ``room.ok``).

    ``{"room", "sdp": "v=0..."}``
    """

    TYPE: ClassVar[str] = "rtc.answer"
    room: str
    sdp: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), sdp=_sdp(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "sdp": self.sdp}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A trickled ICE candidate, as the browser's ``RTCIceCandidate`` gives it.

    It names its media section by ``sdp_mid`` or ``sdp_mline_index`` (at
    least one; with both, ``sdp_mid`` decides), as ``addIceCandidate``
    requires: a candidate for no section is refused here, not guessed.
    """

    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None

    @classmethod
    def decode(cls, item: dict[str, Any], name: str) -> Self:
        body = Body(item, name)
        decoded = cls(
            candidate=body.text("candidate", max_len=MAX_CANDIDATE),
            sdp_mid=body.opt_text("sdp_mid", max_len=MAX_MID),
            sdp_mline_index=body.opt_integer("sdp_mline_index", hi=MAX_MLINE_INDEX),
        )
        if decoded.sdp_mid is None and decoded.sdp_mline_index is None:
            raise body._fail("sdp_mid", "sdp_mid or sdp_mline_index (the candidate's section)")
        return decoded

    def encode(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "sdp_mid": self.sdp_mid,
            "sdp_mline_index": self.sdp_mline_index,
        }


@dataclass(frozen=True, slots=True)
class RtcCandidate(Message):
    """A trickled ICE candidate for one of the client's peer connections;
    ``candidate`` nil means the end of candidates.  Reply ``room.ok``.

    ``{"room", "pc": "pub" | "sub", "candidate": {"candidate": "candidate:...",
    "sdp_mid": "0"?, "sdp_mline_index": 0?} | nil}``
    """

    TYPE: ClassVar[str] = "rtc.candidate"
    room: str
    pc: str
    candidate: Candidate | None

    @classmethod
    def decode(cls, body: Body) -> Self:
        raw = body.opt_map("candidate")
        return cls(
            room=_room(body),
            pc=_choice(body, "pc", PEER_ROLES),
            candidate=None if raw is None else Candidate.decode(raw, "rtc.candidate.candidate"),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "pc": self.pc,
            "candidate": None if self.candidate is None else self.candidate.encode(),
        }


@dataclass(frozen=True, slots=True)
class Unpublish(Message):
    """Stop publishing a source.  ``{"room", "source"}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.unpublish"
    room: str
    source: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), source=_source(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "source": self.source}


@dataclass(frozen=True, slots=True)
class _RoomTracks(Message):
    """``{"room", "tracks": [track id, ...]}``"""

    room: str
    tracks: tuple[str, ...]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), tracks=tuple(_track_ids(body)))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "tracks": list(self.tracks)}


@dataclass(frozen=True, slots=True)
class Subscribe(_RoomTracks):
    """Receive these tracks on the subscribing connection; the server follows
    with an ``rtc.offer``.  ``{"room", "tracks": [id, ...]}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.subscribe"


@dataclass(frozen=True, slots=True)
class Unsubscribe(_RoomTracks):
    """Stop receiving these tracks.  ``{"room", "tracks": [id, ...]}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.unsubscribe"


@dataclass(frozen=True, slots=True)
class Show(Message):
    """The video tracks the client shows now (the server stops sending the
    others' video); ``tracks`` nil means all.  ``{"room", "tracks": [id, ...] | nil}``;
    reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.show"
    room: str
    tracks: tuple[str, ...] | None

    @classmethod
    def decode(cls, body: Body) -> Self:
        ids = _text_list(body, "tracks", max_items=MAX_TRACK_IDS, max_len=MAX_TRACK_ID)
        return cls(room=_room(body), tracks=None if ids is None else tuple(ids))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "tracks": None if self.tracks is None else list(self.tracks)}


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomInfo(Message):
    """One room: the reply to ``room.start``.

    ``{"room": {"id", "kind", "class_id", "school_id", "title", "host",
    "cohost", "starts_at", "created_at", "started_at", "ended_at", "chat",
    "state": "scheduled" | "open" | "ended", "participants"}}``
    """

    TYPE: ClassVar[str] = "room.info"
    room: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=body.map("room"))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room}


@dataclass(frozen=True, slots=True)
class RoomList(Message):
    """The reply to ``room.list``: ``{"rooms": [room, ...]}``, newest first."""

    TYPE: ClassVar[str] = "room.list_result"
    rooms: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(rooms=body.list_of_maps("rooms", MAX_ROOMS))

    def encode(self) -> dict[str, Any]:
        return {"rooms": self.rooms}


@dataclass(frozen=True, slots=True)
class RoomOk(_RoomOnly):
    """The reply to a room request that has nothing more to say: ``{"room"}``."""

    TYPE: ClassVar[str] = "room.ok"


@dataclass(frozen=True, slots=True)
class RoomJoined(Message):
    """The reply to ``room.join``.

    ``{"room": {...room info}, "you": {...participant}, "participants":
    [participant, ...], "tracks": [track, ...], "ice_servers": [...],
    "chat": chat id | nil, "waiting": bool, "resumed": bool}``.  A waiter
    gets no participants, tracks, ICE servers or chat until ``room.admitted``.
    """

    TYPE: ClassVar[str] = "room.joined"
    room: dict[str, Any]
    you: dict[str, Any]
    participants: list[dict[str, Any]]
    tracks: list[dict[str, Any]]
    ice_servers: list[dict[str, Any]]
    chat: str | None
    waiting: bool = False
    resumed: bool = False

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            room=body.map("room"),
            you=body.map("you"),
            participants=body.list_of_maps("participants", MAX_PEOPLE),
            tracks=body.list_of_maps("tracks", MAX_PEOPLE * len(SOURCES)),
            ice_servers=body.list_of_maps("ice_servers", MAX_ICE_SERVERS),
            chat=body.opt_text("chat", max_len=128),
            waiting=body.opt_boolean("waiting", False),
            resumed=body.opt_boolean("resumed", False),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "you": self.you,
            "participants": self.participants,
            "tracks": self.tracks,
            "ice_servers": self.ice_servers,
            "chat": self.chat,
            "waiting": self.waiting,
            "resumed": self.resumed,
        }


@dataclass(frozen=True, slots=True)
class RoomAdmitted(RoomJoined):
    """Event: the host let this waiter in.  The body is that of ``room.joined``
    (with ``waiting: false``)."""

    TYPE: ClassVar[str] = "room.admitted"


@dataclass(frozen=True, slots=True)
class RtcOffer(Message):
    """Event: the server's offer for the client's subscribing connection; the
    client answers with ``rtc.answer``.  ``{"room", "sdp"}``"""

    TYPE: ClassVar[str] = "rtc.offer"
    room: str
    sdp: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), sdp=_sdp(body))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "sdp": self.sdp}


@dataclass(frozen=True, slots=True)
class ParticipantChanged(Message):
    """Event: a participant's state changed.

    ``{"room", "person", "change": "joined" | "left" | "away" | "back" |
    "removed" | "muted" | "unmuted" | "forbidden" | "allowed" | "hand" |
    "role", "state": {...participant}}``; a newer server may add changes.
    """

    TYPE: ClassVar[str] = "room.participant"
    room: str
    person: int
    change: str
    state: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            room=_room(body),
            person=_person(body),
            change=body.text("change", max_len=MAX_CHANGE),
            state=body.map("state"),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "person": self.person,
            "change": self.change,
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class TrackChanged(Message):
    """Event: a track was published (``added``) or ended (``removed``).

    ``{"room", "change": "added" | "removed", "track": {"id", "owner",
    "source", "kind"}}``
    """

    TYPE: ClassVar[str] = "room.track"
    room: str
    change: str
    track: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            room=_room(body), change=_choice(body, "change", TRACK_CHANGES), track=body.map("track")
        )

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "change": self.change, "track": self.track}


@dataclass(frozen=True, slots=True)
class Speaking(Message):
    """Event: who speaks now, loudest first (ephemeral).  ``{"room", "people": [oid, ...]}``"""

    TYPE: ClassVar[str] = "room.speaking"
    room: str
    people: list[int]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), people=body.int_list("people", max_items=MAX_PEOPLE, lo=1))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "people": self.people}


@dataclass(frozen=True, slots=True)
class Waiting(Message):
    """Event: to the hosts, everyone in the waiting room now (each time it
    changes); to a waiter, that they wait (their own entry).

    ``{"room", "people": [{"person", "name", "since"}, ...]}``
    """

    TYPE: ClassVar[str] = "room.waiting"
    room: str
    people: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), people=body.list_of_maps("people", MAX_PEOPLE))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "people": self.people}


@dataclass(frozen=True, slots=True)
class Removed(Message):
    """Event: this connection is no longer in the room.

    ``{"room", "reason": "host" | "elsewhere" | "roster"}``: the host
    removed the person (who may not come back), the person joined the room
    from another connection, or a roster change took them out of the room's
    class (they may come back when the roster lets them again).
    """

    TYPE: ClassVar[str] = "room.removed"
    room: str
    reason: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(room=_room(body), reason=body.text("reason", max_len=MAX_CHANGE))

    def encode(self) -> dict[str, Any]:
        return {"room": self.room, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Ended(_RoomOnly):
    """Event: the host ended the room for everyone.  ``{"room"}``"""

    TYPE: ClassVar[str] = "room.ended"
