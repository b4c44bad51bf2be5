// The Zvonok protocol's types, generated from signaling/ by `make schema`
// (signaling/export.py, through schema/zvonok.schema.json); do not edit.
// tests/signaling/test_export.py fails when this file is stale.

export const PROTOCOL_VERSION = 1;

/** The answer to ``send``, ``edit``, ``delete`` and ``react``: the event it made. ``{"chat": "class:5a", "seq": 43, "message_id": 17, "duplicate": false, "masked": true?}``; ``duplicate`` is true when the idempotency key had been used before and nothing new was stored (``seq`` is then the first event's); ``masked`` when the content filter replaced words of the text with ``*`` (docs/safety.md), and left out otherwise. ``message_id`` is 0 for an event about no message (a mute, a membership change). */
export interface AckMsg {
  /** a chat's id (opaque) */
  chat: string;
  /** a chat's sequence number (0: before the first) */
  seq: number;
  message_id: number;
  duplicate: boolean;
  masked?: boolean;
}

export interface AnnouncementsAction {
  action: "announcements";
  on: boolean;
}

/** A trickled ICE candidate, as the browser's ``RTCIceCandidate`` gives it. It names its media section by ``sdp_mid`` or ``sdp_mline_index`` (at least one; with both, ``sdp_mid`` decides), as ``addIceCandidate`` requires: a candidate for no section is refused here, not guessed. */
export interface Candidate {
  candidate: string;
  sdp_mid?: string | null;
  sdp_mline_index?: number | null;
}

/** Add and remove members of a group (its owner only). Reply ``chat.info``. ``{"chat": "group:...", "add": [oid, ...], "remove": [oid, ...]}``; either list may be omitted. */
export interface ChangeMembers {
  /** a chat's id (opaque) */
  chat: string;
  add?: number[];
  remove?: number[];
}

/** The reply to ``chat.details``. ``{"chat": "class:5a", "members": [member, ...], "owner": oid | nil, "moderator": bool, "announcements": bool, "pinned": message_id | nil, "muted_until": unix | nil}``: the members by OID; ``owner`` of a group; ``moderator`` whether the asker moderates the chat; ``muted_until`` the asker's own mute. Past mutes read as nil. */
export interface ChatDetails {
  /** a chat's id (opaque) */
  chat: string;
  members: MemberEntry[];
  owner: number | null;
  moderator: boolean;
  announcements: boolean;
  pinned: number | null;
  muted_until: number | null;
}

/** One event of one chat, as ``chat.event`` carries it and ``history.page`` lists it. ``data`` by ``kind``: ``message`` ``{"id", "text", "reply_to"}`` (once deleted ``{"id", "deleted": true}``), ``edit`` ``{"id", "text", "version"}``, ``delete`` ``{"id", "moderator"?}``, ``reaction`` ``{"id", "emoji", "on"}``, ``members`` ``{"added", "removed"}``, ``moderation`` ``{"action", ...}`` (docs/protocol.md, "Chat events"). */
export interface ChatEventBody {
  /** Unix time, seconds */
  at: number;
  author: number | null;
  /** a chat's id (opaque) */
  chat: string;
  data: Record<string, unknown>;
  /** an event kind; a newer server may add kinds */
  kind: string;
  /** a chat's sequence number (0: before the first) */
  seq: number;
}

/** One event of one chat (a ``ChatEventBody``). ``{"chat": "class:5a", "seq": 43, "kind": "message", "author": oid | nil, "at": unix, "data": {...}}``. ``kind`` is not checked against a list: a newer server may add kinds, which a client should skip (but still count as seen). */
export interface ChatEventMsg {
  /** a chat's id (opaque) */
  chat: string;
  /** a chat's sequence number (0: before the first) */
  seq: number;
  /** an event kind; a newer server may add kinds */
  kind: string;
  author?: number | null;
  /** Unix time, seconds */
  at: number;
  data: Record<string, unknown>;
}

/** One chat's summary: the reply to ``chat.get``, ``direct.open``, ``group.create`` and ``group.members``. ``{"chat": chat summary}`` */
export interface ChatInfo {
  chat: ChatSummary;
}

/** The reply to ``chats``. ``{"chats": [chat summary, ...]}`` */
export interface ChatList {
  chats: ChatSummary[];
}

/** The person is no longer a member of the chat. ``{"chat": "group:..."}`` */
export interface ChatRemoved {
  /** a chat's id (opaque) */
  chat: string;
}

/** A chat as one member sees it: an entry of ``chat.list``, the body of ``chat.info``. */
export interface ChatSummary {
  class_id: string | null;
  /** a chat's id (opaque) */
  id: string;
  kind: "class" | "class_parents" | "direct" | "group" | "staff";
  last_message: ChatEventBody | null;
  /** a chat's sequence number (0: before the first) */
  last_seq: number;
  members: number;
  /** a direct chat: the other person */
  peer: number | null;
  /** a chat's sequence number (0: before the first) */
  read_seq: number;
  school_id: string | null;
  /** a direct chat: the other's name */
  title: string;
  unread: number;
}

/** A child a parent represents, with the child's classes. */
export interface Child {
  classes: ClassLink[];
  person: Person;
}

/** A person's link to a class: ``student``, ``class_teacher`` or ``subject_teacher``. */
export interface ClassLink {
  /** a roster class id */
  class_id: string;
  class_name: string;
  relation: "class_teacher" | "student" | "subject_teacher";
  /** a roster school id */
  school_id: string;
  subject: string | null;
}

/** A new group chat owned by the sender, who is always a member. Reply ``chat.info``. ``{"school": "sosh-1", "title": "Кружок робототехники", "members": [oid, ...], "key": "..."?}`` */
export interface CreateGroup {
  /** a roster school id */
  school: string;
  /** a group's or a room's title */
  title: string;
  members: number[];
  key?: string | null;
}

