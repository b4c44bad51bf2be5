"""The values chats are made of, shared by the store, the service and the wire.

A chat is an ordered log of :class:`ChatEvent`.  Every change to a chat (a
message, an edit, a delete, a reaction, a membership change) is one event
and takes the chat's next sequence number in the transaction that stores
it, so ``(chat, seq)`` names one event forever and the events of a chat
have one order that every member sees.

A message is named by the sequence number of the event that posted it:
``(chat, message_id)`` with ``message_id == seq`` of its ``message`` event.

Event ``data`` by kind (plain msgpack/JSON-able maps):

* ``message``: ``{"id": int, "text": str, "reply_to": int | None}``; once
  deleted: ``{"id": int, "deleted": True}`` (the event stays, the content goes);
* ``edit``: ``{"id": int, "text": str, "version": int}`` (version 2 is the
  first edit); once the message is deleted: ``{"id": int, "deleted": True}``;
* ``delete``: ``{"id": int}``;
* ``reaction``: ``{"id": int, "emoji": str, "on": bool}``;
* ``members``: ``{"added": [oid, ...], "removed": [oid, ...]}``;
* ``moderation``: ``{"action": "mute", "person": oid, "until": unix}``,
  ``{"action": "unmute", "person": oid}``, ``{"action": "announcements",
  "on": bool}``, ``{"action": "pin", "id": int}``, ``{"action": "unpin"}``
  (docs/safety.md).  A moderator's ``delete`` has ``"moderator": true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from signaling import chat as wire


class ChatKind(StrEnum):
    DIRECT = "direct"  # two people
    CLASS = "class"  # a class's students and teachers (made from the roster)
    CLASS_PARENTS = "class_parents"  # parents of a class's students and the class teacher
    STAFF = "staff"  # a school's teachers and admins (made from the roster)
    GROUP = "group"  # made by a teacher or admin with chosen members


ROSTER_KINDS = frozenset({ChatKind.CLASS, ChatKind.CLASS_PARENTS, ChatKind.STAFF})
"""Kinds whose members follow the roster; nobody adds or removes them by hand."""


class EventKind(StrEnum):
    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"
    REACTION = "reaction"
    MEMBERS = "members"
    MODERATION = "moderation"


def class_chat_id(class_id: str) -> str:
    return f"class:{class_id}"


def parents_chat_id(class_id: str) -> str:
    return f"parents:{class_id}"


def staff_chat_id(school_id: str) -> str:
    return f"staff:{school_id}"


def direct_chat_id(a: int, b: int) -> str:
    lo, hi = sorted((a, b))
    return f"direct:{lo}:{hi}"


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One event of one chat, as stored and as delivered."""

    chat: str
    seq: int
    kind: EventKind
    author: int | None  # None for changes the roster made
    at: float  # unix time of the commit
    data: dict[str, Any]

    def to_json(self) -> wire.ChatEventBody:
        """The event as ``chat.event`` carries it and ``history.page`` lists it."""
        return {
            "chat": self.chat,
            "seq": self.seq,
            "kind": self.kind.value,
            "author": self.author,
            "at": self.at,
            "data": self.data,
        }

    def to_message(self) -> wire.ChatEventMsg:
        """The ``chat.event`` of this event."""
        return wire.ChatEventMsg(
            chat=self.chat,
            seq=self.seq,
            kind=self.kind.value,
            author=self.author,
            at=self.at,
            data=self.data,
        )


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """A chat as one member sees it in their chat list."""

    id: str
    kind: ChatKind
    title: str  # for a direct chat: the other person's full name
    school_id: str | None
    class_id: str | None
    members: int
    last_seq: int
    read_seq: int  # the member's read position
    unread: int  # undeleted messages by others with seq > read_seq
    last_message: ChatEvent | None  # the latest undeleted ``message`` event
    peer: int | None = None  # a direct chat: the other person

    def to_json(self) -> wire.ChatSummary:
        """The summary as ``chat.list`` and ``chat.info`` carry it."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "school_id": self.school_id,
            "class_id": self.class_id,
            "members": self.members,
            "last_seq": self.last_seq,
            "read_seq": self.read_seq,
            "unread": self.unread,
            "last_message": None if self.last_message is None else self.last_message.to_json(),
            "peer": self.peer,
        }


@dataclass(frozen=True, slots=True)
class ChatMember:
    """One member of a chat as the store holds it: name and mute."""

    oid: int
    full_name: str
    muted_until: float | None  # a moderator's mute, as stored (may have passed)


@dataclass(frozen=True, slots=True)
class Ack:
    """What a committed change returns: the event it made.

    ``duplicate`` is true when the idempotency key had been used before
    and this is the first ack again, with nothing new stored.
    """

    event: ChatEvent
    duplicate: bool = False
    masked: bool = False  # the content filter masked words of the text

    @property
    def chat(self) -> str:
        return self.event.chat

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def message_id(self) -> int:
        """The message the change is about (the seq of its ``message`` event),
        0 for a change about no message."""
        if self.event.kind is EventKind.MESSAGE:
            return self.event.seq
        return int(self.event.data.get("id") or 0)


@dataclass(frozen=True, slots=True)
class Retry:
    """A request the checks before the store refused, which may be the retry
    of one its idempotency key already stored (and so gets that first ack).

    ``operation`` and ``args`` are what the store fingerprints the request
    by (after the chat id); ``text_at`` is where the text stands in
    ``args``, for a stored text the content filter masked.
    """

    person: int
    key: str
    kind: EventKind
    chat_id: str
    operation: str
    args: tuple[object, ...]
    text_at: int | None = None


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """A ``members`` event and whom it added and removed (for the bus)."""

    event: ChatEvent
    added: tuple[int, ...]
    removed: tuple[int, ...]
