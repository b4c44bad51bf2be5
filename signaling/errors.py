"""Stable error codes and WebSocket close codes of the Zvonok protocol.

These strings and numbers are the contract with every client (browser,
mobile, bots): once published they never change meaning.  ``docs/protocol.md``
lists each one with when it is sent.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

# Frame-level problems: the bytes could not be read as a message.
FRAME_MALFORMED: Final = "frame.malformed"
FRAME_TOO_LARGE: Final = "frame.too_large"
FRAME_NOT_BINARY: Final = "frame.not_binary"

# Message-level problems: readable msgpack, but not a valid message.
MESSAGE_INVALID: Final = "message.invalid"
MESSAGE_UNKNOWN_TYPE: Final = "message.unknown_type"
# A well-formed field whose value a chat cannot take (a reaction that is not an emoji).
CHAT_INVALID: Final = "chat.invalid"

# Session state.
HELLO_REQUIRED: Final = "hello.required"
HELLO_REPEATED: Final = "hello.repeated"
HELLO_TIMEOUT: Final = "hello.timeout"
PROTOCOL_VERSION: Final = "protocol.version"
PROTOCOL_ABUSE: Final = "protocol.abuse"
HEARTBEAT_TIMEOUT: Final = "heartbeat.timeout"
RATE_LIMITED: Final = "rate.limited"
SLOW_CONSUMER: Final = "slow_consumer"
# A person's oldest session, closed for a newer one past the server's limit.
SESSION_TOO_MANY: Final = "session.too_many"
SERVER_SHUTDOWN: Final = "server.shutdown"
SERVER_INTERNAL: Final = "server.internal"
STORE_UNAVAILABLE: Final = "store.unavailable"

# Identity (the full list of auth.* codes is in docs/auth.md).
AUTH_EXPIRED: Final = "auth.expired"
AUTH_PERSON_MISMATCH: Final = "auth.person_mismatch"
AUTH_UNKNOWN_PERSON: Final = "auth.unknown_person"


class CloseCode(IntEnum):
    """WebSocket close codes.  4xxx mirror the HTTP status of the same cause."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    PROTOCOL_ERROR = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    TIMEOUT = 4408
    TOO_MANY_REQUESTS = 4429
    INTERNAL_ERROR = 4500


class ProtocolError(Exception):
    """A frame or message that cannot be accepted.

    ``request_id`` is set when the envelope was readable far enough to know
    it, so the error reply can be matched to the request.
    """

    def __init__(self, code: str, message: str, request_id: int | str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