/** Report a message to the chat's moderators. Reply ``report.info``. ``{"chat": "class:5a", "message_id": 17, "reason": "..."}``; reporting the same message again returns the first report. */
export interface CreateReport {
  /** a chat's id (opaque) */
  chat: string;
  message_id: number;
  /** a report's reason or a moderator's note */
  reason: string;
}

/** ``POST /api/v1/chats/{chat}/reports``. */
export interface CreateReportBody {
  message_id: number;
  /** a report's reason or a moderator's note */
  reason: string;
}

/** Delete one's own message. Reply ``ack``. ``{"chat": "class:5a", "message_id": 17, "key": "..."?}`` */
export interface Delete {
  /** a chat's id (opaque) */
  chat: string;
  message_id: number;
  key?: string | null;
}

/** Delete a message (an optional ``Idempotency-Key`` header makes it retryable). */
export interface DeleteAction {
  action: "delete";
  message_id: number;
}

/** ``POST /dev/token`` (development identity provider only). */
export interface DevTokenBody {
  /** a person's ESIA OID */
  oid: number;
}

/** Replace the text of one's own message. Reply ``ack``. ``{"chat": "class:5a", "message_id": 17, "text": "...", "key": "..."?}`` */
export interface Edit {
  /** a chat's id (opaque) */
  chat: string;
  message_id: number;
  /** a message's text (the server's limit is lower) */
  text: string;
  key?: string | null;
}

/** Event: the host ended the room for everyone. ``{"room"}`` */
export interface Ended {
  /** a room's id (opaque) */
  room: string;
}

/** A refused request or frame. ``{"code": "auth.expired", "message": "...", "retry_after": 1.5?}``. ``retry_after`` (seconds) is present for ``rate.limited``. */
export interface Error {
  /** a stable error code */
  code: string;
  /** a human explanation; do not parse it */
  message: string;
  retry_after?: number | null;
}

export type ErrorCode = "auth.alg_none" | "auth.alg_not_allowed" | "auth.bad_claims" | "auth.bad_signature" | "auth.busy" | "auth.cross_site" | "auth.expired" | "auth.malformed" | "auth.missing" | "auth.not_yet_valid" | "auth.person_mismatch" | "auth.tampered" | "auth.unknown_person" | "auth.wrong_client" | "auth.wrong_issuer" | "auth.wrong_token_type" | "chat.invalid" | "chat.members_fixed" | "chat.not_found" | "chat.not_owner" | "content.blocked" | "content.link_forbidden" | "esia.refused" | "esia.unavailable" | "frame.malformed" | "frame.not_binary" | "frame.too_large" | "heartbeat.timeout" | "hello.repeated" | "hello.required" | "hello.timeout" | "http.body_timeout" | "http.too_many_requests" | "idempotency.conflict" | "media.bad_candidate" | "media.bad_sdp" | "media.bad_tracks" | "media.codec" | "media.no_connection" | "media.no_offer" | "media.no_room" | "media.own_track" | "media.too_many_tracks" | "media.unknown_track" | "message.deleted" | "message.empty" | "message.invalid" | "message.not_author" | "message.not_found" | "message.too_long" | "message.unknown_type" | "moderation.announcements_only" | "moderation.invalid" | "moderation.muted" | "moderation.not_moderator" | "person.not_found" | "policy.forbidden" | "protocol.abuse" | "protocol.version" | "rate.limited" | "report.not_found" | "report.resolved" | "request.invalid" | "room.ended" | "room.forbidden" | "room.full" | "room.invalid" | "room.not_found" | "room.not_host" | "room.not_in_room" | "room.not_started" | "room.removed" | "room.unavailable" | "room.unmute_forbidden" | "roster.invalid" | "roster.outside_school" | "roster.too_large" | "school.not_found" | "server.internal" | "server.shutdown" | "session.expired" | "session.too_many" | "settings.invalid" | "sign_in.code_refused" | "sign_in.declined" | "sign_in.esia_busy" | "sign_in.esia_error" | "sign_in.expired" | "sign_in.failed" | "sign_in.other_browser" | "sign_in.state_unknown" | "sign_in.token_refused" | "sign_in.unknown_person" | "slow_consumer" | "store.unavailable";

/** Search people by name among those the rules let me write to. ``{"query": "Иванова"}``; reply ``people.list``. */
export interface FindPeople {
  /** words of a person's name */
  query: string;
}

/** Events ``from_seq`` to ``to_seq`` (inclusive) were not sent; page them with ``history``. ``{"chat": "class:5a", "from_seq": 42, "to_seq": 1541}`` with ``to_seq >= from_seq``. Live events of the chat go on from ``to_seq + 1``. */
export interface Gap {
  /** a chat's id (opaque) */
  chat: string;
  /** a chat's sequence number (0: before the first) */
  from_seq: number;
  /** a chat's sequence number (0: before the first) */
  to_seq: number;
}

/** One chat's summary. ``{"chat": "class:5a"}``; reply ``chat.info``. */
export interface GetChat {
  /** a chat's id (opaque) */
  chat: string;
}

/** Who is in a chat, and its moderation state as the asker may see it. ``{"chat": "class:5a"}``; reply ``chat.details``. For members and for the chat's moderators (who may read a chat they are not in, except a direct one); ``chat.not_found`` for anyone else. */
export interface GetDetails {
  /** a chat's id (opaque) */
  chat: string;
}

/** Sent just before the server closes the socket, saying why. ``{"code": "auth.expired", "message": "..."}``; the close frame carries the same code as its reason. */
export interface Goodbye {
  /** a stable error code */
  code: string;
  /** a human explanation; do not parse it */
  message: string;
}

