"""Which node a live room is on: the room directory (issue 18).

A room lives on one node, the one whose SFU carries its media and whose
memory holds its hands, mutes and waiting room. The directory says which:
a node *claims* a room as it makes it live, and the claim fails when a live
node holds it already (the caller forwards to that node, see
:mod:`server.rooms.relay`). A node that stops gives its rooms back; a node
that dies stops saying it is alive, and its rooms are then anyone's.

:class:`LocalDirectory` is the embedded default's: one node, every room its
own. The Redis directory (:mod:`server.redisrooms`) is shared by nodes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from server.errors import ZvonokError
from signaling.errors import ROOM_UNAVAILABLE


class RoomDirectory(Protocol):
    @property
    def node(self) -> str:
        """This node's id."""
        ...

    async def claim(self, room_id: str) -> str:
        """The node that holds the room now: this one, unless a live node
        does; raises ``room.unavailable`` when the directory cannot answer."""
        ...

    async def owner(self, room_id: str) -> str | None:
        """The live node holding the room, if any."""
        ...

    async def release(self, room_id: str) -> None:
        """This node no longer holds the room (emptied or ended)."""
        ...

    async def alive(self, nodes: Collection[str]) -> set[str]:
        """Which of these nodes are alive (all, when the directory cannot tell)."""
        ...

    async def taken(self, rooms: Collection[str]) -> set[str]:
        """Which of these rooms, live here, the directory gives to another
        node (this node was taken for dead and came back); none when it
        cannot tell. The others are recorded as this node's, should the
        directory have lost them."""
        ...


class LocalDirectory:
    """One node: every room is this node's."""

    node = "local"

    async def claim(self, room_id: str) -> str:
        return self.node

    async def owner(self, room_id: str) -> str | None:
        return None

    async def release(self, room_id: str) -> None:
        return None

    async def alive(self, nodes: Collection[str]) -> set[str]:
        return set(nodes)

    async def taken(self, rooms: Collection[str]) -> set[str]:
        return set()


class RoomElsewhere(ZvonokError):
    """The room is live on another node: forward the request there."""

    def __init__(self, node: str) -> None:
        super().__init__(ROOM_UNAVAILABLE, "the room is served by another node; join again")
        self.node = node


def unavailable(message: str = "the room's node does not answer; join again") -> ZvonokError:
    return ZvonokError(ROOM_UNAVAILABLE, message)
