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

from typing import Annotated, ClassVar, Literal, NotRequired, TypedDict

import msgspec
from msgspec import Meta

from .fields import (
    MAX_CLASS_ID,
    MAX_ROOM_ID,
    MAX_STARTS_AT,
    MAX_TITLE,
    Change,
    ChatId,
    ClassId,
    Int53,
    Key,
    Oid,
    PeerRole,
    RoomId,
    RoomKind,
    SchoolId,
    Source,
    StartsAt,
    Time,
    Title,
    TrackChange,
)
from .schema import ClientMessage, FieldError, ServerMessage

__all__ = ["MAX_CLASS_ID", "MAX_ROOM_ID", "MAX_STARTS_AT", "MAX_TITLE", "RoomKind", "Source"]

ROOM_KINDS: tuple[RoomKind, ...] = ("lesson", "meeting")
SOURCES: tuple[Source, ...] = ("camera", "microphone", "screen")
PEER_ROLES: tuple[PeerRole, ...] = ("pub", "sub")
TRACK_CHANGES: tuple[TrackChange, ...] = ("added", "removed")

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

Sdp = Annotated[str, Meta(min_length=1, max_length=MAX_SDP, description="an SDP offer or answer")]
Mid = Annotated[str, Meta(min_length=1, max_length=MAX_MID, description="an SDP media id")]
TrackId = Annotated[str, Meta(min_length=1, max_length=MAX_TRACK_ID)]
TrackIds = Annotated[tuple[TrackId, ...], Meta(max_length=MAX_TRACK_IDS)]
Name = Annotated[str, Meta(min_length=1, max_length=602, description="a person's full name")]


# --------------------------------------------------------------------------
# Client to server: rooms
# --------------------------------------------------------------------------


class StartRoom(ClientMessage, frozen=True):
    """Start a lesson (for a class's students) or a parent meeting (for its
    parents), now or at ``starts_at``.  Reply ``room.info``.

    ``{"class": "sosh-1-5a", "kind": "lesson" | "meeting", "title": "...",
    "starts_at": unix?, "key": "..."?}``; the same ``key`` again returns the
    room the first start made.
    """

    TYPE: ClassVar[str] = "room.start"
    REPLY: ClassVar[tuple[str, ...]] = ("room.info",)
    class_id: ClassId = msgspec.field(name="class")
    kind: RoomKind
    title: Title
    starts_at: StartsAt | None = None
    key: Key | None = None


class ListRooms(ClientMessage, frozen=True):
    """Rooms of one class, or of all the person's classes (and children's).

    ``{"class": "sosh-1-5a"?}``; reply ``room.list_result``.
    """

    TYPE: ClassVar[str] = "room.list"
    REPLY: ClassVar[tuple[str, ...]] = ("room.list_result",)
    class_id: ClassId | None = msgspec.field(default=None, name="class")


class JoinRoom(ClientMessage, frozen=True):
    """Enter a room (or its waiting room), or take one's place back after a
    lost connection.  ``{"room"}``; reply ``room.joined``."""

    TYPE: ClassVar[str] = "room.join"
    REPLY: ClassVar[tuple[str, ...]] = ("room.joined",)
    room: RoomId


class LeaveRoom(ClientMessage, frozen=True):
    """Leave a room or its waiting room.  ``{"room"}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "room.leave"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId


class RaiseHand(ClientMessage, frozen=True):
    """Raise (``up``) or lower one's hand.  ``{"room", "up": bool}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "room.hand"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    up: bool


class MuteSelf(ClientMessage, frozen=True):
    """Mute or unmute one's own source.  Unmuting a source the host forbids is
    refused with ``room.unmute_forbidden``.

    ``{"room", "source": "camera" | "microphone" | "screen", "muted": bool}``;
    reply ``room.ok``.
    """

    TYPE: ClassVar[str] = "room.mute"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    source: Source
    muted: bool


# --------------------------------------------------------------------------
# Client to server: host controls (host and co-host only; room.not_host)
# --------------------------------------------------------------------------