/** Opens a session. ``{"v": 1, "token": "<ESIA access token>" | nil, "client": "web/1.4", "resume": {"class:5a": 41, ...}?}``. Without ``token`` (nil or absent) the session is the browser's: the server signs it in by the session cookie the upgrade request carried (and only if its ``Origin`` is the server's own). With ``resume`` (chat id to the highest seq the client has seen) the server sends every chat event after those positions, then ``synced``; without it, only live events. */
export interface Hello {
  v: number;
  token?: string | null;
  /** the client's name and version, for logs */
  client: string;
  resume?: Record<string, number> | null;
}

/** A page of a chat's stored events. Reply ``history.page``. ``{"chat": "class:5a", "before": 120?, "after": 40?, "limit": 50}``: events with ``after < seq < before`` (``after`` defaults to 0), in ascending order, at most ``limit`` (1 to 200, default 50, always sent): with ``before`` the last ones of the range, without it the first ones. */
export interface History {
  /** a chat's id (opaque) */
  chat: string;
  before?: number;
  after?: number;
  limit?: number;
}

/** The reply to ``history``. ``{"chat": "class:5a", "events": [event, ...], "more": bool}``: the events in ascending ``seq`` order; ``more`` is true when the range asked for holds further events than the page. */
export interface HistoryPage {
  /** a chat's id (opaque) */
  chat: string;
  events: ChatEventBody[];
  more: boolean;
}

/** Let one waiter (``person``) or every waiter (``all: true``) into a meeting. Exactly one of the two. ``{"room", "person"?, "all"?}`` */
export interface HostAdmit {
  /** a room's id (opaque) */
  room: string;
  person?: number | null;
  all?: boolean;
}

/** Let a participant unmute a forbidden source again (it stays muted until they unmute it). ``{"room", "person", "source"}`` */
export interface HostAllow {
  /** a room's id (opaque) */
  room: string;
  /** a person's ESIA OID */
  person: number;
  source: "camera" | "microphone" | "screen";
}

/** Name the co-host (the host only), or with ``person`` nil or absent, name none. ``{"room", "person": oid | nil}`` */
export interface HostCohost {
  /** a room's id (opaque) */
  room: string;
  person?: number | null;
}

/** End the room for everyone; nobody may join it again. ``{"room"}`` */
export interface HostEnd {
  /** a room's id (opaque) */
  room: string;
}

/** Lower one participant's hand, or (without ``person``) everyone's. ``{"room", "person": oid?}`` */
export interface HostLowerHands {
  /** a room's id (opaque) */
  room: string;
  person?: number | null;
}

/** Mute a participant's source; with ``forbid`` they may not unmute it until ``room.host.allow``. ``{"room", "person", "source", "forbid": false}`` */
export interface HostMute {
  /** a room's id (opaque) */
  room: string;
  /** a person's ESIA OID */
  person: number;
  source: "camera" | "microphone" | "screen";
  forbid?: boolean;
}

/** Mute every microphone but the hosts'; with ``forbid``, keep them muted. ``{"room", "forbid": false}`` */
export interface HostMuteAll {
  /** a room's id (opaque) */
  room: string;
  forbid?: boolean;
}

/** Remove a participant (or a waiter); they may not come back to this room. ``{"room", "person"}`` */
export interface HostRemove {
  /** a room's id (opaque) */
  room: string;
  /** a person's ESIA OID */
  person: number;
}

/** Stop a participant's screen share. ``{"room", "person"}`` */
export interface HostStopScreen {
  /** a room's id (opaque) */
  room: string;
  /** a person's ESIA OID */
  person: number;
}

/** An ``RTCIceServer`` as a browser takes it: STUN URLs, or TURN's with credentials. */
export interface IceServer {
  credential?: string;
  credentialType?: "password";
  urls: string[];
  username?: string;
}

/** Enter a room (or its waiting room), or take one's place back after a lost connection. ``{"room"}``; reply ``room.joined``. */
export interface JoinRoom {
  /** a room's id (opaque) */
  room: string;
}

/** Leave a room or its waiting room. ``{"room"}``; reply ``room.ok``. */
export interface LeaveRoom {
  /** a room's id (opaque) */
  room: string;
}

/** The limits in force for a session, announced in ``welcome``. */
export interface Limits {
  /** bytes of a frame */
  max_frame: number;
  /** characters of a message */
  max_text: number;
  /** seconds */
  frames_per_second: number;
  frame_burst: number;
}

/** The person's chats, most recently active first. Body ``{}``; reply ``chat.list``. */
export interface ListChats {
}

/** Reports sent to me as a moderator, or (``mine``) the ones I made. ``{"mine": false, "status": "open" | "resolved"?}``; reply ``report.list``. ``mine`` defaults to false and is always sent. */
export interface ListReports {
  mine?: boolean;
  status?: "open" | "resolved";
}

/** Rooms of one class, or of all the person's classes (and children's). ``{"class": "sosh-1-5a"?}``; reply ``room.list_result``. */
export interface ListRooms {
  class?: string | null;
}

/** Move one's read position forward. ``{"chat": "class:5a", "seq": 42}``; reply ``marked``. */
export interface MarkRead {
  /** a chat's id (opaque) */
  chat: string;
  /** a chat's sequence number (0: before the first) */
  seq: number;
}

/** ``POST /api/v1/chats/{chat}/read``: move the read position forward to ``seq``. */
export interface MarkReadBody {
  /** a chat's sequence number (0: before the first) */
  seq: number;
}

/** The reply to ``read``: the read position now. ``{"chat": "class:5a", "read_seq": 42}`` */
export interface Marked {
  /** a chat's id (opaque) */
  chat: string;
  /** a chat's sequence number (0: before the first) */
  read_seq: number;
}

/** One member of a chat: an entry of ``chat.details``. */
export interface MemberEntry {
  full_name: string;
  /** moderates the chat */
  moderator: boolean;
  /** until when muted; told to moderators and to the member */
  muted_until: number | null;
  /** a person's ESIA OID */
  oid: number;
  /** the member's roles in the chat's school (any school for a direct chat) */
  roles: ("admin" | "parent" | "student" | "teacher")[];
}

