"""The chat messages of the Zvonok protocol, in the style of :mod:`signaling.messages`.

A chat is an ordered log of events, each with the chat's next sequence
number (``seq``); the wire form of an event (``chat.event``) mirrors
``server.chats.model.ChatEvent.to_json()`` and a chat's summary (an entry of
``chat.list``, the body of ``chat.info``) mirrors ``ChatSummary.to_json()``.

Client requests and the reply each one gets::

    sync            -> synced          group.create    -> chat.info
    chats           -> chat.list       group.members   -> chat.info
    chat.get        -> chat.info       direct.open     -> chat.info
    chat.details    -> chat.details
    send, edit,     -> ack             history         -> history.page
    delete, react                      read            -> marked
    presence.query  -> presence.list   typing          -> (nothing on success)

Events the server sends on its own: ``chat.event``, ``gap``, ``synced``
(after the catch-up that follows a ``hello`` with ``resume``),
``chat.removed``, ``typing``, ``receipt`` and ``presence``.  The limits and
the resume rules are in ``docs/protocol.md`` (section "Chats").

These modules validate shapes and ranges only; the server applies its own,
lower limits (``message.too_long`` for a text longer than ``welcome.limits.
max_text``) and every rule about who may do what.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypedDict

import emoji as emoji_data
from msgspec import UNSET, Meta, UnsetType

from .errors import CHAT_INVALID
from .fields import (
    DEFAULT_HISTORY_LIMIT,
    MAX_CHAT_ID,
    MAX_EMOJI,
    MAX_HISTORY_LIMIT,
    MAX_KEY,
    MAX_PEOPLE,
    MAX_POSITIONS,
    MAX_SAFE_INT,
    MAX_SCHOOL_ID,
    MAX_TEXT_WIRE,
    MAX_TITLE,
    ChatId,
    Emoji,
    EventKind,
    HistoryLimit,
    Int53,
    Key,
    Oid,
    People,
    PeopleTuple,
    Positions,
    SchoolId,
    Seq,
    Time,
    Title,
    WireText,
)
from .schema import ClientMessage, FieldError, ServerMessage

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "MAX_CHAT_ID",
    "MAX_EMOJI",
    "MAX_HISTORY_LIMIT",
    "MAX_KEY",
    "MAX_PEOPLE",
    "MAX_POSITIONS",
    "MAX_SAFE_INT",
    "MAX_SCHOOL_ID",
    "MAX_TEXT_WIRE",
    "MAX_TITLE",
]

# The statuses of Unicode's emoji-test.txt a reaction may have: a fully-qualified emoji or
# sequence (ZWJ, skin tone, flag, keycap: 👍, 👍🏽, 🇷🇺, 1️⃣, 👨‍👩‍👧) or a component (🏽).
_REACTION_STATUSES = frozenset(
    (emoji_data.STATUS["fully_qualified"], emoji_data.STATUS["component"])
)
MAX_CHATS = 10_000  # chats in one chat.list
MAX_EVENTS = 10_000  # events in one history.page (a server sends at most the asked limit)


def is_reaction(text: str) -> bool:
    """Whether ``text`` is one emoji, as a reaction must be (``docs/protocol.md``, ``react``).

    One fully-qualified emoji or emoji sequence of Unicode's list, or a component (a skin
    tone, a hair style), as the ``emoji`` package ships it; nothing before, after or
    between (no words, no two emoji, no text-style ❤ without its variation selector).
    """
    entry = emoji_data.EMOJI_DATA.get(text)
    return entry is not None and entry["status"] in _REACTION_STATUSES


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


class Sync(ClientMessage, frozen=True):
    """Catch up on the named chats from the given positions.

    ``{"positions": {"class:5a": 41, "direct:1:2": 0}}``.  The server sends
    every event after each position (or a ``gap``), then the reply ``synced``.
    """

    TYPE: ClassVar[str] = "sync"
    REPLY: ClassVar[tuple[str, ...]] = ("synced",)
    positions: Positions


class ListChats(ClientMessage, frozen=True):
    """The person's chats, most recently active first.  Body ``{}``; reply ``chat.list``."""

    TYPE: ClassVar[str] = "chats"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.list",)


class GetChat(ClientMessage, frozen=True):
    """One chat's summary.  ``{"chat": "class:5a"}``; reply ``chat.info``."""

    TYPE: ClassVar[str] = "chat.get"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.info",)
    chat: ChatId


