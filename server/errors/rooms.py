"""The refusals of room requests, each with a stable code (docs/protocol.md, "Rooms").

On the WebSocket each becomes an ``error`` frame with the request's id; on
the HTTP API a JSON error with the status the catalogue gives its code
(signaling/errors.py).
"""

from __future__ import annotations

from server.errors import ForbiddenError, ZvonokError
from signaling.errors import (
    ROOM_ENDED,
    ROOM_FORBIDDEN,
    ROOM_FULL,
    ROOM_INVALID,
    ROOM_NOT_FOUND,
    ROOM_NOT_HOST,
    ROOM_NOT_IN_ROOM,
    ROOM_NOT_STARTED,
    ROOM_REMOVED,
    ROOM_UNMUTE_FORBIDDEN,
)


class RoomNotFound(ZvonokError):
    def __init__(self, room_id: str) -> None:
        super().__init__(ROOM_NOT_FOUND, f"no room {room_id[:64]!r}")


class RoomConflict(ZvonokError):
    """The room's state does not allow it now (not started, ended, full...)."""


def forbidden(message: str) -> ForbiddenError:
    return ForbiddenError(ROOM_FORBIDDEN, message)


def not_host(message: str = "only the room's host and co-host may do this") -> ForbiddenError:
    return ForbiddenError(ROOM_NOT_HOST, message)


def not_started() -> RoomConflict:
    return RoomConflict(ROOM_NOT_STARTED, "the host has not opened this room yet")


def ended() -> RoomConflict:
    return RoomConflict(ROOM_ENDED, "the room has ended")


def removed() -> ForbiddenError:
    return ForbiddenError(ROOM_REMOVED, "the host removed you from this room")


def full(what: str) -> RoomConflict:
    return RoomConflict(ROOM_FULL, f"the {what} is full")


def unmute_forbidden(source: str) -> ForbiddenError:
    return ForbiddenError(ROOM_UNMUTE_FORBIDDEN, f"the host does not let you turn on your {source}")


def not_in_room(waiting: bool = False) -> RoomConflict:
    if waiting:
        return RoomConflict(ROOM_NOT_IN_ROOM, "wait until the host lets you in")
    return RoomConflict(ROOM_NOT_IN_ROOM, "join the room first")


def invalid(message: str) -> ZvonokError:
    return ZvonokError(ROOM_INVALID, message)