/** Delete anyone's message as the chat's moderator. Reply ``ack``. ``{"chat": "class:5a", "message_id": 17, "key": "..."?}`` */
export interface ModDelete {
  /** a chat's id (opaque) */
  chat: string;
  message_id: number;
  key?: string | null;
}

/** Keep a member from posting for ``seconds`` (1 s to 30 days). Reply ``ack``. ``{"chat": "class:5a", "person": oid, "seconds": 3600}`` */
export interface Mute {
  /** a chat's id (opaque) */
  chat: string;
  /** a person's ESIA OID */
  person: number;
  /** 1 second to 30 days */
  seconds: number;
}

/** Keep a member from posting for ``seconds``. */
export interface MuteAction {
  action: "mute";
  /** a person's ESIA OID */
  person: number;
  /** 1 second to 30 days */
  seconds: number;
}

/** Mute or unmute one's own source. Unmuting a source the host forbids is refused with ``room.unmute_forbidden``. ``{"room", "source": "camera" | "microphone" | "screen", "muted": bool}``; reply ``room.ok``. */
export interface MuteSelf {
  /** a room's id (opaque) */
  room: string;
  source: "camera" | "microphone" | "screen";
  muted: boolean;
}

/** The direct chat with a person, made if new. ``{"person": oid}``; reply ``chat.info``. */
export interface OpenDirect {
  /** a person's ESIA OID */
  person: number;
}

/** A participant's state: ``muted`` and ``forbidden`` list sources. */
export interface Participant {
  forbidden: ("camera" | "microphone" | "screen")[];
  hand: boolean;
  muted: ("camera" | "microphone" | "screen")[];
  /** a person's full name */
  name: string;
  /** a person's ESIA OID */
  person: number;
  role: "cohost" | "host" | "parent" | "staff" | "student";
  status: "away" | "left" | "present" | "waiting";
}

/** Event: a participant's state changed. ``{"room", "person", "change": "joined" | "left" | "away" | "back" | "removed" | "muted" | "unmuted" | "forbidden" | "allowed" | "hand" | "role", "state": participant}``; a newer server may add changes. */
export interface ParticipantChanged {
  /** a room's id (opaque) */
  room: string;
  /** a person's ESIA OID */
  person: number;
  /** what changed; a newer server may add values */
  change: string;
  state: Participant;
}

/** The reply to ``people.find``: ``{"people": [{"oid", "full_name", "roles"}]}``. */
export interface PeopleList {
  people: PersonFound[];
}

/** A person of the roster. */
export interface Person {
  /** ISO 8601 date */
  birth_date: string;
  first_name: string;
  full_name: string;
  last_name: string;
  middle_name: string | null;
  /** a person's ESIA OID */
  oid: number;
}

/** An entry of ``people.list``: someone the rules let the asker write to. */
export interface PersonFound {
  full_name: string;
  /** a person's ESIA OID */
  oid: number;
  roles: SchoolRole[];
}

/** Pin a message, or unpin with ``message_id`` nil or absent. Reply ``ack``. ``{"chat": "class:5a", "message_id": 17 | nil}`` */
export interface Pin {
  /** a chat's id (opaque) */
  chat: string;
  message_id?: number | null;
}

export interface PinAction {
  action: "pin";
  message_id: number;
}

/** Application-level liveness check; answered by ``pong``. Body ``{}``. Browsers cannot see WebSocket pings, so a web client uses this to find out that the server has gone away. */
export interface Ping {
}

/** The answer to ``ping``, with the server's clock. ``{"time": unix}`` */
export interface Pong {
  /** Unix time, seconds */
  time: number;
}

/** ``POST /api/v1/chats/{chat}/messages``, with an ``Idempotency-Key`` header. */
export interface PostMessageBody {
  /** at most welcome.limits.max_text characters */
  text: string;
  reply_to?: number | null;
}

/** A person came online or went offline. ``{"person": oid, "online": bool, "last_seen": unix | nil}`` */
export interface Presence {
  /** a person's ESIA OID */
  person: number;
  online: boolean;
  last_seen?: number | null;
}

/** Whether one person is online: an entry of ``presence.list``. */
export interface PresenceEntry {
  last_seen: number | null;
  online: boolean;
  /** a person's ESIA OID */
  person: number;
}

/** The reply to ``presence.query``. ``{"people": [{"person": oid, "online": bool, "last_seen": unix | nil}, ...]}`` */
export interface PresenceList {
  people: PresenceEntry[];
}

/** The person, roles, classes and children: ``welcome.profile`` and ``GET /api/v1/me``. */
export interface Profile {
  children: Child[];
  classes: ClassLink[];
  person: Person;
  roles: SchoolRole[];
}

/** One track of a publishing offer: its SDP ``mid`` and what it carries. */
export interface PublishTrack {
  /** an SDP media id */
  mid: string;
  source: "camera" | "microphone" | "screen";
}

/** Who of these people is online. ``{"people": [oid, ...]}``; reply ``presence.list``. */
export interface QueryPresence {
  people: number[];
}

/** Raise (``up``) or lower one's hand. ``{"room", "up": bool}``; reply ``room.ok``. */
export interface RaiseHand {
  /** a room's id (opaque) */
  room: string;
  up: boolean;
}

/** Add (``on``) or take back a reaction. Reply ``ack``. ``{"chat": "class:5a", "message_id": 17, "emoji": "👍", "on": true, "key": "..."?}``; ``on`` defaults to true (and is always sent). ``emoji`` is one emoji (:func:`is_reaction`); anything else is refused with ``chat.invalid``. */
export interface React {
  /** a chat's id (opaque) */
  chat: string;
  message_id: number;
  /** one emoji */
  emoji: string;
  on?: boolean;
  /** an idempotency key the client makes up (a UUID), reused on retry */
  key?: string;
}

