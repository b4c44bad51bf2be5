"""The catalogue of error codes, and the WebSocket close codes.

Every code a client can see is one :class:`ErrorCode` here: its string (the
contract with every client: once published it never changes meaning), the
HTTP status it is answered with on the HTTP API, the WebSocket close code
when the server closes a socket with it as the reason, and what it means.
``server.errors.ZvonokError`` takes its status from here, the server closes
sockets with the close codes here, and the error tables of docs/protocol.md,
docs/api.md and docs/auth.md are generated from here (``make schema``;
``tests/signaling/test_export.py`` fails when one is stale), as is the
``errors`` list of the exported JSON Schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Literal


class CloseCode(IntEnum):
    """WebSocket close codes.  4xxx mirror the HTTP status of the same cause."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    PROTOCOL_ERROR = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    TIMEOUT = 4408
    TOO_MANY_REQUESTS = 4429
    INTERNAL_ERROR = 4500


Section = Literal["session", "auth", "sign_in", "chat", "room", "media", "http"]
"""Where the documentation lists a code: protocol.md's session table, auth.md's
refusals and its browser sign-in's codes, protocol.md's chat, room and media
tables, api.md's HTTP-only codes."""


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One stable error code and how it crosses each door."""

    code: str
    section: Section
    meaning: str
    http: int | None = 400  # None: never crosses the HTTP API
    close: CloseCode | None = None  # the close code when it closes a socket


_codes: dict[str, ErrorCode] = {}


def _code(
    code: str,
    section: Section,
    meaning: str,
    *,
    http: int | None = 400,
    close: CloseCode | None = None,
) -> str:
    if code in _codes:
        raise ValueError(f"error code {code!r} defined twice")
    _codes[code] = ErrorCode(code, section, meaning, http, close)
    return code


# -- the session: frames, messages, the hello, limits -----------------------------------

FRAME_MALFORMED: Final = _code(
    "frame.malformed",
    "session",
    "the frame is not exactly one msgpack value (junk, truncated, trailing bytes, nested too "
    "deep, invalid UTF-8, a map key that is not a string, an extension type)",
    http=None,
)
FRAME_TOO_LARGE: Final = _code(
    "frame.too_large", "session", "the frame is larger than `max_frame`", http=None
)
FRAME_NOT_BINARY: Final = _code("frame.not_binary", "session", "a text frame was sent", http=None)
MESSAGE_INVALID: Final = _code(
    "message.invalid",
    "session",
    "the envelope is not a map, `type` is missing, `id` or `body` has the wrong type, or a field "
    "of the body is missing or invalid (the message names the field)",
    http=None,
)
MESSAGE_UNKNOWN_TYPE: Final = _code(
    "message.unknown_type", "session", "the type is not one a client may send", http=None
)
HELLO_REQUIRED: Final = _code(
    "hello.required",
    "session",
    "a message other than `hello` before the session is established",
    http=None,
)
HELLO_REPEATED: Final = _code(
    "hello.repeated", "session", "`hello` on an established session", http=None
)
HELLO_TIMEOUT: Final = _code(
    "hello.timeout",
    "session",
    "(close reason) no `hello` within `hello_timeout`",
    http=None,
    close=CloseCode.TIMEOUT,
)
PROTOCOL_VERSION: Final = _code(
    "protocol.version",
    "session",
    "`hello` asked for a protocol version this server does not speak",
    http=None,
    close=CloseCode.PROTOCOL_ERROR,
)
PROTOCOL_ABUSE: Final = _code(
    "protocol.abuse",
    "session",
    "(close reason) too many bad frames",
    http=None,
    close=CloseCode.PROTOCOL_ERROR,
)
HEARTBEAT_TIMEOUT: Final = _code(
    "heartbeat.timeout",
    "session",
    "(close reason) the client stopped answering",
    http=None,
    close=CloseCode.TIMEOUT,
)
RATE_LIMITED: Final = _code(
    "rate.limited",
    "session",
    "frame rate exceeded, or too many changes (per person, over all their connections and the "
    "HTTP API); `retry_after` says when to try again",
    http=429,
)
SLOW_CONSUMER: Final = _code(
    "slow_consumer",
    "session",
    "(close reason) the client did not read its frames fast enough",
    http=None,
    close=CloseCode.TOO_MANY_REQUESTS,
)
SESSION_TOO_MANY: Final = _code(
    "session.too_many",
    "session",
    "(close reason) the person's oldest session, closed for a newer one past the server's "
    "limit of sessions per person",
    http=None,
    close=CloseCode.TOO_MANY_REQUESTS,
)
SERVER_SHUTDOWN: Final = _code(
    "server.shutdown",
    "session",
    "(close reason) the server is restarting; reconnect",
    http=None,
    close=CloseCode.GOING_AWAY,
)
SERVER_INTERNAL: Final = _code(
    "server.internal",
    "session",
    "an unexpected server fault; the request may be retried (details are in the server log only)",
    http=500,
    close=CloseCode.INTERNAL_ERROR,
)
STORE_UNAVAILABLE: Final = _code(
    "store.unavailable", "session", "the database is unreachable; retry later", http=503
)
AUTH_BUSY: Final = _code(
    "auth.busy",
    "session",
    "too many sign-ins are being verified at once: not a refusal of the token; the `hello` "
    "(or the request) may be retried after `retry_after`, and the socket stays open",
    http=503,
)
AUTH_PERSON_MISMATCH: Final = _code(
    "auth.person_mismatch", "session", "`reauth` with a token for another person", http=None
)
AUTH_UNKNOWN_PERSON: Final = _code(
    "auth.unknown_person",
    "session",
    "the token is good but its person is on no school's roster (404 from `POST /dev/token`)",
    http=403,
    close=CloseCode.FORBIDDEN,
)

# -- token refusals (server/auth/errors.py holds their fixed messages) -------------------


def _auth(code: str, meaning: str) -> str:
    return _code(code, "auth", meaning, http=401, close=CloseCode.UNAUTHORIZED)


AUTH_MISSING: Final = _auth(
    "auth.missing",
    "no token: no `Authorization` header over HTTP, or a `hello` without `token` on a socket "
    "that brought no session cookie",
)
AUTH_MALFORMED: Final = _auth(
    "auth.malformed",
    "not a compact JWS we can read: garbage, wrong number of parts, bad or non-canonical "
    "base64url, bad JSON, a header that is not an object or lacks a string `alg`, duplicate JSON "
    "names, `crit` or `b64` in the header, over 16 KiB, a signed payload that is not a JSON "
    "object; over HTTP also an `Authorization` header that is not `Bearer <token>`",
)
AUTH_ALG_NONE: Final = _auth("auth.alg_none", "`alg` is `none`")
AUTH_ALG_NOT_ALLOWED: Final = _auth(
    "auth.alg_not_allowed",
    "`alg` is not on the allow-list (HS256 with the public key as secret, RS512, ES256, …)",
)
AUTH_BAD_SIGNATURE: Final = _auth(
    "auth.bad_signature",
    "signed by no trusted certificate: a stranger, or ESIA rotated to a certificate we lack",
)
AUTH_TAMPERED: Final = _auth(
    "auth.tampered",
    "signed by a trusted certificate's key, but over different content: edited after signing",
)
AUTH_WRONG_TOKEN_TYPE: Final = _auth("auth.wrong_token_type", "`sbt` missing or not `access`")
AUTH_BAD_CLAIMS: Final = _auth("auth.bad_claims", "a required claim missing or of the wrong type")
AUTH_WRONG_ISSUER: Final = _auth("auth.wrong_issuer", "`iss` is not the configured issuer")
AUTH_WRONG_CLIENT: Final = _auth("auth.wrong_client", "`client_id` is not ours")
AUTH_EXPIRED: Final = _auth(
    "auth.expired", "`now >= exp + leeway`; closes a session whose token ran out"
)
AUTH_NOT_YET_VALID: Final = _auth(
    "auth.not_yet_valid", "`now < nbf - leeway` or `now < iat - leeway`"
)

# -- the browser's sign-in and session (server/auth/web.py, session.py) -----------------


def _sign_in(code: str, meaning: str, *, http: int = 400) -> str:
    return _code(code, "sign_in", meaning, http=http)


SESSION_EXPIRED: Final = _code(
    "session.expired",
    "sign_in",
    "the browser's session ended (ESIA refused to renew it, it ran its lifetime, or it was "
    "signed out); over the socket an `error` and the close",
    http=401,
    close=CloseCode.UNAUTHORIZED,
)
AUTH_CROSS_SITE: Final = _code(
    "auth.cross_site",
    "sign_in",
    "a request, or a socket signed in by the session cookie, that did not come from Zvonok's "
    "own pages (its `Origin`): 403 over HTTP, a refused `hello` (4401) on the socket",
    http=403,
    close=CloseCode.UNAUTHORIZED,
)
ESIA_UNAVAILABLE: Final = _sign_in(
    "esia.unavailable", "ESIA could not be reached or did not answer in time", http=503
)
ESIA_REFUSED: Final = _sign_in(
    "esia.refused", "ESIA answered a token request with an error (logged)", http=502
)
SIGN_IN_STATE_UNKNOWN: Final = _sign_in(
    "sign_in.state_unknown", "the callback's `state` is unknown or already used"
)
SIGN_IN_EXPIRED: Final = _sign_in("sign_in.expired", "the sign-in's `state` is past its expiry")
SIGN_IN_OTHER_BROWSER: Final = _sign_in(
    "sign_in.other_browser",
    "the callback came to a browser without the matching `zvonok_sign_in_<tag>` cookie",
)
SIGN_IN_CODE_REFUSED: Final = _sign_in(
    "sign_in.code_refused", "no code, or ESIA refused to exchange it for tokens"
)
SIGN_IN_TOKEN_REFUSED: Final = _sign_in(
    "sign_in.token_refused",
    "ESIA's tokens were refused (the `auth.*` code goes to the log), or are for another person",
)
SIGN_IN_UNKNOWN_PERSON: Final = _sign_in(
    "sign_in.unknown_person", "the person signed in is on no school's roster"
)
SIGN_IN_DECLINED: Final = _sign_in("sign_in.declined", "the person declined consent at ESIA")
SIGN_IN_ESIA_ERROR: Final = _sign_in(
    "sign_in.esia_error", "ESIA answered the callback with an error"
)
SIGN_IN_ESIA_BUSY: Final = _sign_in(
    "sign_in.esia_busy", "ESIA answered `server_error` or `temporarily_unavailable`"
)
SIGN_IN_FAILED: Final = _sign_in("sign_in.failed", "anything else that stopped a sign-in")

# -- chats, moderation, reports ----------------------------------------------------------

CHAT_NOT_FOUND: Final = _code(
    "chat.not_found",
    "chat",
    "no such chat, or the person is not a member (the two look the same)",
    http=404,
)
CHAT_MEMBERS_FIXED: Final = _code(
    "chat.members_fixed",
    "chat",
    "`group.members` on a chat whose members follow the roster (class, parents, staff) or a "
    "direct chat",
    http=409,
)
CHAT_NOT_OWNER: Final = _code(
    "chat.not_owner",
    "chat",
    "`group.members` by someone other than the group's owner",
    http=403,
)
CHAT_INVALID: Final = _code(
    "chat.invalid",
    "chat",
    "a request the chat cannot take: a direct chat with oneself, a blank title, a person both "
    "added and removed, removing the owner, a reaction that is not an emoji",
)
MESSAGE_NOT_FOUND: Final = _code(
    "message.not_found",
    "chat",
    "no such message in the chat (also for a bad `reply_to`)",
    http=404,
)
MESSAGE_NOT_AUTHOR: Final = _code(
    "message.not_author", "chat", "`edit` or `delete` of someone else's message", http=403
)
MESSAGE_DELETED: Final = _code(
    "message.deleted", "chat", "`edit`, `delete` or `react` on a deleted message", http=409
)
MESSAGE_TOO_LONG: Final = _code(
    "message.too_long", "chat", "the text is longer than `welcome.limits.max_text`"
)
MESSAGE_EMPTY: Final = _code("message.empty", "chat", "the text is only whitespace")
IDEMPOTENCY_CONFLICT: Final = _code(
    "idempotency.conflict",
    "chat",
    "the `key` was already used by this person for a different request",
    http=409,
)
PERSON_NOT_FOUND: Final = _code(
    "person.not_found", "chat", "an OID that is on no school's roster", http=404
)
POLICY_FORBIDDEN: Final = _code(
    "policy.forbidden",
    "chat",
    "the safety rules do not allow it ([safety.md](safety.md)): a direct chat the table "
    "refuses, a group by someone who is not staff of its school, adding someone from outside "
    "the school, a direct chat whose relation has ended",
    http=403,
)
MODERATION_MUTED: Final = _code(
    "moderation.muted",
    "chat",
    "a moderator muted the person in this chat; `retry_after` says when the mute ends",
    http=403,
)
MODERATION_ANNOUNCEMENTS_ONLY: Final = _code(
    "moderation.announcements_only",
    "chat",
    "only the chat's moderators post while it is announcements-only",
    http=403,
)
MODERATION_NOT_MODERATOR: Final = _code(
    "moderation.not_moderator",
    "chat",
    "a moderation request from a member who does not moderate the chat",
    http=403,
)
MODERATION_INVALID: Final = _code(
    "moderation.invalid",
    "chat",
    "a moderation request the chat cannot take: muting oneself or a moderator, a person who is "
    "not a member, removing a group's owner",
)
CONTENT_BLOCKED: Final = _code(
    "content.blocked",
    "chat",
    "the content filter found words the chat does not allow (chats with minors, school setting "
    "`filter = block`); also for a group's or a room's title and a moderator's note on a "
    'report, always filtered (content-filter.md, "Other texts people write")',
    http=403,
)
CONTENT_LINK_FORBIDDEN: Final = _code(
    "content.link_forbidden",
    "chat",
    "a link from someone other than a teacher or admin, in a chat with minors (school setting "
    "`links = teachers_only`); also in a title or note as above",
    http=403,
)
REPORT_NOT_FOUND: Final = _code(
    "report.not_found",
    "chat",
    "no such report among those sent to the person, of a chat they moderate now",
    http=404,
)
REPORT_RESOLVED: Final = _code(
    "report.resolved",
    "chat",
    "the report was already resolved with another outcome",
    http=409,
)

# -- rooms -------------------------------------------------------------------------------

ROOM_NOT_FOUND: Final = _code("room.not_found", "room", "no room with this id", http=404)
ROOM_FORBIDDEN: Final = _code(
    "room.forbidden",
    "room",
    "the safety rules do not let the caller host or join this class's rooms of this kind, or "
    "read this room or its attendance",
    http=403,
)
ROOM_NOT_HOST: Final = _code(
    "room.not_host",
    "room",
    "a host control from someone who is neither host nor co-host (naming the co-host: anyone "
    "but the host)",
    http=403,
)
ROOM_NOT_STARTED: Final = _code(
    "room.not_started", "room", "a scheduled room its host has not opened yet", http=409
)
ROOM_ENDED: Final = _code("room.ended", "room", "the room has ended", http=409)
ROOM_REMOVED: Final = _code(
    "room.removed", "room", "a host removed the caller from this room", http=403
)
ROOM_FULL: Final = _code(
    "room.full",
    "room",
    "the room (or its waiting room) has `rooms.max_participants` people",
    http=409,
)
ROOM_UNMUTE_FORBIDDEN: Final = _code(
    "room.unmute_forbidden",
    "room",
    "unmuting, or publishing, a source a host forbids",
    http=403,
)
ROOM_NOT_IN_ROOM: Final = _code(
    "room.not_in_room",
    "room",
    "a room request from a connection that is not in the room (a waiter is told to wait)",
    http=409,
)
ROOM_INVALID: Final = _code(
    "room.invalid",
    "room",
    "a request the room cannot take: an unknown class, a blank title, a host control on "
    "someone not in the room or on the host, admitting someone who is not waiting, a co-host "
    "who may not host, the same source twice in one offer, more than 4 rooms on one connection",
)

ROOM_UNAVAILABLE: Final = _code(
    "room.unavailable",
    "room",
    "the node that holds the room did not answer in time (it is stopping, or Redis between "
    "nodes is away): join again in a moment",
    http=503,
)

# -- media (media/errors.py; WebSocket requests only) ------------------------------------


def _media(code: str, meaning: str) -> str:
    return _code(code, "media", meaning, http=422)


MEDIA_NO_ROOM: Final = _media("media.no_room", "the room has no media (yet, or any more)")
MEDIA_BAD_SDP: Final = _media(
    "media.bad_sdp",
    "an offer or answer that does not parse, or lacks what the SFU needs (sections, mids, ICE "
    "credentials, `a=setup`, fingerprints), or has more than 16 sections, or drops or reorders "
    "earlier sections",
)
MEDIA_BAD_TRACKS: Final = _media(
    "media.bad_tracks",
    "a publication whose track list does not describe the offer's sending sections (each mid "
    "and each source once)",
)
MEDIA_CODEC: Final = _media("media.codec", "no codec the SFU forwards (VP8, Opus)")
MEDIA_TOO_MANY_TRACKS: Final = _media("media.too_many_tracks", "a connection past its track limit")
MEDIA_UNKNOWN_TRACK: Final = _media(
    "media.unknown_track", "a track id that is not published in the room"
)
MEDIA_OWN_TRACK: Final = _media("media.own_track", "subscribing to one's own track")
MEDIA_NO_OFFER: Final = _media("media.no_offer", "an answer with no offer waiting for it")
MEDIA_NO_CONNECTION: Final = _media(
    "media.no_connection",
    "a request for a media connection that is not open or ended meanwhile",
)
MEDIA_BAD_CANDIDATE: Final = _media(
    "media.bad_candidate",
    "an ICE candidate that does not parse, or names no section (`sdp_mid` or `sdp_mline_index` "
    "is required), or a section that does not exist",
)

# -- the HTTP API only -------------------------------------------------------------------

REQUEST_INVALID: Final = _code(
    "request.invalid",
    "http",
    "the request is malformed: a body that is not the JSON object the endpoint takes, a field "
    "missing or out of its limits (the message names it), a bad query value or header",
)
HTTP_BODY_TIMEOUT: Final = _code(
    "http.body_timeout",
    "http",
    "the request's body did not arrive within `http.body_timeout` seconds",
    http=408,
)
HTTP_TOO_MANY_REQUESTS: Final = _code(
    "http.too_many_requests",
    "http",
    "the caller has as many HTTP requests in progress as a person may; `retry_after` says when "
    "to try again",
    http=429,
)
ROSTER_TOO_LARGE: Final = _code(
    "roster.too_large",
    "http",
    "a roster file larger than the upload limit; `limit` says how many bytes fit",
    http=413,
)
SETTINGS_INVALID: Final = _code(
    "settings.invalid", "http", "school settings with a value out of range or unknown"
)
SCHOOL_NOT_FOUND: Final = _code(
    "school.not_found", "http", "no school with this id among the caller's", http=404
)
ROSTER_INVALID: Final = _code(
    "roster.invalid",
    "http",
    "a roster file that cannot be imported; `issues` names each record and field",
    http=422,
)
ROSTER_OUTSIDE_SCHOOL: Final = _code(
    "roster.outside_school",
    "http",
    "a roster upload that would change facts of schools the uploader does not administer; "
    "`issues` names them",
    http=403,
)

CODES: Final[Mapping[str, ErrorCode]] = _codes
"""Every error code, by its string."""


def http_status(code: str) -> int:
    """The HTTP status ``code`` is answered with (400 for a code that never crosses HTTP,
    or one the catalogue lacks: a test's own)."""
    entry = CODES.get(code)
    return 400 if entry is None or entry.http is None else entry.http


class ProtocolError(Exception):
    """A frame or message that cannot be accepted.

    ``request_id`` is set when the envelope was readable far enough to know
    it, so the error reply can be matched to the request.
    """

    def __init__(self, code: str, message: str, request_id: int | str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
