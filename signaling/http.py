"""The HTTP API's request bodies and query strings, typed like the messages.

Each body is a msgspec ``Struct`` whose fields use the types of
:mod:`signaling.fields`, the same ones the WebSocket messages use, so a limit
the two doors share (a title's length, a mute's longest, a report's reason)
is stated once.  ``server/http_api.py`` decodes a body or a query string into
one of these and refuses what does not fit with ``request.invalid``, naming
the field.  They are exported with the messages (``schema/zvonok.schema.json``).

Where the HTTP API's rule is its own it says so here: a posted text is only a
string (``message.empty`` and ``message.too_long`` are the server's answers),
and ``limit`` of a page of events has no upper bound (the server lowers it).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, TypedDict

import msgspec
from msgspec import Meta

from .chat import ChatEventBody
from .fields import (
    MAX_SAFE_INT,
    ChatId,
    ClassId,
    Int53,
    MuteSeconds,
    Oid,
    Outcome,
    PositiveId,
    Query,
    Reason,
    ReportStatus,
    RoomKind,
    Seq,
    StartsAt,
    Title,
)


class Body(msgspec.Struct, frozen=True):
    """A JSON body of the HTTP API: ``PATH`` names the endpoint (for the docs)."""

    PATH: ClassVar[str]


# -- chats -------------------------------------------------------------------------------


class PostMessageBody(Body, frozen=True):
    """``POST /api/v1/chats/{chat}/messages``, with an ``Idempotency-Key`` header."""

    PATH: ClassVar[str] = "POST /api/v1/chats/{chat}/messages"
    text: Annotated[str, Meta(description="at most welcome.limits.max_text characters")]
    reply_to: Int53 | None = None


class MarkReadBody(Body, frozen=True):
    """``POST /api/v1/chats/{chat}/read``: move the read position forward to ``seq``."""

    PATH: ClassVar[str] = "POST /api/v1/chats/{chat}/read"
    seq: Seq


class HistoryQuery(msgspec.Struct, frozen=True):
    """``GET /api/v1/chats/{chat}/events?limit=&before=&after=``."""

    limit: Annotated[int, Meta(ge=1, le=MAX_SAFE_INT)] | None = None
    before: Int53 | None = None
    after: Int53 | None = None


class PostedAck(TypedDict):
    """The answer to a post or a moderator's action: the ``ack`` and its event."""

    chat: ChatId
    seq: Seq
    message_id: Int53
    duplicate: bool
    masked: bool
    event: ChatEventBody


# -- moderation, reports, people -----------------------------------------------------------


class _Action(Body, frozen=True, tag_field="action"):
    PATH: ClassVar[str] = "POST /api/v1/chats/{chat}/moderation"


class DeleteAction(_Action, frozen=True, tag="delete"):
    """Delete a message (an optional ``Idempotency-Key`` header makes it retryable)."""

    message_id: PositiveId


class MuteAction(_Action, frozen=True, tag="mute"):
    """Keep a member from posting for ``seconds``."""

    person: Oid
    seconds: MuteSeconds


class UnmuteAction(_Action, frozen=True, tag="unmute"):
    person: Oid


class AnnouncementsAction(_Action, frozen=True, tag="announcements"):
    on: bool


class PinAction(_Action, frozen=True, tag="pin"):
    message_id: PositiveId


class UnpinAction(_Action, frozen=True, tag="unpin"):
    pass


class RemoveAction(_Action, frozen=True, tag="remove"):
    person: Oid


ModerationAction = (
    DeleteAction
    | MuteAction
    | UnmuteAction
    | AnnouncementsAction
    | PinAction
    | UnpinAction
    | RemoveAction
)
"""``POST /api/v1/chats/{chat}/moderation``: one action, told apart by ``action``."""


class CreateReportBody(Body, frozen=True):
    """``POST /api/v1/chats/{chat}/reports``."""

    PATH: ClassVar[str] = "POST /api/v1/chats/{chat}/reports"
    message_id: PositiveId
    reason: Reason


class ResolveReportBody(Body, frozen=True):
    """``POST /api/v1/reports/{id}/resolve``."""

    PATH: ClassVar[str] = "POST /api/v1/reports/{id}/resolve"
    outcome: Outcome
    note: Reason | None = None


class PeopleQuery(msgspec.Struct, frozen=True):
    """``GET /api/v1/people?q=``: words of a name (spaces at either end dropped)."""

    q: Query


class ReportsQuery(msgspec.Struct, frozen=True):
    """``GET /api/v1/reports?mine=1&status=``."""

    status: ReportStatus | None = None


class AuditQuery(msgspec.Struct, frozen=True):
    """``GET /api/v1/schools/{school}/audit?after=&limit=``."""

    after: Int53 | None = None
    limit: Int53 | None = None


# -- rooms ---------------------------------------------------------------------------------


class StartRoomBody(Body, frozen=True):
    """``POST /api/v1/rooms``, with an optional ``Idempotency-Key`` header: the body
    of the ``room.start`` message but its key."""

    PATH: ClassVar[str] = "POST /api/v1/rooms"
    class_id: ClassId = msgspec.field(name="class")
    kind: RoomKind
    title: Title
    starts_at: StartsAt | None = None


class RoomsQuery(msgspec.Struct, frozen=True):
    """``GET /api/v1/rooms?class=``."""

    class_id: ClassId | None = msgspec.field(default=None, name="class")


# -- development sign-in -------------------------------------------------------------------


class DevTokenBody(Body, frozen=True):
    """``POST /dev/token`` (development identity provider only)."""

    PATH: ClassVar[str] = "POST /dev/token"
    oid: Oid


BODIES: tuple[object, ...] = (
    PostMessageBody,
    MarkReadBody,
    ModerationAction,
    CreateReportBody,
    ResolveReportBody,
    StartRoomBody,
    DevTokenBody,
)
"""Every JSON body of the HTTP API, for the exported schema."""

QUERIES: tuple[type[msgspec.Struct], ...] = (
    HistoryQuery,
    PeopleQuery,
    ReportsQuery,
    AuditQuery,
    RoomsQuery,
)
"""Every query string the HTTP API reads into a struct."""