/** Replaces the session's token with a fresh one for the same person. ``{"token": "<ESIA access token>"}`` */
export interface Reauth {
  /** an ESIA access token (a JWT) */
  token: string;
}

/** The answer to a good ``reauth``. ``{"expires_at": unix}`` */
export interface Reauthed {
  /** Unix time, seconds */
  expires_at: number;
}

/** A member's read position moved. ``{"chat": "class:5a", "person": oid, "seq": 42}`` */
export interface Receipt {
  /** a chat's id (opaque) */
  chat: string;
  /** a person's ESIA OID */
  person: number;
  /** a chat's sequence number (0: before the first) */
  seq: number;
}

/** Remove a member from a teacher-made group. ``{"chat", "person"}``; reply ``ack``. */
export interface Remove {
  /** a chat's id (opaque) */
  chat: string;
  /** a person's ESIA OID */
  person: number;
}

export interface RemoveAction {
  action: "remove";
  /** a person's ESIA OID */
  person: number;
}

/** Event: this connection is no longer in the room. ``{"room", "reason": "host" | "elsewhere" | "roster"}``: the host removed the person (who may not come back), the person joined the room from another connection, or a roster change took them out of the room's class (they may come back when the roster lets them again). */
export interface Removed {
  /** a room's id (opaque) */
  room: string;
  /** what changed; a newer server may add values */
  reason: string;
}

/** A report of a message. ``text`` (the message as it was when reported, kept after a delete) and ``resolved_by`` are there for moderators only. */
export interface Report {
  /** a person's ESIA OID */
  author: number;
  /** a chat's id (opaque) */
  chat: string;
  /** Unix time, seconds */
  created_at: number;
  id: number;
  message_id: number;
  note: string | null;
  outcome: "dismissed" | "removed" | "warned" | null;
  /** a report's reason or a moderator's note */
  reason: string;
  /** a person's ESIA OID */
  reporter: number;
  resolved_at: number | null;
  resolved_by?: number | null;
  status: "open" | "resolved";
  text?: string;
}

/** One report: the reply to ``report.create`` and ``report.resolve``. ``{"report"}`` */
export interface ReportInfo {
  report: Report;
}

/** The reply to ``reports``. ``{"reports": [report, ...]}``, newest first. */
export interface ReportList {
  reports: Report[];
}

/** A member reported a message in a chat I moderate. ``{"report": {...}}`` */
export interface ReportNew {
  report: Report;
}

/** A report I made was resolved. ``{"report": {...}}`` with its ``outcome``. */
export interface ReportResolved {
  report: Report;
}

/** the client's request id; echoed in the reply, absent from events */
export type RequestId = number | string;

/** Resolve a report as a moderator. Reply ``report.info``. ``{"report": 3, "outcome": "removed" | "warned" | "dismissed", "note": "..."?}`` */
export interface ResolveReport {
  report: number;
  outcome: "dismissed" | "removed" | "warned";
  note?: string | null;
}

/** ``POST /api/v1/reports/{id}/resolve``. */
export interface ResolveReportBody {
  outcome: "dismissed" | "removed" | "warned";
  note?: string | null;
}

/** Event: the host let this waiter in. The body is that of ``room.joined`` (with ``waiting: false``). */
export interface RoomAdmitted {
  room: RoomRecord;
  you: Participant;
  participants: Participant[];
  tracks: Track[];
  ice_servers: IceServer[];
  chat?: string | null;
  waiting?: boolean;
  resumed?: boolean;
}

/** One room: the reply to ``room.start``. ``{"room": room}`` */
export interface RoomInfo {
  room: RoomRecord;
}

/** The reply to ``room.join``. ``{"room": room, "you": participant, "participants": [participant, ...], "tracks": [track, ...], "ice_servers": [...], "chat": chat id | nil, "waiting": bool, "resumed": bool}``. A waiter gets no participants, tracks, ICE servers or chat until ``room.admitted``. */
export interface RoomJoined {
  room: RoomRecord;
  you: Participant;
  participants: Participant[];
  tracks: Track[];
  ice_servers: IceServer[];
  chat?: string | null;
  waiting?: boolean;
  resumed?: boolean;
}

/** The reply to ``room.list``: ``{"rooms": [room, ...]}``, newest first. */
export interface RoomList {
  rooms: RoomRecord[];
}

/** The reply to a room request that has nothing more to say: ``{"room"}``. */
export interface RoomOk {
  /** a room's id (opaque) */
  room: string;
}

/** A room: in ``room.info``, ``room.list_result``, ``room.joined`` and ``GET /api/v1/rooms``. Times are Unix times or nil; ``participants`` counts those in the room now, away ones included. */
export interface RoomRecord {
  /** a chat's id (opaque) */
  chat: string;
  /** a roster class id */
  class_id: string;
  cohost: number | null;
  /** Unix time, seconds */
  created_at: number;
  ended_at: number | null;
  /** a person's ESIA OID */
  host: number;
  /** a room's id (opaque) */
  id: string;
  kind: "lesson" | "meeting";
  participants: number;
  /** a roster school id */
  school_id: string;
  started_at: number | null;
  starts_at: number | null;
  state: "ended" | "open" | "scheduled";
  /** a group's or a room's title */
  title: string;
}

/** An SDP answer: from the server, the reply to ``rtc.publish``; from the client, its answer to an ``rtc.offer`` (reply ``room.ok``). ``{"room", "sdp": "v=0..."}`` */
export interface RtcAnswer {
  /** a room's id (opaque) */
  room: string;
  /** an SDP offer or answer */
  sdp: string;
}

/** A trickled ICE candidate for one of the client's peer connections; ``candidate`` nil means the end of candidates. Reply ``room.ok``. ``{"room", "pc": "pub" | "sub", "candidate": {"candidate": "candidate:...", "sdp_mid": "0"?, "sdp_mline_index": 0?} | nil}`` */
export interface RtcCandidate {
  /** a room's id (opaque) */
  room: string;
  pc: "pub" | "sub";
  candidate?: Candidate | null;
}

