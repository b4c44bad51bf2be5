"""The session messages of the Zvonok protocol: hello, reauth, ping and their replies.

Each message is one frozen :class:`~signaling.schema.Message` struct; its
fields, with their types and limits (:mod:`signaling.fields`), are its wire
form.  Defining it registers it in its direction's allow-list.  No I/O, no
state, no clock: the envelope lives in :mod:`signaling.codec`.

The wire form of each message is given in its docstring and, with examples,
in ``docs/protocol.md``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, TypedDict

import msgspec
from msgspec import Meta

from .fields import (
    MAX_SAFE_INT,
    ClassId,
    ClientName,
    Code,
    HumanText,
    Oid,
    Positions,
    SchoolId,
    Seconds,
    Time,
    Token,
    Version,
)
from .schema import ClientMessage, Message, ServerMessage

__all__ = ["PROTOCOL_VERSION", "Message"]

PROTOCOL_VERSION = 1
MAX_CODE_LENGTH = 64
MAX_HUMAN_TEXT = 1024

Name = Annotated[str, Meta(min_length=1, max_length=200)]  # the roster's limit of a text
Role = Literal["student", "parent", "teacher", "admin"]
Relation = Literal["student", "class_teacher", "subject_teacher"]


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


class Hello(ClientMessage, frozen=True):
    """Opens a session.

    ``{"v": 1, "token": "<ESIA access token>" | nil, "client": "web/1.4",
    "resume": {"class:5a": 41, ...}?}``.  Without ``token`` (nil or absent) the session is
    the browser's: the server signs it in by the session cookie the upgrade
    request carried (and only if its ``Origin`` is the server's own).  With
    ``resume`` (chat id to the highest seq the client has seen) the server
    sends every chat event after those positions, then ``synced``; without
    it, only live events.
    """

    TYPE: ClassVar[str] = "hello"
    REPLY: ClassVar[tuple[str, ...]] = ("welcome",)
    version: Version = msgspec.field(name="v")
    token: Token | None
    client: ClientName
    resume: Positions | None = None

    def __repr__(self) -> str:  # never let a token reach a log through repr()
        resume = "None" if self.resume is None else f"<{len(self.resume)} chats>"
        return (
            f"Hello(version={self.version}, client={self.client!r}, token=<redacted>, "
            f"resume={resume})"
        )


class Reauth(ClientMessage, frozen=True):
    """Replaces the session's token with a fresh one for the same person.

    ``{"token": "<ESIA access token>"}``
    """

    TYPE: ClassVar[str] = "reauth"
    REPLY: ClassVar[tuple[str, ...]] = ("reauthed",)
    token: Token

    def __repr__(self) -> str:
        return "Reauth(token=<redacted>)"


class Ping(ClientMessage, frozen=True):
    """Application-level liveness check; answered by ``pong``.  Body ``{}``.

    Browsers cannot see WebSocket pings, so a web client uses this to find
    out that the server has gone away.
    """

    TYPE: ClassVar[str] = "ping"
    REPLY: ClassVar[tuple[str, ...]] = ("pong",)


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


class Limits(msgspec.Struct, frozen=True):
    """The limits in force for a session, announced in ``welcome``."""

    max_frame: Annotated[int, Meta(ge=1, le=MAX_SAFE_INT, description="bytes of a frame")]
    max_text: Annotated[int, Meta(ge=1, le=MAX_SAFE_INT, description="characters of a message")]
    frames_per_second: Seconds
    frame_burst: Annotated[int, Meta(ge=1, le=MAX_SAFE_INT)]


class Person(TypedDict):
    """A person of the roster."""

    oid: Oid
    last_name: Name
    first_name: Name
    middle_name: Name | None
    full_name: Annotated[str, Meta(min_length=1, max_length=3 * 200 + 2)]
    birth_date: Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="ISO 8601 date")]


class SchoolRole(TypedDict):
    """One role a person holds in one school."""

    school_id: SchoolId
    school_name: Name
    role: Role


class ClassLink(TypedDict):
    """A person's link to a class: ``student``, ``class_teacher`` or ``subject_teacher``."""

    class_id: ClassId
    class_name: Name
    school_id: SchoolId
    relation: Relation
    subject: Name | None


class Child(TypedDict):
    """A child a parent represents, with the child's classes."""

    person: Person
    classes: list[ClassLink]


class Profile(TypedDict):
    """The person, roles, classes and children: ``welcome.profile`` and ``GET /api/v1/me``."""

    person: Person
    roles: list[SchoolRole]
    classes: list[ClassLink]
    children: list[Child]


class Welcome(ServerMessage, frozen=True):
    """The answer to a good ``hello``.

    ``{"session_id", "protocol", "server", "profile": {person, roles, classes,
    children}, "limits": {...}, "heartbeat": seconds, "expires_at": unix}``
    """

    TYPE: ClassVar[str] = "welcome"
    session_id: Annotated[str, Meta(min_length=1, max_length=64)]
    protocol: Annotated[int, Meta(ge=1, le=65535)]
    server: Annotated[str, Meta(min_length=1, max_length=64)]
    profile: Profile
    limits: Limits
    heartbeat: Annotated[float, Meta(ge=0.001, le=1e12, description="seconds between pings")]
    expires_at: Time


class Reauthed(ServerMessage, frozen=True):
    """The answer to a good ``reauth``.  ``{"expires_at": unix}``"""

    TYPE: ClassVar[str] = "reauthed"
    expires_at: Time


class Pong(ServerMessage, frozen=True):
    """The answer to ``ping``, with the server's clock.  ``{"time": unix}``"""

    TYPE: ClassVar[str] = "pong"
    time: Time


class Error(ServerMessage, frozen=True):
    """A refused request or frame.

    ``{"code": "auth.expired", "message": "...", "retry_after": 1.5?}``.
    ``retry_after`` (seconds) is present for ``rate.limited``.
    """

    TYPE: ClassVar[str] = "error"
    code: Code
    message: HumanText
    retry_after: Seconds | None = None


class SessionExpiring(ServerMessage, frozen=True):
    """The token runs out soon; send ``reauth`` to carry on.

    ``{"expires_at": unix, "seconds_left": 60}``
    """

    TYPE: ClassVar[str] = "session.expiring"
    expires_at: Time
    seconds_left: Seconds


class Goodbye(ServerMessage, frozen=True):
    """Sent just before the server closes the socket, saying why.

    ``{"code": "auth.expired", "message": "..."}``; the close frame carries
    the same code as its reason.
    """

    TYPE: ClassVar[str] = "goodbye"
    code: Code
    message: HumanText
