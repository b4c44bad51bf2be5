"""The Zvonok wire protocol (msgpack over one WebSocket) and a Python client."""

from .codec import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Envelope,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from .errors import CloseCode, ProtocolError
from .messages import PROTOCOL_VERSION

__all__ = [
    "CLIENT_MESSAGES",
    "PROTOCOL_VERSION",
    "SERVER_MESSAGES",
    "CloseCode",
    "Envelope",
    "ProtocolError",
    "decode_client_frame",
    "decode_server_frame",
    "encode",
]