/** Event: the server's offer for the client's subscribing connection; the client answers with ``rtc.answer``. ``{"room", "sdp"}`` */
export interface RtcOffer {
  /** a room's id (opaque) */
  room: string;
  /** an SDP offer or answer */
  sdp: string;
}

/** The client's offer for its publishing connection. Reply ``rtc.answer``. ``{"room", "sdp": "v=0...", "tracks": [{"mid": "0", "source": "microphone"}, ...]}`` */
export interface RtcPublish {
  /** a room's id (opaque) */
  room: string;
  /** an SDP offer or answer */
  sdp: string;
  tracks: PublishTrack[];
}

/** One role a person holds in one school. */
export interface SchoolRole {
  role: "admin" | "parent" | "student" | "teacher";
  /** a roster school id */
  school_id: string;
  school_name: string;
}

/** Post a message. Reply ``ack``. ``{"chat": "class:5a", "text": "...", "key": "<idempotency key>", "reply_to": 17?}``. Sending again with the same key acks the first message again (``duplicate: true``) instead of posting twice. */
export interface Send {
  /** a chat's id (opaque) */
  chat: string;
  /** a message's text (the server's limit is lower) */
  text: string;
  /** an idempotency key the client makes up (a UUID), reused on retry */
  key: string;
  reply_to?: number | null;
}

/** The token runs out soon; send ``reauth`` to carry on. ``{"expires_at": unix, "seconds_left": 60}`` */
export interface SessionExpiring {
  /** Unix time, seconds */
  expires_at: number;
  /** seconds */
  seconds_left: number;
}

/** Make the chat announcements-only (``on``: only moderators post) or open it again. ``{"chat", "on": bool}``; reply ``ack``. */
export interface SetAnnouncements {
  /** a chat's id (opaque) */
  chat: string;
  on: boolean;
}

/** The video tracks the client shows now (the server stops sending the others' video); ``tracks`` nil means all. ``{"room", "tracks": [id, ...] | nil}``; reply ``room.ok``. */
export interface Show {
  /** a room's id (opaque) */
  room: string;
  tracks?: string[] | null;
}

/** Event: who speaks now, loudest first (ephemeral). ``{"room", "people": [oid, ...]}`` */
export interface Speaking {
  /** a room's id (opaque) */
  room: string;
  people: number[];
}

/** Start a lesson (for a class's students) or a parent meeting (for its parents), now or at ``starts_at``. Reply ``room.info``. ``{"class": "sosh-1-5a", "kind": "lesson" | "meeting", "title": "...", "starts_at": unix?, "key": "..."?}``; the same ``key`` again returns the room the first start made. */
export interface StartRoom {
  /** a roster class id */
  class: string;
  kind: "lesson" | "meeting";
  /** a group's or a room's title */
  title: string;
  starts_at?: number | null;
  key?: string | null;
}

/** ``POST /api/v1/rooms``, with an optional ``Idempotency-Key`` header: the body of the ``room.start`` message but its key. */
export interface StartRoomBody {
  /** a roster class id */
  class: string;
  kind: "lesson" | "meeting";
  /** a group's or a room's title */
  title: string;
  starts_at?: number | null;
}

/** Receive these tracks on the subscribing connection; the server follows with an ``rtc.offer``. ``{"room", "tracks": [id, ...]}``; reply ``room.ok``. */
export interface Subscribe {
  /** a room's id (opaque) */
  room: string;
  tracks: string[];
}

/** Catch up on the named chats from the given positions. ``{"positions": {"class:5a": 41, "direct:1:2": 0}}``. The server sends every event after each position (or a ``gap``), then the reply ``synced``. */
export interface Sync {
  /** chat id to the highest seq the client has seen */
  positions: Record<string, number>;
}

/** The positions reached by a catch-up. ``{"positions": {"class:5a": 43, ...}}`` The reply to ``sync``, and an event after the catch-up that follows a ``hello`` with ``resume``. */
export interface Synced {
  /** chat id to the highest seq the client has seen */
  positions: Record<string, number>;
}

/** A published track. */
export interface Track {
  id: string;
  kind: "audio" | "video";
  /** a person's ESIA OID */
  owner: number;
  source: "camera" | "microphone" | "screen";
}

/** Event: a track was published (``added``) or ended (``removed``). ``{"room", "change": "added" | "removed", "track": {"id", "owner", "source", "kind"}}`` */
export interface TrackChanged {
  /** a room's id (opaque) */
  room: string;
  change: "added" | "removed";
  track: Track;
}

/** The person is typing in a chat. ``{"chat": "class:5a"}``; no reply on success. The server passes it on to the other members as the event ``typing`` (:class:`TypingNotice`); it is not stored. */
export interface Typing {
  /** a chat's id (opaque) */
  chat: string;
}

/** A member is typing. ``{"chat": "class:5a", "person": oid}`` The server's ``typing``: same type string as the client's :class:`Typing`, in the other direction's registry. */
export interface TypingNotice {
  /** a chat's id (opaque) */
  chat: string;
  /** a person's ESIA OID */
  person: number;
}

/** Let a muted member post again. ``{"chat", "person"}``; reply ``ack``. */
export interface Unmute {
  /** a chat's id (opaque) */
  chat: string;
  /** a person's ESIA OID */
  person: number;
}

export interface UnmuteAction {
  action: "unmute";
  /** a person's ESIA OID */
  person: number;
}

export interface UnpinAction {
  action: "unpin";
}

/** Stop publishing a source. ``{"room", "source"}``; reply ``room.ok``. */
export interface Unpublish {
  /** a room's id (opaque) */
  room: string;
  source: "camera" | "microphone" | "screen";
}

/** Stop receiving these tracks. ``{"room", "tracks": [id, ...]}``; reply ``room.ok``. */
export interface Unsubscribe {
  /** a room's id (opaque) */
  room: string;
  tracks: string[];
}