class GetDetails(ClientMessage, frozen=True):
    """Who is in a chat, and its moderation state as the asker may see it.

    ``{"chat": "class:5a"}``; reply ``chat.details``.  For members and for
    the chat's moderators (who may read a chat they are not in, except a
    direct one); ``chat.not_found`` for anyone else.
    """

    TYPE: ClassVar[str] = "chat.details"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.details",)
    chat: ChatId


class Send(ClientMessage, frozen=True):
    """Post a message.  Reply ``ack``.

    ``{"chat": "class:5a", "text": "...", "key": "<idempotency key>",
    "reply_to": 17?}``.  Sending again with the same key acks the first
    message again (``duplicate: true``) instead of posting twice.
    """

    TYPE: ClassVar[str] = "send"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    text: WireText
    key: Key
    reply_to: Int53 | None = None


class Edit(ClientMessage, frozen=True):
    """Replace the text of one's own message.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "text": "...", "key": "..."?}``
    """

    TYPE: ClassVar[str] = "edit"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    message_id: Int53
    text: WireText
    key: Key | None = None


class Delete(ClientMessage, frozen=True):
    """Delete one's own message.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "key": "..."?}``
    """

    TYPE: ClassVar[str] = "delete"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    message_id: Int53
    key: Key | None = None


class React(ClientMessage, frozen=True, omit_defaults=False):
    """Add (``on``) or take back a reaction.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "emoji": "👍", "on": true, "key": "..."?}``;
    ``on`` defaults to true (and is always sent).  ``emoji`` is one emoji
    (:func:`is_reaction`); anything else is refused with ``chat.invalid``.
    """

    TYPE: ClassVar[str] = "react"
    REPLY: ClassVar[tuple[str, ...]] = ("ack",)
    chat: ChatId
    message_id: Int53
    emoji: Emoji
    on: bool = True
    key: Key | UnsetType = UNSET

    def check(self) -> None:
        if not is_reaction(self.emoji):
            raise FieldError("emoji", "expected one emoji", CHAT_INVALID)


class History(ClientMessage, frozen=True, omit_defaults=False):
    """A page of a chat's stored events.  Reply ``history.page``.

    ``{"chat": "class:5a", "before": 120?, "after": 40?, "limit": 50}``:
    events with ``after < seq < before`` (``after`` defaults to 0), in
    ascending order, at most ``limit`` (1 to 200, default 50, always sent):
    with ``before`` the last ones of the range, without it the first ones.
    """

    TYPE: ClassVar[str] = "history"
    REPLY: ClassVar[tuple[str, ...]] = ("history.page",)
    chat: ChatId
    before: Int53 | UnsetType = UNSET
    after: Int53 | UnsetType = UNSET
    limit: HistoryLimit = DEFAULT_HISTORY_LIMIT


class MarkRead(ClientMessage, frozen=True):
    """Move one's read position forward.  ``{"chat": "class:5a", "seq": 42}``; reply ``marked``."""

    TYPE: ClassVar[str] = "read"
    REPLY: ClassVar[tuple[str, ...]] = ("marked",)
    chat: ChatId
    seq: Seq


class Typing(ClientMessage, frozen=True):
    """The person is typing in a chat.  ``{"chat": "class:5a"}``; no reply on success.

    The server passes it on to the other members as the event ``typing``
    (:class:`TypingNotice`); it is not stored.
    """

    TYPE: ClassVar[str] = "typing"
    REPLY: ClassVar[tuple[str, ...]] = ()
    chat: ChatId


class OpenDirect(ClientMessage, frozen=True):
    """The direct chat with a person, made if new.  ``{"person": oid}``; reply ``chat.info``."""

    TYPE: ClassVar[str] = "direct.open"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.info",)
    person: Oid


class CreateGroup(ClientMessage, frozen=True):
    """A new group chat owned by the sender, who is always a member.  Reply ``chat.info``.

    ``{"school": "sosh-1", "title": "Кружок робототехники", "members": [oid, ...],
    "key": "..."?}``
    """

    TYPE: ClassVar[str] = "group.create"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.info",)
    school: SchoolId
    title: Title
    members: People
    key: Key | None = None


