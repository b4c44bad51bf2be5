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

Decoding takes one of two paths.  The quick one has msgspec decode the
frame's bytes straight into the message's struct (the body a ``Raw`` slice
of the envelope), validating every field the protocol defines as it goes.
Whatever it does not accept, for whatever reason, is decoded again by the
exact path: msgpack-python reads the whole frame (every value, however
deep: an extension type, invalid UTF-8 or a map key that is not a string
anywhere is ``frame.malformed``), the envelope is checked by hand, and the
body converted with msgspec, its refusals translated to the protocol's
messages.  So a refused frame gets the very code and message it always got.
The one difference, decided and tested (``tests/signaling/test_codec.py``):
the quick path does not read the value of a field the protocol does not
define, nor the inside of a field whose type is "any map" (``chat.event``'s
``data``), so junk there is ignored with it rather than refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgpack
import msgspec

from . import chat, messages, rooms, safety  # noqa: F401 - defining a message registers it
from .errors import (
    FRAME_MALFORMED,
    FRAME_TOO_LARGE,
    MESSAGE_INVALID,
    MESSAGE_UNKNOWN_TYPE,
    ProtocolError,
)
from .fields import MAX_SAFE_INT
from .schema import CLIENT_MESSAGES, SERVER_MESSAGES, Message, convert

__all__ = ["CLIENT_MESSAGES", "SERVER_MESSAGES", "Envelope", "RequestId"]

RequestId = int | str

DEFAULT_MAX_FRAME = 64 * 1024
MAX_REQUEST_ID_LENGTH = 64
_EMPTY_MAP = b"\x80"

_encoder = msgspec.msgpack.Encoder()

_RequestIdType = (
    Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INT)]
    | Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REQUEST_ID_LENGTH)]
    | None
)


class _Head(msgspec.Struct):
    """The envelope as the quick path reads it: the body left as its bytes."""

    type: str
    id: _RequestIdType = None
    body: msgspec.Raw = msgspec.Raw()


_head = msgspec.msgpack.Decoder(_Head)
_decoders: dict[type[Message], msgspec.msgpack.Decoder[Any]] = {}


class Envelope(msgspec.Struct, frozen=True):
    """A decoded frame: the message and the request id it carried, if any."""

    message: Message
    request_id: RequestId | None = None


def encode(message: Message, request_id: RequestId | None = None) -> bytes:
    """Encode one message into the bytes of one binary frame (an empty body is left out)."""
    body = _encoder.encode(message)
    frame: dict[str, Any] = {"type": message.TYPE}
    if request_id is not None:
        frame["id"] = request_id
    if body != _EMPTY_MAP:
        frame["body"] = msgspec.Raw(body)
    return _encoder.encode(frame)


def decode_client_frame(data: bytes, *, max_size: int = DEFAULT_MAX_FRAME) -> Envelope:
    """Decode a frame received by the server."""
    return _decode(data, max_size, CLIENT_MESSAGES)


def decode_server_frame(data: bytes, *, max_size: int = 16 * 1024 * 1024) -> Envelope:
    """Decode a frame received by a client."""
    return _decode(data, max_size, SERVER_MESSAGES)


def _refuse_ext(code: int, data: object) -> Any:
    raise ValueError(f"msgpack extension type {code} is not used by this protocol")


def _decode(data: bytes, max_size: int, allowed: Mapping[str, type[Message]]) -> Envelope:
    if len(data) > max_size:
        raise ProtocolError(FRAME_TOO_LARGE, f"frame of {len(data)} bytes exceeds {max_size}")
    quick = _quick(data, allowed)
    return quick if quick is not None else _exact(data, allowed)


def _quick(data: bytes, allowed: Mapping[str, type[Message]]) -> Envelope | None:
    """The frame decoded straight into its struct, or None for the exact path to say why."""
    try:
        head = _head.decode(data)
        cls = allowed.get(head.type)
        if cls is None:
            return None
        decoder = _decoders.get(cls)
        if decoder is None:
            decoder = _decoders[cls] = msgspec.msgpack.Decoder(cls, ext_hook=_refuse_ext)
        body = bytes(head.body) if head.body else _EMPTY_MAP
        message = decoder.decode(_EMPTY_MAP if body == _NIL else body)
        message.check()
    except Exception:  # any refusal at all: the exact path finds it again, and names it
        return None
    return Envelope(message, head.id)


_NIL = b"\xc0"


def _exact(data: bytes, allowed: Mapping[str, type[Message]]) -> Envelope:
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
        message = convert(body, cls, kind)
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
