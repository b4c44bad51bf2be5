"""The messages of the Zvonok protocol, one frozen dataclass each.

Every message has a type tag (``TYPE``), a ``decode`` classmethod that
validates an untrusted body and an ``encode`` method that returns plain
msgpack-able data.  No I/O, no state, no clock: the envelope and the
per-direction allow-lists live in :mod:`signaling.codec`.

The wire form of each message is given in its docstring and, with examples,
in ``docs/protocol.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .fields import MAX_POSITIONS, Body

PROTOCOL_VERSION = 1
MAX_TOKEN_LENGTH = 16 * 1024
MAX_CODE_LENGTH = 64
MAX_HUMAN_TEXT = 1024


class Message:
    """Base of all messages.  Subclasses set ``TYPE`` and implement both ways."""

    TYPE: ClassVar[str]

    @classmethod
    def decode(cls, body: Body) -> Self:
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        raise NotImplementedError


# --------------------------------------------------------------------------
# Client to server
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """Opens a session.

    ``{"v": 1, "token": "<ESIA access token>"?, "client": "web/1.4",
    "resume": {"class:5a": 41, ...}?}``.  Without ``token`` the session is
    the browser's: the server signs it in by the session cookie the upgrade
    request carried (and only if its ``Origin`` is the server's own).  With
    ``resume`` (chat id to the highest seq the client has seen) the server
    sends every chat event after those positions, then ``synced``; without
    it, only live events.
    """

    TYPE: ClassVar[str] = "hello"
    version: int
    token: str | None
    client: str
    resume: dict[str, int] | None = None

    def __repr__(self) -> str:  # never let a token reach a log through repr()
        resume = "None" if self.resume is None else f"<{len(self.resume)} chats>"
        return (
            f"Hello(version={self.version}, client={self.client!r}, token=<redacted>, "
            f"resume={resume})"
        )

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            version=body.integer("v", lo=0, hi=65535),
            token=body.opt_text("token", max_len=MAX_TOKEN_LENGTH),
            client=body.text("client", max_len=64),
            resume=body.opt_positions("resume", max_items=MAX_POSITIONS),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": self.version}
        if self.token is not None:
            out["token"] = self.token
        out["client"] = self.client
        if self.resume is not None:
            out["resume"] = self.resume
        return out


@dataclass(frozen=True, slots=True)
class Reauth(Message):
    """Replaces the session's token with a fresh one for the same person.

    ``{"token": "<ESIA access token>"}``
    """

    TYPE: ClassVar[str] = "reauth"
    token: str

    def __repr__(self) -> str:
        return "Reauth(token=<redacted>)"

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(token=body.text("token", max_len=MAX_TOKEN_LENGTH))

    def encode(self) -> dict[str, Any]:
        return {"token": self.token}


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """Application-level liveness check; answered by ``pong``.  Body ``{}``.

    Browsers cannot see WebSocket pings, so a web client uses this to find
    out that the server has gone away.
    """

    TYPE: ClassVar[str] = "ping"

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls()

    def encode(self) -> dict[str, Any]:
        return {}


# --------------------------------------------------------------------------
# Server to client
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for a session, announced in ``welcome``."""

    max_frame: int
    max_text: int
    frames_per_second: float
    frame_burst: int

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            max_frame=body.integer("max_frame", lo=1),
            max_text=body.integer("max_text", lo=1),
            frames_per_second=body.number("frames_per_second"),
            frame_burst=body.integer("frame_burst", lo=1),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "max_frame": self.max_frame,
            "max_text": self.max_text,
            "frames_per_second": self.frames_per_second,
            "frame_burst": self.frame_burst,
        }


@dataclass(frozen=True, slots=True)
class Welcome(Message):
    """The answer to a good ``hello``.

    ``{"session_id", "protocol", "server", "profile": {person, roles, classes,
    children}, "limits": {...}, "heartbeat": seconds, "expires_at": unix}``
    """

    TYPE: ClassVar[str] = "welcome"
    session_id: str
    protocol: int
    server: str
    profile: dict[str, Any]
    limits: Limits
    heartbeat: float
    expires_at: float

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            session_id=body.text("session_id", max_len=64),
            protocol=body.integer("protocol", lo=1, hi=65535),
            server=body.text("server", max_len=64),
            profile=body.map("profile"),
            limits=Limits.decode(Body(body.map("limits"), "welcome.limits")),
            heartbeat=body.number("heartbeat", lo=0.001),
            expires_at=body.number("expires_at"),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "protocol": self.protocol,
            "server": self.server,
            "profile": self.profile,
            "limits": self.limits.encode(),
            "heartbeat": self.heartbeat,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class Reauthed(Message):
    """The answer to a good ``reauth``.  ``{"expires_at": unix}``"""

    TYPE: ClassVar[str] = "reauthed"
    expires_at: float

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(expires_at=body.number("expires_at"))

    def encode(self) -> dict[str, Any]:
        return {"expires_at": self.expires_at}


@dataclass(frozen=True, slots=True)
class Pong(Message):
    """The answer to ``ping``, with the server's clock.  ``{"time": unix}``"""

    TYPE: ClassVar[str] = "pong"
    time: float

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(time=body.number("time"))

    def encode(self) -> dict[str, Any]:
        return {"time": self.time}


@dataclass(frozen=True, slots=True)
class Error(Message):
    """A refused request or frame.

    ``{"code": "auth.expired", "message": "...", "retry_after": 1.5?}``.
    ``retry_after`` (seconds) is present for ``rate.limited``.
    """

    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    retry_after: float | None = None

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            code=body.text("code", max_len=MAX_CODE_LENGTH),
            message=body.text("message", max_len=MAX_HUMAN_TEXT, min_len=0),
            retry_after=body.opt_number("retry_after"),
        )

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


@dataclass(frozen=True, slots=True)
class SessionExpiring(Message):
    """The token runs out soon; send ``reauth`` to carry on.

    ``{"expires_at": unix, "seconds_left": 60}``
    """

    TYPE: ClassVar[str] = "session.expiring"
    expires_at: float
    seconds_left: float

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            expires_at=body.number("expires_at"),
            seconds_left=body.number("seconds_left"),
        )

    def encode(self) -> dict[str, Any]:
        return {"expires_at": self.expires_at, "seconds_left": self.seconds_left}


@dataclass(frozen=True, slots=True)
class Goodbye(Message):
    """Sent just before the server closes the socket, saying why.

    ``{"code": "auth.expired", "message": "..."}``; the close frame carries
    the same code as its reason.
    """

    TYPE: ClassVar[str] = "goodbye"
    code: str
    message: str

    @classmethod
    def decode(cls, body: Body) -> Self:
        return cls(
            code=body.text("code", max_len=MAX_CODE_LENGTH),
            message=body.text("message", max_len=MAX_HUMAN_TEXT, min_len=0),
        )

    def encode(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}
