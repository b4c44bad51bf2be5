"""The chat messages of the Zvonok protocol, in the style of :mod:`signaling.messages`.

A chat is an ordered log of events, each with the chat's next sequence
number (``seq``); the wire form of an event (``chat.event``) mirrors
``server.chats.model.ChatEvent.to_json()`` and a chat's summary (an entry of
``chat.list``, the body of ``chat.info``) mirrors ``ChatSummary.to_json()``.

Client requests and the reply each one gets::

    sync            -> synced          group.create    -> chat.info
    chats           -> chat.list       group.members   -> chat.info
    chat.get        -> chat.info       direct.open     -> chat.info
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

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import emoji as emoji_data

from .errors import CHAT_INVALID, ProtocolError
from .fields import MAX_CHAT_ID, MAX_POSITIONS, MAX_SAFE_INT, Body
from .messages import Message

MAX_TEXT_WIRE = 65_536  # characters; the server's own max_text (welcome.limits) is lower
MAX_KEY = 128  # characters of an idempotency key
MAX_EMOJI = 16  # characters of a reaction (a grapheme cluster may be several code points)
# The statuses of Unicode's emoji-test.txt a reaction may have: a fully-qualified emoji or
# sequence (ZWJ, skin tone, flag, keycap: 👍, 👍🏽, 🇷🇺, 1️⃣, 👨‍👩‍👧) or a component (🏽).
_REACTION_STATUSES = frozenset(
    (emoji_data.STATUS["fully_qualified"], emoji_data.STATUS["component"])
)
MAX_TITLE = 200  # characters of a group's title
MAX_SCHOOL_ID = 64  # characters of a school id (the roster allows 1 to 64)
MAX_PEOPLE = 500  # OIDs in one members list or presence query
MAX_CHATS = 10_000  # chats in one chat.list
MAX_EVENTS = 10_000  # events in one history.page (a server sends at most the asked limit)
MAX_EVENT_KIND = 32  # characters of an event kind
MAX_HISTORY_LIMIT = 200
DEFAULT_HISTORY_LIMIT = 50


def is_reaction(text: str) -> bool:
    """Whether ``text`` is one emoji, as a reaction must be (``docs/protocol.md``, ``react``).

    One fully-qualified emoji or emoji sequence of Unicode's list, or a component (a skin
    tone, a hair style), as the ``emoji`` package ships it; nothing before, after or
    between (no words, no two emoji, no text-style ❤ without its variation selector).
    """
    entry = emoji_data.EMOJI_DATA.get(text)
    return entry is not None and entry["status"] in _REACTION_STATUSES


def _reaction(body: Body) -> str:
    value = body.text("emoji", max_len=MAX_EMOJI)
    if not is_reaction(value):
        raise ProtocolError(CHAT_INVALID, "react.emoji: expected one emoji")
    return value


def _chat(body: Body, key: str = "chat") -> str:
    return body.text(key, max_len=MAX_CHAT_ID)


def _seq(body: Body, key: str) -> int:
    return body.integer(key, lo=0, hi=MAX_SAFE_INT)


def _person(body: Body, key: str) -> int:
    return body.integer(key, lo=1, hi=MAX_SAFE_INT)


def _people(body: Body, key: str) -> list[int]:
    return body.int_list(key, max_items=MAX_PEOPLE, lo=1, hi=MAX_SAFE_INT)


def _opt_key(body: Body) -> str | None:
    return body.opt_text("key", max_len=MAX_KEY)


def _with_key(out: dict[str, Any], key: str | None) -> dict[str, Any]:
    if key is not None:
        out["key"] = key
    return out


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sync(Message):
    """Catch up on the named chats from the given positions.

    ``{"positions": {"class:5a": 41, "direct:1:2": 0}}``.  The server sends
    every event after each position (or a ``gap``), then the reply ``synced``.
    """

    TYPE: ClassVar[str] = "sync"
    positions: dict[str, int]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(positions=body.positions("positions", max_items=MAX_POSITIONS))

    def encode(self) -> dict[str, Any]:
        return {"positions": self.positions}


@dataclass(frozen=True, slots=True)
class ListChats(Message):
    """The person's chats, most recently active first.  Body ``{}``; reply ``chat.list``."""

    TYPE: ClassVar[str] = "chats"

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls()

    def encode(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class GetChat(Message):
    """One chat's summary.  ``{"chat": "class:5a"}``; reply ``chat.info``."""

    TYPE: ClassVar[str] = "chat.get"
    chat: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat}


