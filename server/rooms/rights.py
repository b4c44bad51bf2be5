"""What the policy is asked about a room: the action its kind asks of a host
or of a joiner, and its class as the place the rules are read for."""

from __future__ import annotations

from server.model.rooms import RoomKind, RoomRecord
from server.policy.policy import Action, ClassPlace

HOST_ACTION = {RoomKind.LESSON: Action.HOST_LESSON, RoomKind.MEETING: Action.HOST_MEETING}
JOIN_ACTION = {RoomKind.LESSON: Action.JOIN_LESSON, RoomKind.MEETING: Action.JOIN_MEETING}


def place_of(record: RoomRecord) -> ClassPlace:
    """The room's class, where the rules about it are read."""
    return ClassPlace(record.class_id, record.school_id)