/** Someone in a meeting's waiting room, since when (Unix time). */
export interface Waiter {
  /** a person's full name */
  name: string;
  /** a person's ESIA OID */
  person: number;
  /** Unix time, seconds */
  since: number;
}

/** Event: to the hosts, everyone in the waiting room now (each time it changes); to a waiter, that they wait (their own entry). ``{"room", "people": [{"person", "name", "since"}, ...]}`` */
export interface Waiting {
  /** a room's id (opaque) */
  room: string;
  people: Waiter[];
}

/** The answer to a good ``hello``. ``{"session_id", "protocol", "server", "profile": {person, roles, classes, children}, "limits": {...}, "heartbeat": seconds, "expires_at": unix}`` */
export interface Welcome {
  session_id: string;
  protocol: number;
  server: string;
  profile: Profile;
  limits: Limits;
  /** seconds between pings */
  heartbeat: number;
  /** Unix time, seconds */
  expires_at: number;
}

/** The messages a client sends, by type. */
export interface ClientMessages {
  "chat.details": GetDetails;
  "chat.get": GetChat;
  "chats": ListChats;
  "delete": Delete;
  "direct.open": OpenDirect;
  "edit": Edit;
  "group.create": CreateGroup;
  "group.members": ChangeMembers;
  "hello": Hello;
  "history": History;
  "media.show": Show;
  "media.subscribe": Subscribe;
  "media.unpublish": Unpublish;
  "media.unsubscribe": Unsubscribe;
  "moderation.announcements": SetAnnouncements;
  "moderation.delete": ModDelete;
  "moderation.mute": Mute;
  "moderation.pin": Pin;
  "moderation.remove": Remove;
  "moderation.unmute": Unmute;
  "people.find": FindPeople;
  "ping": Ping;
  "presence.query": QueryPresence;
  "react": React;
  "read": MarkRead;
  "reauth": Reauth;
  "report.create": CreateReport;
  "report.resolve": ResolveReport;
  "reports": ListReports;
  "room.hand": RaiseHand;
  "room.host.admit": HostAdmit;
  "room.host.allow": HostAllow;
  "room.host.cohost": HostCohost;
  "room.host.end": HostEnd;
  "room.host.lower_hands": HostLowerHands;
  "room.host.mute": HostMute;
  "room.host.mute_all": HostMuteAll;
  "room.host.remove": HostRemove;
  "room.host.stop_screen": HostStopScreen;
  "room.join": JoinRoom;
  "room.leave": LeaveRoom;
  "room.list": ListRooms;
  "room.mute": MuteSelf;
  "room.start": StartRoom;
  "rtc.answer": RtcAnswer;
  "rtc.candidate": RtcCandidate;
  "rtc.publish": RtcPublish;
  "send": Send;
  "sync": Sync;
  "typing": Typing;
}

/** A frame a client sends: one msgpack map. */
export type ClientFrame = {
  [T in keyof ClientMessages]: { type: T; id?: RequestId } & ({} extends
    ClientMessages[T] ? { body?: ClientMessages[T] | null }
    : { body: ClientMessages[T] });
}[keyof ClientMessages];

/** The messages a server sends, by type. */
export interface ServerMessages {
  "ack": AckMsg;
  "chat.details": ChatDetails;
  "chat.event": ChatEventMsg;
  "chat.info": ChatInfo;
  "chat.list": ChatList;
  "chat.removed": ChatRemoved;
  "error": Error;
  "gap": Gap;
  "goodbye": Goodbye;
  "history.page": HistoryPage;
  "marked": Marked;
  "people.list": PeopleList;
  "pong": Pong;
  "presence": Presence;
  "presence.list": PresenceList;
  "reauthed": Reauthed;
  "receipt": Receipt;
  "report.info": ReportInfo;
  "report.list": ReportList;
  "report.new": ReportNew;
  "report.resolved": ReportResolved;
  "room.admitted": RoomAdmitted;
  "room.ended": Ended;
  "room.info": RoomInfo;
  "room.joined": RoomJoined;
  "room.list_result": RoomList;
  "room.ok": RoomOk;
  "room.participant": ParticipantChanged;
  "room.removed": Removed;
  "room.speaking": Speaking;
  "room.track": TrackChanged;
  "room.waiting": Waiting;
  "rtc.answer": RtcAnswer;
  "rtc.offer": RtcOffer;
  "session.expiring": SessionExpiring;
  "synced": Synced;
  "typing": TypingNotice;
  "welcome": Welcome;
}

/** A frame a server sends: one msgpack map. */
export type ServerFrame = {
  [T in keyof ServerMessages]: { type: T; id?: RequestId } & ({} extends
    ServerMessages[T] ? { body?: ServerMessages[T] | null }
    : { body: ServerMessages[T] });
}[keyof ServerMessages];

/** The replies each request may get on success (`error` is always possible). */
export interface Replies {
  "chat.details": "chat.details";
  "chat.get": "chat.info";
  "chats": "chat.list";
  "delete": "ack";
  "direct.open": "chat.info";
  "edit": "ack";
  "group.create": "chat.info";
  "group.members": "chat.info";
  "hello": "welcome";
  "history": "history.page";
  "media.show": "room.ok";
  "media.subscribe": "room.ok";
  "media.unpublish": "room.ok";
  "media.unsubscribe": "room.ok";
  "moderation.announcements": "ack";
  "moderation.delete": "ack";
  "moderation.mute": "ack";
  "moderation.pin": "ack";
  "moderation.remove": "ack";
  "moderation.unmute": "ack";
  "people.find": "people.list";
  "ping": "pong";
  "presence.query": "presence.list";
  "react": "ack";
  "read": "marked";
  "reauth": "reauthed";
  "report.create": "report.info";
  "report.resolve": "report.info";
  "reports": "report.list";
  "room.hand": "room.ok";
  "room.host.admit": "room.ok";
  "room.host.allow": "room.ok";
  "room.host.cohost": "room.ok";
  "room.host.end": "room.ok";
  "room.host.lower_hands": "room.ok";
  "room.host.mute": "room.ok";
  "room.host.mute_all": "room.ok";
  "room.host.remove": "room.ok";
  "room.host.stop_screen": "room.ok";
  "room.join": "room.joined";
  "room.leave": "room.ok";
  "room.list": "room.list_result";
  "room.mute": "room.ok";
  "room.start": "room.info";
  "rtc.answer": "room.ok";
  "rtc.candidate": "room.ok";
  "rtc.publish": "rtc.answer";
  "send": "ack";
  "sync": "synced";
  "typing": never;
}