@dataclass(frozen=True, slots=True)
class Send(Message):
    """Post a message.  Reply ``ack``.

    ``{"chat": "class:5a", "text": "...", "key": "<idempotency key>",
    "reply_to": 17?}``.  Sending again with the same key acks the first
    message again (``duplicate: true``) instead of posting twice.
    """

    TYPE: ClassVar[str] = "send"
    chat: str
    text: str
    key: str
    reply_to: int | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            text=body.text("text", max_len=MAX_TEXT_WIRE),
            key=body.text("key", max_len=MAX_KEY),
            reply_to=body.opt_integer("reply_to"),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chat": self.chat, "text": self.text, "key": self.key}
        if self.reply_to is not None:
            out["reply_to"] = self.reply_to
        return out


@dataclass(frozen=True, slots=True)
class Edit(Message):
    """Replace the text of one's own message.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "text": "...", "key": "..."?}``
    """

    TYPE: ClassVar[str] = "edit"
    chat: str
    message_id: int
    text: str
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            message_id=_seq(body, "message_id"),
            text=body.text("text", max_len=MAX_TEXT_WIRE),
            key=_opt_key(body),
        )

    def encode(self) -> dict[str, Any]:
        out = {"chat": self.chat, "message_id": self.message_id, "text": self.text}
        return _with_key(out, self.key)


@dataclass(frozen=True, slots=True)
class Delete(Message):
    """Delete one's own message.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "key": "..."?}``
    """

    TYPE: ClassVar[str] = "delete"
    chat: str
    message_id: int
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), message_id=_seq(body, "message_id"), key=_opt_key(body))

    def encode(self) -> dict[str, Any]:
        return _with_key({"chat": self.chat, "message_id": self.message_id}, self.key)


@dataclass(frozen=True, slots=True)
class React(Message):
    """Add (``on``) or take back a reaction.  Reply ``ack``.

    ``{"chat": "class:5a", "message_id": 17, "emoji": "👍", "on": true, "key": "..."?}``;
    ``on`` defaults to true.  ``emoji`` is one emoji (:func:`is_reaction`); anything else
    is refused with ``chat.invalid``.
    """

    TYPE: ClassVar[str] = "react"
    chat: str
    message_id: int
    emoji: str
    on: bool = True
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            message_id=_seq(body, "message_id"),
            emoji=_reaction(body),
            on=body.opt_boolean("on", True),
            key=_opt_key(body),
        )

    def encode(self) -> dict[str, Any]:
        out = {
            "chat": self.chat,
            "message_id": self.message_id,
            "emoji": self.emoji,
            "on": self.on,
        }
        return _with_key(out, self.key)


@dataclass(frozen=True, slots=True)
class History(Message):
    """A page of a chat's stored events.  Reply ``history.page``.

    ``{"chat": "class:5a", "before": 120?, "after": 40?, "limit": 50}``:
    events with ``after < seq < before`` (``after`` defaults to 0), in
    ascending order, at most ``limit`` (1 to 200, default 50): with
    ``before`` the last ones of the range, without it the first ones.
    """

    TYPE: ClassVar[str] = "history"
    chat: str
    before: int | None = None
    after: int | None = None
    limit: int = DEFAULT_HISTORY_LIMIT

    @classmethod
    def decode(cls, body: Body) -> Self:
        limit = body.opt_integer("limit", lo=1, hi=MAX_HISTORY_LIMIT)
        return cls(
            chat=_chat(body),
            before=body.opt_integer("before"),
            after=body.opt_integer("after"),
            limit=DEFAULT_HISTORY_LIMIT if limit is None else limit,
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chat": self.chat, "limit": self.limit}
        if self.before is not None:
            out["before"] = self.before
        if self.after is not None:
            out["after"] = self.after
        return out


@dataclass(frozen=True, slots=True)
class MarkRead(Message):
    """Move one's read position forward.  ``{"chat": "class:5a", "seq": 42}``; reply ``marked``."""

    TYPE: ClassVar[str] = "read"
    chat: str
    seq: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), seq=_seq(body, "seq"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class Typing(Message):
    """The person is typing in a chat.  ``{"chat": "class:5a"}``; no reply on success.

    The server passes it on to the other members as the event ``typing``
    (:class:`TypingNotice`); it is not stored.
    """

    TYPE: ClassVar[str] = "typing"
    chat: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat}


