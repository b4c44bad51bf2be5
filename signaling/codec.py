"""The envelope: how a message travels in one binary WebSocket frame.

A frame is one msgpack map::

    {"type": "hello", "id": 7, "body": {...}}

``type`` names the message; ``id`` is the client's request id (a
non-negative integer up to 2**53-1, or a string of at most 64 characters),
echoed by the server in its reply; ``body`` is the message's own map and may
be omitted when empty.

Each direction has its own allow-list, so a client cannot send a server
message and vice versa.  Decoding never raises anything but
:class:`~signaling.errors.ProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack

from . import chat as c
from . import messages as m
from . import rooms as r
from . import safety as s
from .errors import (
    FRAME_MALFORMED,
    FRAME_TOO_LARGE,
    MESSAGE_INVALID,
    MESSAGE_UNKNOWN_TYPE,
    ProtocolError,
)
from .fields import MAX_SAFE_INT, Body

RequestId = int | str

DEFAULT_MAX_FRAME = 64 * 1024
MAX_REQUEST_ID_LENGTH = 64


def _registry(*classes: type[m.Message]) -> Mapping[str, type[m.Message]]:
    return {cls.TYPE: cls for cls in classes}


CLIENT_MESSAGES: Mapping[str, type[m.Message]] = _registry(
    m.Hello,
    m.Reauth,
    m.Ping,
    c.Sync,
    c.ListChats,
    c.GetChat,
    c.Send,
    c.Edit,
    c.Delete,
    c.React,
    c.History,
    c.MarkRead,
    c.Typing,
    c.OpenDirect,
    c.CreateGroup,
    c.ChangeMembers,
    c.QueryPresence,
    s.ModDelete,
    s.Mute,
    s.Unmute,
    s.SetAnnouncements,
    s.Pin,
    s.Remove,
    s.CreateReport,
    s.ResolveReport,
    s.ListReports,
    s.FindPeople,
    r.StartRoom,
    r.ListRooms,
    r.JoinRoom,
    r.LeaveRoom,
    r.RaiseHand,
    r.MuteSelf,
    r.HostMute,
    r.HostAllow,
    r.HostMuteAll,
    r.HostStopScreen,
    r.HostRemove,
    r.HostLowerHands,
    r.HostAdmit,
    r.HostCohost,
    r.HostEnd,
    r.RtcPublish,
    r.RtcAnswer,
    r.RtcCandidate,
    r.Unpublish,
    r.Subscribe,
    r.Unsubscribe,
    r.Show,
)
"""What a client may send."""

SERVER_MESSAGES: Mapping[str, type[m.Message]] = _registry(
    m.Welcome,
    m.Reauthed,
    m.Pong,
    m.Error,
    m.SessionExpiring,
    m.Goodbye,
    c.AckMsg,
    c.ChatEventMsg,
    c.Gap,
    c.Synced,
    c.ChatList,
    c.ChatInfo,
    c.ChatRemoved,
    c.HistoryPage,
    c.Marked,
    c.TypingNotice,
    c.Receipt,
    c.Presence,
    c.PresenceList,
    s.ReportInfo,
    s.ReportList,
    s.ReportNew,
    s.ReportResolved,
    s.PeopleList,
    r.RoomInfo,
    r.RoomList,
    r.RoomOk,
    r.RoomJoined,
    r.RoomAdmitted,
    r.RtcAnswer,
    r.RtcOffer,
    r.ParticipantChanged,
    r.TrackChanged,
    r.Speaking,
    r.Waiting,
    r.Removed,
    r.Ended,
)
"""What a server may send."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded frame: the message and the request id it carried, if any."""

    message: m.Message
    request_id: RequestId | None = None


def encode(message: m.Message, request_id: RequestId | None = None) -> bytes:
    """Encode one message into the bytes of one binary frame."""
    frame: dict[str, Any] = {"type": message.TYPE}
    if request_id is not None:
        frame["id"] = request_id
    body = message.encode()
    if body:
        frame["body"] = body
    data: bytes = msgpack.packb(frame, use_bin_type=True)
    return data


def decode_client_frame(data: bytes, *, max_size: int = DEFAULT_MAX_FRAME) -> Envelope:
    """Decode a frame received by the server."""
    return _decode(data, max_size, CLIENT_MESSAGES)


def decode_server_frame(data: bytes, *, max_size: int = 16 * 1024 * 1024) -> Envelope:
    """Decode a frame received by a client."""
    return _decode(data, max_size, SERVER_MESSAGES)


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not used by this protocol")


def _decode(data: bytes, max_size: int, allowed: Mapping[str, type[m.Message]]) -> Envelope:
    if len(data) > max_size:
        raise ProtocolError(FRAME_TOO_LARGE, f"frame of {len(data)} bytes exceeds {max_size}")
    try:
        frame = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            ext_hook=_refuse_ext,
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.StackError) as exc:
        raise ProtocolError(FRAME_MALFORMED, "frame is not a single msgpack value") from exc
    if not isinstance(frame, dict):
        raise ProtocolError(MESSAGE_INVALID, "frame must be a msgpack map")
    request_id = _request_id(frame.get("id"))
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(MESSAGE_INVALID, "type: required string", request_id)
    cls = allowed.get(kind)
    if cls is None:
        raise ProtocolError(MESSAGE_UNKNOWN_TYPE, f"unknown message type {kind[:64]!r}", request_id)
    body = frame.get("body", {})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ProtocolError(MESSAGE_INVALID, f"{kind}: body must be a map", request_id)
    try:
        message = cls.decode(Body(body, kind))
    except ProtocolError as exc:
        exc.request_id = request_id
        raise
    return Envelope(message, request_id)


def _request_id(value: object) -> RequestId | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE_INT:
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID_LENGTH:
        return value
    raise ProtocolError(
        MESSAGE_INVALID, "id: expected an integer from 0 to 2**53-1 or a string of 1 to 64 chars"
    )