/** Every error code, with its HTTP status and close code where it has one. */
export const ERRORS = {
  "auth.alg_none": { http: 401, close: 4401 },
  "auth.alg_not_allowed": { http: 401, close: 4401 },
  "auth.bad_claims": { http: 401, close: 4401 },
  "auth.bad_signature": { http: 401, close: 4401 },
  "auth.busy": { http: 503, close: null },
  "auth.cross_site": { http: 403, close: 4401 },
  "auth.expired": { http: 401, close: 4401 },
  "auth.malformed": { http: 401, close: 4401 },
  "auth.missing": { http: 401, close: 4401 },
  "auth.not_yet_valid": { http: 401, close: 4401 },
  "auth.person_mismatch": { http: null, close: null },
  "auth.tampered": { http: 401, close: 4401 },
  "auth.unknown_person": { http: 403, close: 4403 },
  "auth.wrong_client": { http: 401, close: 4401 },
  "auth.wrong_issuer": { http: 401, close: 4401 },
  "auth.wrong_token_type": { http: 401, close: 4401 },
  "chat.invalid": { http: 400, close: null },
  "chat.members_fixed": { http: 409, close: null },
  "chat.not_found": { http: 404, close: null },
  "chat.not_owner": { http: 403, close: null },
  "content.blocked": { http: 403, close: null },
  "content.link_forbidden": { http: 403, close: null },
  "esia.refused": { http: 502, close: null },
  "esia.unavailable": { http: 503, close: null },
  "frame.malformed": { http: null, close: null },
  "frame.not_binary": { http: null, close: null },
  "frame.too_large": { http: null, close: null },
  "heartbeat.timeout": { http: null, close: 4408 },
  "hello.repeated": { http: null, close: null },
  "hello.required": { http: null, close: null },
  "hello.timeout": { http: null, close: 4408 },
  "http.body_timeout": { http: 408, close: null },
  "http.too_many_requests": { http: 429, close: null },
  "idempotency.conflict": { http: 409, close: null },
  "media.bad_candidate": { http: 422, close: null },
  "media.bad_sdp": { http: 422, close: null },
  "media.bad_tracks": { http: 422, close: null },
  "media.codec": { http: 422, close: null },
  "media.no_connection": { http: 422, close: null },
  "media.no_offer": { http: 422, close: null },
  "media.no_room": { http: 422, close: null },
  "media.own_track": { http: 422, close: null },
  "media.too_many_tracks": { http: 422, close: null },
  "media.unknown_track": { http: 422, close: null },
  "message.deleted": { http: 409, close: null },
  "message.empty": { http: 400, close: null },
  "message.invalid": { http: null, close: null },
  "message.not_author": { http: 403, close: null },
  "message.not_found": { http: 404, close: null },
  "message.too_long": { http: 400, close: null },
  "message.unknown_type": { http: null, close: null },
  "moderation.announcements_only": { http: 403, close: null },
  "moderation.invalid": { http: 400, close: null },
  "moderation.muted": { http: 403, close: null },
  "moderation.not_moderator": { http: 403, close: null },
  "person.not_found": { http: 404, close: null },
  "policy.forbidden": { http: 403, close: null },
  "protocol.abuse": { http: null, close: 4400 },
  "protocol.version": { http: null, close: 4400 },
  "rate.limited": { http: 429, close: null },
  "report.not_found": { http: 404, close: null },
  "report.resolved": { http: 409, close: null },
  "request.invalid": { http: 400, close: null },
  "room.ended": { http: 409, close: null },
  "room.forbidden": { http: 403, close: null },
  "room.full": { http: 409, close: null },
  "room.invalid": { http: 400, close: null },
  "room.not_found": { http: 404, close: null },
  "room.not_host": { http: 403, close: null },
  "room.not_in_room": { http: 409, close: null },
  "room.not_started": { http: 409, close: null },
  "room.removed": { http: 403, close: null },
  "room.unavailable": { http: 503, close: null },
  "room.unmute_forbidden": { http: 403, close: null },
  "roster.invalid": { http: 422, close: null },
  "roster.outside_school": { http: 403, close: null },
  "roster.too_large": { http: 413, close: null },
  "school.not_found": { http: 404, close: null },
  "server.internal": { http: 500, close: 4500 },
  "server.shutdown": { http: null, close: 1001 },
  "session.expired": { http: 401, close: 4401 },
  "session.too_many": { http: null, close: 4429 },
  "settings.invalid": { http: 400, close: null },
  "sign_in.code_refused": { http: 400, close: null },
  "sign_in.declined": { http: 400, close: null },
  "sign_in.esia_busy": { http: 400, close: null },
  "sign_in.esia_error": { http: 400, close: null },
  "sign_in.expired": { http: 400, close: null },
  "sign_in.failed": { http: 400, close: null },
  "sign_in.other_browser": { http: 400, close: null },
  "sign_in.state_unknown": { http: 400, close: null },
  "sign_in.token_refused": { http: 400, close: null },
  "sign_in.unknown_person": { http: 400, close: null },
  "slow_consumer": { http: null, close: 4429 },
  "store.unavailable": { http: 503, close: null },
} as const;