class HostMute(ClientMessage, frozen=True, omit_defaults=False):
    """Mute a participant's source; with ``forbid`` they may not unmute it
    until ``room.host.allow``.  ``{"room", "person", "source", "forbid": false}``"""

    TYPE: ClassVar[str] = "room.host.mute"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid
    source: Source
    forbid: bool = False


class HostAllow(ClientMessage, frozen=True):
    """Let a participant unmute a forbidden source again (it stays muted until
    they unmute it).  ``{"room", "person", "source"}``"""

    TYPE: ClassVar[str] = "room.host.allow"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid
    source: Source


class HostMuteAll(ClientMessage, frozen=True, omit_defaults=False):
    """Mute every microphone but the hosts'; with ``forbid``, keep them muted.
    ``{"room", "forbid": false}``"""

    TYPE: ClassVar[str] = "room.host.mute_all"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    forbid: bool = False


class HostStopScreen(ClientMessage, frozen=True):
    """Stop a participant's screen share.  ``{"room", "person"}``"""

    TYPE: ClassVar[str] = "room.host.stop_screen"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid


class HostRemove(ClientMessage, frozen=True):
    """Remove a participant (or a waiter); they may not come back to this room.
    ``{"room", "person"}``"""

    TYPE: ClassVar[str] = "room.host.remove"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid


class HostLowerHands(ClientMessage, frozen=True):
    """Lower one participant's hand, or (without ``person``) everyone's.
    ``{"room", "person": oid?}``"""

    TYPE: ClassVar[str] = "room.host.lower_hands"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid | None = None


class HostAdmit(ClientMessage, frozen=True):
    """Let one waiter (``person``) or every waiter (``all: true``) into a
    meeting.  Exactly one of the two.  ``{"room", "person"?, "all"?}``"""

    TYPE: ClassVar[str] = "room.host.admit"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid | None = None
    all: bool = False

    def check(self) -> None:
        if (self.person is None) == (not self.all):
            raise FieldError("person", "either a person or all: true, not both")


class HostCohost(ClientMessage, frozen=True, omit_defaults=False):
    """Name the co-host (the host only), or with ``person`` nil or absent, name
    none.  ``{"room", "person": oid | nil}``"""

    TYPE: ClassVar[str] = "room.host.cohost"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    person: Oid | None = None


class HostEnd(ClientMessage, frozen=True):
    """End the room for everyone; nobody may join it again.  ``{"room"}``"""

    TYPE: ClassVar[str] = "room.host.end"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId


# --------------------------------------------------------------------------
# Client to server: media
# --------------------------------------------------------------------------


class PublishTrack(msgspec.Struct, frozen=True):
    """One track of a publishing offer: its SDP ``mid`` and what it carries."""

    mid: Mid
    source: Source


class RtcPublish(ClientMessage, frozen=True):
    """The client's offer for its publishing connection.  Reply ``rtc.answer``.

    ``{"room", "sdp": "v=0...", "tracks": [{"mid": "0", "source": "microphone"}, ...]}``
    """

    TYPE: ClassVar[str] = "rtc.publish"
    REPLY: ClassVar[tuple[str, ...]] = ("rtc.answer",)
    room: RoomId
    sdp: Sdp
    tracks: Annotated[tuple[PublishTrack, ...], Meta(max_length=MAX_PUBLISH_TRACKS)]


class RtcAnswer(ClientMessage, ServerMessage, frozen=True):
    """An SDP answer: from the server, the reply to ``rtc.publish``; from the
    client, its answer to an ``rtc.offer`` (reply ``room.ok``).

    ``{"room", "sdp": "v=0..."}``
    """

    TYPE: ClassVar[str] = "rtc.answer"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    sdp: Sdp


class Candidate(msgspec.Struct, frozen=True, omit_defaults=False):
    """A trickled ICE candidate, as the browser's ``RTCIceCandidate`` gives it.

    It names its media section by ``sdp_mid`` or ``sdp_mline_index`` (at
    least one; with both, ``sdp_mid`` decides), as ``addIceCandidate``
    requires: a candidate for no section is refused here, not guessed.
    """

    candidate: Annotated[str, Meta(min_length=1, max_length=MAX_CANDIDATE)]
    sdp_mid: Mid | None = None
    sdp_mline_index: Annotated[int, Meta(ge=0, le=MAX_MLINE_INDEX)] | None = None