@dataclass(frozen=True, slots=True)
class OpenDirect(Message):
    """The direct chat with a person, made if new.  ``{"person": oid}``; reply ``chat.info``."""

    TYPE: ClassVar[str] = "direct.open"
    person: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(person=_person(body, "person"))

    def encode(self) -> dict[str, Any]:
        return {"person": self.person}


@dataclass(frozen=True, slots=True)
class CreateGroup(Message):
    """A new group chat owned by the sender, who is always a member.  Reply ``chat.info``.

    ``{"school": "sosh-1", "title": "Кружок робототехники", "members": [oid, ...],
    "key": "..."?}``
    """

    TYPE: ClassVar[str] = "group.create"
    school: str
    title: str
    members: list[int]
    key: str | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            school=body.text("school", max_len=MAX_SCHOOL_ID),
            title=body.text("title", max_len=MAX_TITLE),
            members=_people(body, "members"),
            key=_opt_key(body),
        )

    def encode(self) -> dict[str, Any]:
        out = {"school": self.school, "title": self.title, "members": list(self.members)}
        return _with_key(out, self.key)


@dataclass(frozen=True, slots=True)
class ChangeMembers(Message):
    """Add and remove members of a group (its owner only).  Reply ``chat.info``.

    ``{"chat": "group:...", "add": [oid, ...], "remove": [oid, ...]}``; either
    list may be omitted.
    """

    TYPE: ClassVar[str] = "group.members"
    chat: str
    add: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()

    @classmethod
    def decode(cls, body: Body) -> Self:
        add = body.opt_int_list("add", max_items=MAX_PEOPLE, lo=1, hi=MAX_SAFE_INT)
        remove = body.opt_int_list("remove", max_items=MAX_PEOPLE, lo=1, hi=MAX_SAFE_INT)
        return cls(chat=_chat(body), add=tuple(add or ()), remove=tuple(remove or ()))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "add": list(self.add), "remove": list(self.remove)}


@dataclass(frozen=True, slots=True)
class QueryPresence(Message):
    """Who of these people is online.  ``{"people": [oid, ...]}``; reply ``presence.list``."""

    TYPE: ClassVar[str] = "presence.query"
    people: list[int]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(people=_people(body, "people"))

    def encode(self) -> dict[str, Any]:
        return {"people": list(self.people)}


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AckMsg(Message):
    """The answer to ``send``, ``edit``, ``delete`` and ``react``: the event it made.

    ``{"chat": "class:5a", "seq": 43, "message_id": 17, "duplicate": false,
    "masked": true?}``; ``duplicate`` is true when the idempotency key had
    been used before and nothing new was stored (``seq`` is then the first
    event's); ``masked`` when the content filter replaced words of the text
    with ``*`` (docs/safety.md).  ``message_id`` is 0 for an event about no
    message (a mute, a membership change).
    """

    TYPE: ClassVar[str] = "ack"
    chat: str
    seq: int
    message_id: int
    duplicate: bool
    masked: bool = False

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            seq=_seq(body, "seq"),
            message_id=_seq(body, "message_id"),
            duplicate=body.boolean("duplicate"),
            masked=body.opt_boolean("masked", False),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "chat": self.chat,
            "seq": self.seq,
            "message_id": self.message_id,
            "duplicate": self.duplicate,
        }
        if self.masked:
            out["masked"] = True
        return out


@dataclass(frozen=True, slots=True)
class ChatEventMsg(Message):
    """One event of one chat: ``ChatEvent.to_json()``.

    ``{"chat": "class:5a", "seq": 43, "kind": "message", "author": oid | nil,
    "at": unix, "data": {...}}``.  ``kind`` is not checked against a list:
    a newer server may add kinds, which a client should skip (but still
    count as seen).
    """

    TYPE: ClassVar[str] = "chat.event"
    chat: str
    seq: int
    kind: str
    author: int | None
    at: float
    data: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            seq=_seq(body, "seq"),
            kind=body.text("kind", max_len=MAX_EVENT_KIND),
            author=body.opt_integer("author", lo=1),
            at=body.number("at"),
            data=body.map("data"),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "chat": self.chat,
            "seq": self.seq,
            "kind": self.kind,
            "author": self.author,
            "at": self.at,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class Gap(Message):
    """Events ``from_seq`` to ``to_seq`` (inclusive) were not sent; page them with ``history``.

    ``{"chat": "class:5a", "from_seq": 42, "to_seq": 1541}``.  Live events
    of the chat go on from ``to_seq + 1``.
    """

    TYPE: ClassVar[str] = "gap"
    chat: str
    from_seq: int
    to_seq: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        from_seq = _seq(body, "from_seq")
        return cls(
            chat=_chat(body),
            from_seq=from_seq,
            to_seq=body.integer("to_seq", lo=from_seq),
        )

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "from_seq": self.from_seq, "to_seq": self.to_seq}