class ChangeMembers(ClientMessage, frozen=True, omit_defaults=False):
    """Add and remove members of a group (its owner only).  Reply ``chat.info``.

    ``{"chat": "group:...", "add": [oid, ...], "remove": [oid, ...]}``; either
    list may be omitted.
    """

    TYPE: ClassVar[str] = "group.members"
    REPLY: ClassVar[tuple[str, ...]] = ("chat.info",)
    chat: ChatId
    add: PeopleTuple = ()
    remove: PeopleTuple = ()


class QueryPresence(ClientMessage, frozen=True):
    """Who of these people is online.  ``{"people": [oid, ...]}``; reply ``presence.list``."""

    TYPE: ClassVar[str] = "presence.query"
    REPLY: ClassVar[tuple[str, ...]] = ("presence.list",)
    people: People


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


class ChatEventBody(TypedDict):
    """One event of one chat, as ``chat.event`` carries it and ``history.page`` lists it.

    ``data`` by ``kind``: ``message`` ``{"id", "text", "reply_to"}`` (once
    deleted ``{"id", "deleted": true}``), ``edit`` ``{"id", "text",
    "version"}``, ``delete`` ``{"id", "moderator"?}``, ``reaction`` ``{"id",
    "emoji", "on"}``, ``members`` ``{"added", "removed"}``, ``moderation``
    ``{"action", ...}`` (docs/protocol.md, "Chat events").
    """

    chat: ChatId
    seq: Seq
    kind: EventKind
    author: Oid | None
    at: Time
    data: dict[str, Any]


ChatKind = Literal["direct", "class", "class_parents", "staff", "group"]


class ChatSummary(TypedDict):
    """A chat as one member sees it: an entry of ``chat.list``, the body of ``chat.info``."""

    id: ChatId
    kind: ChatKind
    title: Annotated[str, Meta(max_length=1000, description="a direct chat: the other's name")]
    school_id: SchoolId | None
    class_id: Annotated[str, Meta(min_length=1, max_length=64)] | None
    members: Int53
    last_seq: Seq
    read_seq: Seq
    unread: Int53
    last_message: ChatEventBody | None
    peer: Annotated[Oid | None, Meta(description="a direct chat: the other person")]


MemberRole = Literal["student", "parent", "teacher", "admin"]


class MemberEntry(TypedDict):
    """One member of a chat: an entry of ``chat.details``."""

    oid: Oid
    full_name: Annotated[str, Meta(max_length=602)]
    roles: Annotated[
        list[MemberRole],
        Meta(
            max_length=4,
            description="the member's roles in the chat's school (any school for a direct chat)",
        ),
    ]
    moderator: Annotated[bool, Meta(description="moderates the chat")]
    muted_until: Annotated[
        Time | None,
        Meta(description="until when muted; told to moderators and to the member"),
    ]


class PresenceEntry(TypedDict):
    """Whether one person is online: an entry of ``presence.list``."""

    person: Oid
    online: bool
    last_seen: Time | None


class AckMsg(ServerMessage, frozen=True):
    """The answer to ``send``, ``edit``, ``delete`` and ``react``: the event it made.

    ``{"chat": "class:5a", "seq": 43, "message_id": 17, "duplicate": false,
    "masked": true?}``; ``duplicate`` is true when the idempotency key had
    been used before and nothing new was stored (``seq`` is then the first
    event's); ``masked`` when the content filter replaced words of the text
    with ``*`` (docs/safety.md), and left out otherwise.  ``message_id`` is 0
    for an event about no message (a mute, a membership change).
    """

    TYPE: ClassVar[str] = "ack"
    chat: ChatId
    seq: Seq
    message_id: Int53
    duplicate: bool
    masked: bool = False


class ChatEventMsg(ServerMessage, frozen=True, omit_defaults=False, kw_only=True):
    """One event of one chat (a ``ChatEventBody``).

    ``{"chat": "class:5a", "seq": 43, "kind": "message", "author": oid | nil,
    "at": unix, "data": {...}}``.  ``kind`` is not checked against a list:
    a newer server may add kinds, which a client should skip (but still
    count as seen).
    """

    TYPE: ClassVar[str] = "chat.event"
    chat: ChatId
    seq: Seq
    kind: EventKind
    author: Oid | None = None
    at: Time
    data: dict[str, Any]


