"""The field types of the protocol: every limit of every field, stated once.

A message's fields (:mod:`signaling.messages`, :mod:`~signaling.chat`,
:mod:`~signaling.safety`, :mod:`~signaling.rooms`) and the HTTP API's bodies
(:mod:`signaling.http`) are annotated with these types; msgspec enforces
their ``Meta`` when a frame or a body is decoded, and the exported JSON Schema
(``schema/zvonok.schema.json``) states them for other clients.  A limit that
two doors share is one name here, so it cannot differ between them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

MAX_SAFE_INT = 2**53 - 1  # the largest integer a JavaScript client holds exactly
MAX_CHAT_ID = 128  # characters of a chat id on the wire
MAX_POSITIONS = 10_000  # chats in one ``resume``, ``sync`` or ``synced`` map
MAX_TIME = 1e12  # Unix seconds (year 33658): every time and duration is at most this
MAX_TOKEN_LENGTH = 16 * 1024
MAX_CODE_LENGTH = 64
MAX_HUMAN_TEXT = 1024
MAX_TEXT_WIRE = 65_536  # characters; the server's own max_text (welcome.limits) is lower
MAX_KEY = 128  # characters of an idempotency key
MAX_EMOJI = 16  # characters of a reaction (a grapheme cluster may be several code points)
MAX_TITLE = 200  # characters of a group's or a room's title
MAX_SCHOOL_ID = 64  # characters of a school id (the roster allows 1 to 64)
MAX_CLASS_ID = 64  # characters of a roster class id
MAX_ROOM_ID = 64  # characters of a room id
MAX_PEOPLE = 500  # OIDs in one members list or presence query
MAX_REASON = 1000  # characters of a report's reason or a moderator's note
MAX_QUERY = 100  # characters of a people search
MAX_MUTE = 30 * 24 * 3600  # seconds: a mute lasts at most 30 days
MAX_STARTS_AT = 1e11  # Unix seconds: year 5138, far past any schedule
MAX_HISTORY_LIMIT = 200
DEFAULT_HISTORY_LIMIT = 50


def _text(lo: int, hi: int, description: str) -> Meta:
    return Meta(min_length=lo, max_length=hi, description=description)


# -- numbers ---------------------------------------------------------------------------

Int53 = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
"""A non-negative integer a JavaScript client holds exactly."""

Seq = Annotated[
    int, Meta(ge=0, le=MAX_SAFE_INT, description="a chat's sequence number (0: before the first)")
]
MessageId = Annotated[
    int, Meta(ge=0, le=MAX_SAFE_INT, description="the seq of the event that posted a message")
]
PositiveId = Annotated[int, Meta(ge=1, le=MAX_SAFE_INT)]
Oid = Annotated[int, Meta(ge=1, le=MAX_SAFE_INT, description="a person's ESIA OID")]
Time = Annotated[float, Meta(ge=0.0, le=MAX_TIME, description="Unix time, seconds")]
Seconds = Annotated[float, Meta(ge=0.0, le=MAX_TIME, description="seconds")]
StartsAt = Annotated[
    float, Meta(ge=0.0, le=MAX_STARTS_AT, description="Unix time the room is planned for")
]
HistoryLimit = Annotated[int, Meta(ge=1, le=MAX_HISTORY_LIMIT)]
MuteSeconds = Annotated[int, Meta(ge=1, le=MAX_MUTE, description="1 second to 30 days")]
Version = Annotated[int, Meta(ge=0, le=65535)]

# -- strings ---------------------------------------------------------------------------

ChatId = Annotated[str, _text(1, MAX_CHAT_ID, "a chat's id (opaque)")]
Key = Annotated[
    str, _text(1, MAX_KEY, "an idempotency key the client makes up (a UUID), reused on retry")
]
WireText = Annotated[str, _text(1, MAX_TEXT_WIRE, "a message's text (the server's limit is lower)")]
Emoji = Annotated[str, _text(1, MAX_EMOJI, "one emoji")]
Title = Annotated[str, _text(1, MAX_TITLE, "a group's or a room's title")]
SchoolId = Annotated[str, _text(1, MAX_SCHOOL_ID, "a roster school id")]
ClassId = Annotated[str, _text(1, MAX_CLASS_ID, "a roster class id")]
RoomId = Annotated[str, _text(1, MAX_ROOM_ID, "a room's id (opaque)")]
Token = Annotated[str, _text(1, MAX_TOKEN_LENGTH, "an ESIA access token (a JWT)")]
ClientName = Annotated[str, _text(1, 64, "the client's name and version, for logs")]
Code = Annotated[str, _text(1, MAX_CODE_LENGTH, "a stable error code")]
HumanText = Annotated[str, _text(0, MAX_HUMAN_TEXT, "a human explanation; do not parse it")]
Reason = Annotated[str, _text(1, MAX_REASON, "a report's reason or a moderator's note")]
Query = Annotated[str, _text(1, MAX_QUERY, "words of a person's name")]
EventKind = Annotated[str, _text(1, 32, "an event kind; a newer server may add kinds")]
Change = Annotated[str, _text(1, 32, "what changed; a newer server may add values")]

# -- collections -----------------------------------------------------------------------

Positions = Annotated[
    dict[ChatId, Seq],
    Meta(max_length=MAX_POSITIONS, description="chat id to the highest seq the client has seen"),
]
People = Annotated[list[Oid], Meta(max_length=MAX_PEOPLE)]
PeopleTuple = Annotated[tuple[Oid, ...], Meta(max_length=MAX_PEOPLE)]

# -- choices ---------------------------------------------------------------------------

RoomKind = Literal["lesson", "meeting"]
Source = Literal["camera", "microphone", "screen"]
PeerRole = Literal["pub", "sub"]  # the client's publishing and subscribing peer connections
TrackChange = Literal["added", "removed"]
Outcome = Literal["removed", "warned", "dismissed"]
ReportStatus = Literal["open", "resolved"]