@dataclass(frozen=True, slots=True)
class Synced(Message):
    """The positions reached by a catch-up.  ``{"positions": {"class:5a": 43, ...}}``

    The reply to ``sync``, and an event after the catch-up that follows a
    ``hello`` with ``resume``.
    """

    TYPE: ClassVar[str] = "synced"
    positions: dict[str, int]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(positions=body.positions("positions", max_items=MAX_POSITIONS))

    def encode(self) -> dict[str, Any]:
        return {"positions": self.positions}


@dataclass(frozen=True, slots=True)
class ChatList(Message):
    """The reply to ``chats``.  ``{"chats": [ChatSummary.to_json(), ...]}``

    The entries are kept as maps (only their being maps is checked).
    """

    TYPE: ClassVar[str] = "chat.list"
    chats: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chats=body.list_of_maps("chats", MAX_CHATS))

    def encode(self) -> dict[str, Any]:
        return {"chats": self.chats}


@dataclass(frozen=True, slots=True)
class ChatInfo(Message):
    """One chat's summary: the reply to ``chat.get``, ``direct.open``,
    ``group.create`` and ``group.members``.

    ``{"chat": ChatSummary.to_json()}``
    """

    TYPE: ClassVar[str] = "chat.info"
    chat: dict[str, Any]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=body.map("chat"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat}


@dataclass(frozen=True, slots=True)
class ChatRemoved(Message):
    """The person is no longer a member of the chat.  ``{"chat": "group:..."}``"""

    TYPE: ClassVar[str] = "chat.removed"
    chat: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat}


@dataclass(frozen=True, slots=True)
class HistoryPage(Message):
    """The reply to ``history``.

    ``{"chat": "class:5a", "events": [ChatEvent.to_json(), ...], "more": bool}``:
    the events in ascending ``seq`` order; ``more`` is true when the range
    asked for holds further events than the page.
    """

    TYPE: ClassVar[str] = "history.page"
    chat: str
    events: list[dict[str, Any]]
    more: bool

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            chat=_chat(body),
            events=body.list_of_maps("events", MAX_EVENTS),
            more=body.boolean("more"),
        )

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "events": self.events, "more": self.more}


@dataclass(frozen=True, slots=True)
class Marked(Message):
    """The reply to ``read``: the read position now.  ``{"chat": "class:5a", "read_seq": 42}``"""

    TYPE: ClassVar[str] = "marked"
    chat: str
    read_seq: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), read_seq=_seq(body, "read_seq"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "read_seq": self.read_seq}


@dataclass(frozen=True, slots=True)
class TypingNotice(Message):
    """A member is typing.  ``{"chat": "class:5a", "person": oid}``

    The server's ``typing``: same type string as the client's :class:`Typing`,
    in the other direction's registry.
    """

    TYPE: ClassVar[str] = "typing"
    chat: str
    person: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), person=_person(body, "person"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "person": self.person}


@dataclass(frozen=True, slots=True)
class Receipt(Message):
    """A member's read position moved.  ``{"chat": "class:5a", "person": oid, "seq": 42}``"""

    TYPE: ClassVar[str] = "receipt"
    chat: str
    person: int
    seq: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(chat=_chat(body), person=_person(body, "person"), seq=_seq(body, "seq"))

    def encode(self) -> dict[str, Any]:
        return {"chat": self.chat, "person": self.person, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class Presence(Message):
    """A person came online or went offline.

    ``{"person": oid, "online": bool, "last_seen": unix | nil}``
    """

    TYPE: ClassVar[str] = "presence"
    person: int
    online: bool
    last_seen: float | None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            person=_person(body, "person"),
            online=body.boolean("online"),
            last_seen=body.opt_number("last_seen"),
        )

    def encode(self) -> dict[str, Any]:
        return {"person": self.person, "online": self.online, "last_seen": self.last_seen}


@dataclass(frozen=True, slots=True)
class PresenceList(Message):
    """The reply to ``presence.query``.

    ``{"people": [{"person": oid, "online": bool, "last_seen": unix | nil}, ...]}``
    """

    TYPE: ClassVar[str] = "presence.list"
    people: list[dict[str, Any]]

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(people=body.list_of_maps("people", MAX_PEOPLE))

    def encode(self) -> dict[str, Any]:
        return {"people": self.people}
