"""A room on another node: its signalling forwarded there over the bus (issue 18).

A room lives on one node (:mod:`server.rooms.directory`); its participants
may be connected to any. A connection whose room is elsewhere keeps its
socket where it is and its requests about that room go to the room's node
over the bus topic ``relay:{node}``; the room's node runs them as a *remote
session* of that connection (the same :class:`RoomRequests`, with a sink
that posts back), and everything the room sends that connection (replies,
events, the SFU's offers) comes back on ``relay:{node}`` of the
connection's node and is pushed to the socket as it arrives, in order.
Media does not take this path: the SFU's answer carries the room's node's
own candidates, so the browser's media goes straight to that node (or
through TURN), as LiveKit's signal relay does.

Every wait is bounded: a forwarded request not answered within
``timeout`` is refused with ``room.unavailable`` (the client joins again).
At each of the directory's sweeps (:meth:`RoomRelay.check`) each side
looks at the other's liveness in the directory: when a room's
node dies, its participants connected here are told they are ``away``
(the web client then joins again, and the room is taken over by a live
node, with attendance and removals from the store; hands and mutes are
lost as on a restart); when a connection's node dies, its remote sessions
here end as a lost connection would, and the grace starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.bus import Bus, Event
from server.dispatch import Handler
from server.errors import ZvonokError
from signaling import errors as codes
from signaling import rooms as wire
from signaling.codec import RequestId, decode_client_frame, decode_server_frame, encode
from signaling.errors import ProtocolError
from signaling.messages import Error, Message

from .directory import RoomDirectory, unavailable
from .live import RoomSink

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds a forwarded request waits for the room's node
INBOX = 32  # requests of one remote session waiting to be served
MAX_REMOTE_SESSIONS = 20_000  # connections of other nodes served here at once


def relay_topic(node: str) -> str:
    return f"relay:{node}"


class Served(Protocol):
    """A connection's room requests, as a room's node serves them."""

    @property
    def routes(self) -> Mapping[type[Message], Handler]: ...

    async def close(self) -> None: ...


Serve = Callable[[int, RoomSink], Served]
"""``(oid, sink) -> served``: the room requests of a remote connection."""


@dataclass(eq=False)
class _Away:
    """A room of a connection of this node that lives on another node."""

    node: str
    you: wire.Participant


@dataclass(eq=False)
class _Local:
    """A connection of this node with a room elsewhere."""

    oid: int
    sink: RoomSink
    rooms: dict[str, _Away] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)  # nodes it forwarded to: told when it closes


class _Sink:
    """A connection of another node, as the room here sends to it."""

    def __init__(self, relay: RoomRelay, node: str, session: str) -> None:
        self._relay = relay
        self._node = node
        self._session = session

    def send(self, message: Message, request_id: RequestId | None = None) -> None:
        self.push(encode(message, request_id))

    def push(
        self, frame: bytes, *, ephemeral: bool = False, committed_at: float | None = None
    ) -> None:
        self._relay.post(
            self._node, {"op": "out", "session": self._session, "frame": frame, "eph": ephemeral}
        )


class _Remote:
    """A connection of another node served here: its requests one at a time."""

    def __init__(self, relay: RoomRelay, node: str, session: str, oid: int, serve: Serve) -> None:
        self.node = node
        self.session = session
        self.oid = oid
        self._relay = relay
        self._served = serve(oid, _Sink(relay, node, session))
        self._routes = self._served.routes  # read once: a table, not a lookup per request
        self._inbox: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue(INBOX)
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"relay-session-{session[:8]}"
        )

    def take(self, frame: bytes, call: int) -> bool:
        try:
            self._inbox.put_nowait((frame, call))
        except asyncio.QueueFull:
            return False
        return True

    def end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._inbox.put_nowait(None)
            return
        self.task.cancel()

    async def _run(self) -> None:
        try:
            while (item := await self._inbox.get()) is not None:
                frame, call = item
                reply = await self._serve(frame)
                self._relay.post(
                    self.node, {"op": "done", "session": self.session, "call": call, "frame": reply}
                )
        finally:
            await self._served.close()  # as a lost connection: the grace starts

    async def _serve(self, frame: bytes) -> bytes | None:
        try:
            envelope = decode_client_frame(frame)
        except ProtocolError as exc:
            return encode(Error(exc.code, exc.message), exc.request_id)
        rid = envelope.request_id
        handler = self._routes.get(type(envelope.message))
        try:
            if handler is None:
                raise ZvonokError(codes.REQUEST_INVALID, "not a room request")
            reply = await handler(envelope.message, rid)
        except ZvonokError as exc:
            return encode(Error(exc.code, exc.message, exc.retry_after), rid)
        except Exception:
            log.exception("relay: %s from node %s failed", envelope.message.TYPE, self.node)
            return encode(Error(codes.SERVER_INTERNAL, "internal error"), rid)
        return None if reply is None else encode(reply, rid)


class RoomRelay:
    """This node's side of every room request crossing to or from another node."""

    def __init__(
        self,
        bus: Bus,
        directory: RoomDirectory,
        serve: Serve,
        *,
        timeout: float = TIMEOUT,
    ) -> None:
        self._bus = bus
        self._directory = directory
        self._serve = serve
        self._timeout = timeout
        self._calls = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[bytes | None]] = {}
        self._locals: dict[str, _Local] = {}  # by session id
        self._remotes: dict[tuple[str, str], _Remote] = {}  # by (node, session id)
        self._ending: set[asyncio.Task[None]] = set()  # remote sessions closing their rooms

    @property
    def node(self) -> str:
        return self._directory.node

    @property
    def remote_sessions(self) -> int:
        return len(self._remotes)

    async def start(self) -> None:
        await self._bus.subscribe(relay_topic(self.node), self._on_event)

    async def close(self) -> None:
        await self._bus.unsubscribe(relay_topic(self.node), self._on_event)
        for session in list(self._locals):
            self.close_session(session)
        for remote in list(self._remotes.values()):
            self._end(remote)
        self._remotes = {}
        await asyncio.gather(*self._ending, return_exceptions=True)

    def _end(self, remote: _Remote) -> None:
        """Let the remote session close its rooms; its task is kept until it has."""
        remote.end()
        self._ending.add(remote.task)
        remote.task.add_done_callback(self._ending.discard)

    def post(self, node: str, event: Event) -> None:
        self._bus.post(relay_topic(node), event)

    # -- this node's connections, their rooms elsewhere --------------------------------

    def elsewhere(self, session: str, room: str) -> str | None:
        """The node this connection's room lives on, if not here."""
        local = self._locals.get(session)
        away = None if local is None else local.rooms.get(room)
        return None if away is None else away.node

    async def forward(
        self,
        node: str,
        session: str,
        oid: int,
        sink: RoomSink,
        message: Message,
        rid: RequestId | None,
    ) -> None:
        """Send a request to the room's node; its reply reaches ``sink`` from
        there, in order with the room's events."""
        local = self._locals.get(session)
        if local is None:
            local = self._locals[session] = _Local(oid, sink)
        local.asked.add(node)
        call = next(self._calls)
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._waiting[call] = future
        request = {"op": "req", "from": self.node, "session": session, "oid": oid, "call": call}
        self.post(node, {**request, "at": time.time(), "frame": encode(message, rid)})
        try:
            async with asyncio.timeout(self._timeout):
                reply = await future
        except TimeoutError:
            raise unavailable() from None
        finally:
            self._waiting.pop(call, None)
        self._note(local, node, message, reply)

    def _note(self, local: _Local, node: str, message: Message, reply: bytes | None) -> None:
        """Which rooms the connection is in on other nodes, by what they answered."""
        if reply is None or not isinstance(message, wire.JoinRoom | wire.LeaveRoom):
            return
        try:
            answer = decode_server_frame(reply).message
        except ProtocolError:
            return
        if isinstance(answer, wire.RoomJoined):
            local.rooms[message.room] = _Away(node, answer.you)
        elif isinstance(answer, wire.RoomOk):
            local.rooms.pop(message.room, None)

    def close_session(self, session: str) -> None:
        """The connection closed: the room's node starts its grace."""
        local = self._locals.pop(session, None)
        if local is None:
            return
        for node in local.asked:  # a refused join left a session there too
            self.post(node, {"op": "bye", "from": self.node, "session": session})

    # -- what comes in ------------------------------------------------------------------

    def _on_event(self, topic: str, event: Event) -> None:
        op = event.get("op")
        try:
            if op == "out":
                local = self._locals.get(event["session"])
                if local is not None:
                    local.sink.push(event["frame"], ephemeral=bool(event.get("eph")))
            elif op == "done":
                local = self._locals.get(event["session"])
                frame = event["frame"]
                if local is not None and frame is not None:
                    local.sink.push(frame)
                future = self._waiting.get(event["call"])
                if future is not None and not future.done():
                    future.set_result(frame)
            elif op == "req":
                self._request(event)
            elif op == "bye":
                remote = self._remotes.pop((event["from"], event["session"]), None)
                if remote is not None:
                    self._end(remote)
        except (KeyError, TypeError, ValueError):
            log.warning("relay: a malformed %r from the bus, ignored", op)

    def _request(self, event: Event) -> None:
        node, session, oid = str(event["from"]), str(event["session"]), int(event["oid"])
        frame, call = bytes(event["frame"]), int(event["call"])
        if time.time() - float(event["at"]) > self._timeout:
            # Held up past its wait (this node was frozen, Redis slow): the
            # asking node has refused it already, and the client asks again.
            log.info("relay: a request from node %s came too late, dropped", node)
            return
        key = (node, session)
        remote = self._remotes.get(key)
        if remote is not None and remote.oid != oid:
            return  # one connection is one person; not ours to guess
        if remote is None and len(self._remotes) < MAX_REMOTE_SESSIONS:
            remote = self._remotes[key] = _Remote(self, node, session, oid, self._serve)
        if remote is None or not remote.take(frame, call):
            self._refuse(node, session, call, frame)

    def _refuse(self, node: str, session: str, call: int, frame: bytes) -> None:
        rid: RequestId | None = None
        with contextlib.suppress(ProtocolError):
            rid = decode_client_frame(frame).request_id
        error = unavailable("the room's node is too busy; join again")
        reply = encode(Error(error.code, error.message), rid)
        self.post(node, {"op": "done", "session": session, "call": call, "frame": reply})

    # -- nodes that die -------------------------------------------------------------------

    async def check(self) -> None:
        """Act on the nodes that died: their rooms' participants here are
        away, and their connections' sessions here are lost."""
        used = {away.node for local in self._locals.values() for away in local.rooms.values()}
        used |= {node for node, _ in self._remotes}
        if not used:
            return
        dead = used - await self._directory.alive(used)
        if not dead:
            return
        log.info("relay: node(s) %s no longer alive", ", ".join(sorted(dead)))
        for session, local in self._locals.items():
            for room, away in list(local.rooms.items()):
                if away.node in dead:
                    del local.rooms[room]
                    self._tell_away(local, room, away)
                    # Should it only have been frozen, it forgets this connection.
                    self.post(away.node, {"op": "bye", "from": self.node, "session": session})
        for key, remote in list(self._remotes.items()):
            if remote.node in dead:
                del self._remotes[key]
                self._end(remote)

    @staticmethod
    def _tell_away(local: _Local, room: str, away: _Away) -> None:
        state: Any = {**away.you, "status": "away"}
        local.sink.send(
            wire.ParticipantChanged(room=room, person=local.oid, change="away", state=state)
        )