class RtcCandidate(ClientMessage, frozen=True, omit_defaults=False):
    """A trickled ICE candidate for one of the client's peer connections;
    ``candidate`` nil means the end of candidates.  Reply ``room.ok``.

    ``{"room", "pc": "pub" | "sub", "candidate": {"candidate": "candidate:...",
    "sdp_mid": "0"?, "sdp_mline_index": 0?} | nil}``
    """

    TYPE: ClassVar[str] = "rtc.candidate"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    pc: PeerRole
    candidate: Candidate | None = None

    def check(self) -> None:
        found = self.candidate
        if found is not None and found.sdp_mid is None and found.sdp_mline_index is None:
            raise FieldError(
                "candidate.sdp_mid", "sdp_mid or sdp_mline_index (the candidate's section)"
            )


class Unpublish(ClientMessage, frozen=True):
    """Stop publishing a source.  ``{"room", "source"}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.unpublish"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    source: Source


class Subscribe(ClientMessage, frozen=True):
    """Receive these tracks on the subscribing connection; the server follows
    with an ``rtc.offer``.  ``{"room", "tracks": [id, ...]}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.subscribe"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    tracks: TrackIds


class Unsubscribe(ClientMessage, frozen=True):
    """Stop receiving these tracks.  ``{"room", "tracks": [id, ...]}``; reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.unsubscribe"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    tracks: TrackIds


class Show(ClientMessage, frozen=True, omit_defaults=False):
    """The video tracks the client shows now (the server stops sending the
    others' video); ``tracks`` nil means all.  ``{"room", "tracks": [id, ...] | nil}``;
    reply ``room.ok``."""

    TYPE: ClassVar[str] = "media.show"
    REPLY: ClassVar[tuple[str, ...]] = ("room.ok",)
    room: RoomId
    tracks: TrackIds | None = None


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------

RoomState = Literal["scheduled", "open", "ended"]
RoomRole = Literal["host", "cohost", "student", "parent", "staff"]
Status = Literal["present", "away", "waiting", "left"]


class RoomRecord(TypedDict):
    """A room: in ``room.info``, ``room.list_result``, ``room.joined`` and ``GET /api/v1/rooms``.

    Times are Unix times or nil; ``participants`` counts those in the room now,
    away ones included."""

    id: RoomId
    kind: RoomKind
    class_id: ClassId
    school_id: SchoolId
    title: Title
    host: Oid
    cohost: Oid | None
    starts_at: StartsAt | None
    created_at: Time
    started_at: Time | None
    ended_at: Time | None
    chat: ChatId
    state: RoomState
    participants: Int53


class Participant(TypedDict):
    """A participant's state: ``muted`` and ``forbidden`` list sources."""

    person: Oid
    name: Name
    role: RoomRole
    status: Status
    hand: bool
    muted: list[Source]
    forbidden: list[Source]


class Track(TypedDict):
    """A published track."""

    id: TrackId
    owner: Oid
    source: Source
    kind: Literal["audio", "video"]


class IceServer(TypedDict):
    """An ``RTCIceServer`` as a browser takes it: STUN URLs, or TURN's with credentials."""

    urls: list[Annotated[str, Meta(min_length=1, max_length=512)]]
    username: NotRequired[str]
    credential: NotRequired[str]
    credentialType: NotRequired[Literal["password"]]  # the browser's name for it


class Waiter(TypedDict):
    """Someone in a meeting's waiting room, since when (Unix time)."""

    person: Oid
    name: Name
    since: Time


class RoomInfo(ServerMessage, frozen=True):
    """One room: the reply to ``room.start``.  ``{"room": room}``"""

    TYPE: ClassVar[str] = "room.info"
    room: RoomRecord


class RoomList(ServerMessage, frozen=True):
    """The reply to ``room.list``: ``{"rooms": [room, ...]}``, newest first."""

    TYPE: ClassVar[str] = "room.list_result"
    rooms: Annotated[list[RoomRecord], Meta(max_length=MAX_ROOMS)]


class RoomOk(ServerMessage, frozen=True):
    """The reply to a room request that has nothing more to say: ``{"room"}``."""

    TYPE: ClassVar[str] = "room.ok"
    room: RoomId


class RoomJoined(ServerMessage, frozen=True, omit_defaults=False):
    """The reply to ``room.join``.

    ``{"room": room, "you": participant, "participants": [participant, ...],
    "tracks": [track, ...], "ice_servers": [...], "chat": chat id | nil,
    "waiting": bool, "resumed": bool}``.  A waiter gets no participants,
    tracks, ICE servers or chat until ``room.admitted``.
    """

    TYPE: ClassVar[str] = "room.joined"
    room: RoomRecord
    you: Participant
    participants: Annotated[list[Participant], Meta(max_length=MAX_PEOPLE)]
    tracks: Annotated[list[Track], Meta(max_length=MAX_PEOPLE * len(SOURCES))]
    ice_servers: Annotated[list[IceServer], Meta(max_length=MAX_ICE_SERVERS)]
    chat: ChatId | None = None
    waiting: bool = False
    resumed: bool = False


class RoomAdmitted(RoomJoined, frozen=True):
    """Event: the host let this waiter in.  The body is that of ``room.joined``
    (with ``waiting: false``)."""

    TYPE: ClassVar[str] = "room.admitted"


class RtcOffer(ServerMessage, frozen=True):
    """Event: the server's offer for the client's subscribing connection; the
    client answers with ``rtc.answer``.  ``{"room", "sdp"}``"""

    TYPE: ClassVar[str] = "rtc.offer"
    room: RoomId
    sdp: Sdp


class ParticipantChanged(ServerMessage, frozen=True):
    """Event: a participant's state changed.

    ``{"room", "person", "change": "joined" | "left" | "away" | "back" |
    "removed" | "muted" | "unmuted" | "forbidden" | "allowed" | "hand" |
    "role", "state": participant}``; a newer server may add changes.
    """

    TYPE: ClassVar[str] = "room.participant"
    room: RoomId
    person: Oid
    change: Change
    state: Participant


class TrackChanged(ServerMessage, frozen=True):
    """Event: a track was published (``added``) or ended (``removed``).

    ``{"room", "change": "added" | "removed", "track": {"id", "owner",
    "source", "kind"}}``
    """

    TYPE: ClassVar[str] = "room.track"
    room: RoomId
    change: TrackChange
    track: Track


class Speaking(ServerMessage, frozen=True):
    """Event: who speaks now, loudest first (ephemeral).  ``{"room", "people": [oid, ...]}``"""

    TYPE: ClassVar[str] = "room.speaking"
    room: RoomId
    people: Annotated[list[Oid], Meta(max_length=MAX_PEOPLE)]


class Waiting(ServerMessage, frozen=True):
    """Event: to the hosts, everyone in the waiting room now (each time it
    changes); to a waiter, that they wait (their own entry).

    ``{"room", "people": [{"person", "name", "since"}, ...]}``
    """

    TYPE: ClassVar[str] = "room.waiting"
    room: RoomId
    people: Annotated[list[Waiter], Meta(max_length=MAX_PEOPLE)]


class Removed(ServerMessage, frozen=True):
    """Event: this connection is no longer in the room.

    ``{"room", "reason": "host" | "elsewhere" | "roster"}``: the host
    removed the person (who may not come back), the person joined the room
    from another connection, or a roster change took them out of the room's
    class (they may come back when the roster lets them again).
    """

    TYPE: ClassVar[str] = "room.removed"
    room: RoomId
    reason: Change


class Ended(ServerMessage, frozen=True):
    """Event: the host ended the room for everyone.  ``{"room"}``"""

    TYPE: ClassVar[str] = "room.ended"
    room: RoomId