class Gap(ServerMessage, frozen=True):
    """Events ``from_seq`` to ``to_seq`` (inclusive) were not sent; page them with ``history``.

    ``{"chat": "class:5a", "from_seq": 42, "to_seq": 1541}`` with ``to_seq >=
    from_seq``.  Live events of the chat go on from ``to_seq + 1``.
    """

    TYPE: ClassVar[str] = "gap"
    chat: ChatId
    from_seq: Seq
    to_seq: Seq

    def check(self) -> None:
        if self.to_seq < self.from_seq:
            raise FieldError("to_seq", f"an integer from {self.from_seq} (from_seq) up")


class Synced(ServerMessage, frozen=True):
    """The positions reached by a catch-up.  ``{"positions": {"class:5a": 43, ...}}``

    The reply to ``sync``, and an event after the catch-up that follows a
    ``hello`` with ``resume``.
    """

    TYPE: ClassVar[str] = "synced"
    positions: Positions


class ChatList(ServerMessage, frozen=True):
    """The reply to ``chats``.  ``{"chats": [chat summary, ...]}``"""

    TYPE: ClassVar[str] = "chat.list"
    chats: Annotated[list[ChatSummary], Meta(max_length=MAX_CHATS)]


class ChatInfo(ServerMessage, frozen=True):
    """One chat's summary: the reply to ``chat.get``, ``direct.open``,
    ``group.create`` and ``group.members``.  ``{"chat": chat summary}``"""

    TYPE: ClassVar[str] = "chat.info"
    chat: ChatSummary


class ChatDetails(ServerMessage, frozen=True):
    """The reply to ``chat.details``.

    ``{"chat": "class:5a", "members": [member, ...], "owner": oid | nil,
    "moderator": bool, "announcements": bool, "pinned": message_id | nil,
    "muted_until": unix | nil}``: the members by OID; ``owner`` of a group;
    ``moderator`` whether the asker moderates the chat; ``muted_until`` the
    asker's own mute.  Past mutes read as nil.
    """

    TYPE: ClassVar[str] = "chat.details"
    chat: ChatId
    members: Annotated[list[MemberEntry], Meta(max_length=10_000)]
    owner: Oid | None
    moderator: bool
    announcements: bool
    pinned: Int53 | None
    muted_until: Time | None


class ChatRemoved(ServerMessage, frozen=True):
    """The person is no longer a member of the chat.  ``{"chat": "group:..."}``"""

    TYPE: ClassVar[str] = "chat.removed"
    chat: ChatId


class HistoryPage(ServerMessage, frozen=True):
    """The reply to ``history``.

    ``{"chat": "class:5a", "events": [event, ...], "more": bool}``: the
    events in ascending ``seq`` order; ``more`` is true when the range asked
    for holds further events than the page.
    """

    TYPE: ClassVar[str] = "history.page"
    chat: ChatId
    events: Annotated[list[ChatEventBody], Meta(max_length=MAX_EVENTS)]
    more: bool


class Marked(ServerMessage, frozen=True):
    """The reply to ``read``: the read position now.  ``{"chat": "class:5a", "read_seq": 42}``"""

    TYPE: ClassVar[str] = "marked"
    chat: ChatId
    read_seq: Seq


class TypingNotice(ServerMessage, frozen=True):
    """A member is typing.  ``{"chat": "class:5a", "person": oid}``

    The server's ``typing``: same type string as the client's :class:`Typing`,
    in the other direction's registry.
    """

    TYPE: ClassVar[str] = "typing"
    chat: ChatId
    person: Oid


class Receipt(ServerMessage, frozen=True):
    """A member's read position moved.  ``{"chat": "class:5a", "person": oid, "seq": 42}``"""

    TYPE: ClassVar[str] = "receipt"
    chat: ChatId
    person: Oid
    seq: Seq


class Presence(ServerMessage, frozen=True, omit_defaults=False):
    """A person came online or went offline.

    ``{"person": oid, "online": bool, "last_seen": unix | nil}``
    """

    TYPE: ClassVar[str] = "presence"
    person: Oid
    online: bool
    last_seen: Time | None = None


class PresenceList(ServerMessage, frozen=True):
    """The reply to ``presence.query``.

    ``{"people": [{"person": oid, "online": bool, "last_seen": unix | nil}, ...]}``
    """

    TYPE: ClassVar[str] = "presence.list"
    people: Annotated[list[PresenceEntry], Meta(max_length=MAX_PEOPLE)]
