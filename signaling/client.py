"""An asyncio client for the Zvonok protocol, on aiohttp.

    async with await Client.connect("ws://127.0.0.1:8080/ws", token) as client:
        print(client.welcome.profile["person"]["full_name"])
        pong = await client.request(Ping())
        event = await client.next_event()

The client says ``hello`` and waits for ``welcome``; :meth:`Client.request`
sends a message with a fresh request id and waits for the reply that echoes
it, raising :class:`RequestError` for an ``error`` reply.  Frames that answer
no request (``session.expiring``, later chat events) are events, read with
:meth:`Client.next_event` or ``async for`` over :meth:`Client.events`.
WebSocket pings are answered by aiohttp.

The tests drive the server with this client, and a bot author can too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar

import aiohttp

from .codec import decode_server_frame, encode
from .errors import MESSAGE_UNKNOWN_TYPE, ProtocolError
from .fields import RoomKind, Source
from .messages import (
    PROTOCOL_VERSION,
    Error,
    Goodbye,
    Hello,
    Message,
    Reauth,
    Reauthed,
    Welcome,
)
from .rooms import (
    JoinRoom,
    LeaveRoom,
    ListRooms,
    PublishTrack,
    RoomInfo,
    RoomJoined,
    RoomList,
    RoomOk,
    RoomRecord,
    RtcAnswer,
    RtcPublish,
    StartRoom,
)

M = TypeVar("M", bound=Message)


class RequestError(Exception):
    """The server answered a request with an ``error``."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class ConnectionClosed(Exception):
    """The connection closed before the awaited reply or event came."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed ({code}): {reason}")
        self.code = code
        self.reason = reason


class Client:
    """One session with a Zvonok server."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        session: aiohttp.ClientSession,
        own_session: bool,
        max_events: int,
    ) -> None:
        self._ws = ws
        self._session = session
        self._own_session = own_session
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Message]] = {}
        # One slot more than max_events, kept for the end-of-stream marker.
        self._max_events = max_events
        self._events: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=max_events + 1)
        self._reader: asyncio.Task[None] | None = None
        self.welcome: Welcome | None = None
        self.goodbye: Goodbye | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None,
        *,
        client_name: str = "zvonok-python",
        origin: str | None = None,
        session: aiohttp.ClientSession | None = None,
        max_events: int = 10_000,
        timeout: float = 10.0,
        resume: dict[str, int] | None = None,
    ) -> Self:
        """Open a session: connect, say hello, wait for welcome.

        With ``resume`` (``{chat id: highest seq seen}``) the server follows
        the welcome with every chat event after those positions, then a
        ``synced`` event; without it, only live events come.  With ``token``
        None the session's cookie jar signs in (a browser's session), sent
        with ``origin`` as a browser would.

        Raises :class:`RequestError` with the server's code when the hello is
        refused (``auth.expired``, ``auth.bad_signature``...).
        """
        own = session is None
        http = session or aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, autoping=True, max_msg_size=0, origin=origin)
        except BaseException:
            if own:
                await http.close()
            raise
        client = cls(ws, http, own, max_events)
        client._reader = asyncio.get_running_loop().create_task(client._read_loop())
        try:
            reply = await client.request(
                Hello(version=PROTOCOL_VERSION, token=token, client=client_name, resume=resume),
                timeout=timeout,
            )
        except BaseException:
            await client.close()
            raise
        if not isinstance(reply, Welcome):
            await client.close()
            raise ProtocolError("message.invalid", f"expected welcome, got {reply.TYPE}")
        client.welcome = reply
        return client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def request(self, message: Message, *, timeout: float = 10.0) -> Message:
        """Send ``message`` as a request and return the server's reply."""
        request_id = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            if self.closed.is_set():
                raise ConnectionClosed(self.close_code, self.close_reason)
            await self._ws.send_bytes(encode(message, request_id))
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._pending.pop(request_id, None)
        if isinstance(reply, Error):
            raise RequestError(reply.code, reply.message, reply.retry_after)
        return reply

    async def reauth(self, token: str) -> Reauthed:
        """Swap in a fresh token for the same person without reconnecting."""
        reply = await self.request(Reauth(token=token))
        if not isinstance(reply, Reauthed):
            raise ProtocolError("message.invalid", f"expected reauthed, got {reply.TYPE}")
        return reply

    # -- rooms (docs/protocol.md, "Rooms") -------------------------------------------

    async def start_room(
        self,
        class_id: str,
        kind: RoomKind,
        title: str,
        *,
        starts_at: float | None = None,
        key: str | None = None,
    ) -> RoomRecord:
        """Start a ``lesson`` or ``meeting`` for a class; the room's info.
        The same ``key`` again returns the room the first start made."""
        start = StartRoom(class_id=class_id, kind=kind, title=title, starts_at=starts_at, key=key)
        return (await self._expect(start, RoomInfo)).room

    async def list_rooms(self, class_id: str | None = None) -> list[RoomRecord]:
        return (await self._expect(ListRooms(class_id=class_id), RoomList)).rooms

    async def join_room(self, room: str) -> RoomJoined:
        """Enter a room (``waiting`` in the reply: its waiting room)."""
        return await self._expect(JoinRoom(room=room), RoomJoined)

    async def leave_room(self, room: str) -> None:
        await self._expect(LeaveRoom(room=room), RoomOk)

    async def room_request(self, message: Message) -> None:
        """A room request answered by ``room.ok`` (hand, mute, host controls...)."""
        await self._expect(message, RoomOk)

    async def publish(self, room: str, sdp: str, tracks: Sequence[tuple[str, Source]]) -> str:
        """Offer the publishing connection's ``sdp`` with its ``(mid, source)``
        tracks; the server's answer SDP."""
        offer = RtcPublish(
            room=room, sdp=sdp, tracks=tuple(PublishTrack(mid, source) for mid, source in tracks)
        )
        return (await self._expect(offer, RtcAnswer)).sdp

    async def _expect(self, message: Message, kind: type[M]) -> M:
        reply = await self.request(message)
        if not isinstance(reply, kind):
            raise ProtocolError("message.invalid", f"expected {kind.TYPE}, got {reply.TYPE}")
        return reply

    async def send_raw(self, data: bytes | str) -> None:
        """Send a frame as it is (for tests of what the server does with junk)."""
        if isinstance(data, str):
            await self._ws.send_str(data)
        else:
            await self._ws.send_bytes(data)

    async def next_event(self, *, timeout: float | None = 10.0) -> Message:
        """The next frame that answers no request; ConnectionClosed after the end."""
        async with asyncio.timeout(timeout):
            event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # keep the end visible to later calls
            raise ConnectionClosed(self.close_code, self.close_reason)
        return event

    async def next_of(
        self,
        kind: type[M],
        *,
        timeout: float | None = 10.0,
        where: Callable[[M], bool] | None = None,
    ) -> M:
        """The next event of ``kind`` (that ``where`` accepts), dropping the
        events before it; ``TimeoutError`` if none comes within ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event(timeout=None)
                if isinstance(event, kind) and (where is None or where(event)):
                    return event

    async def events(self) -> AsyncIterator[Message]:
        """Every event until the connection closes."""
        while True:
            try:
                yield await self.next_event(timeout=None)
            except ConnectionClosed:
                return

    async def wait_closed(self, *, timeout: float = 10.0) -> tuple[int | None, str]:
        """Wait for the server to close; return the close code and reason."""
        async with asyncio.timeout(timeout):
            await self.closed.wait()
        return self.close_code, self.close_reason

    async def close(self) -> None:
        """Close the session.  Idempotent."""
        await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._finish()
        if self._own_session:
            await self._session.close()

    async def _read_loop(self) -> None:
        try:
            while True:
                msg = await self._ws.receive()
                if msg.type is aiohttp.WSMsgType.BINARY:
                    await self._on_frame(msg.data)
                elif msg.type is aiohttp.WSMsgType.CLOSE:
                    self.close_reason = msg.extra or ""
                    return
                elif msg.type in (
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    return
        except ProtocolError as exc:
            self.close_reason = f"client: bad frame from server ({exc.code})"
            await self._ws.close()
        finally:
            self._finish()

    async def _on_frame(self, data: bytes) -> None:
        try:
            envelope = decode_server_frame(data)
        except ProtocolError as exc:
            if exc.code == MESSAGE_UNKNOWN_TYPE:
                return  # a newer server's event: ignored, as docs/protocol.md promises
            raise
        message = envelope.message
        if isinstance(message, Goodbye):
            self.goodbye = message
        request_id = envelope.request_id
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is not None and not future.done():
            future.set_result(message)
            return
        if self._events.qsize() >= self._max_events:
            # The application is not reading its events: stop rather than grow.
            self.close_reason = "client: event queue overflow"
            await self._ws.close()
            return
        self._events.put_nowait(message)

    def _finish(self) -> None:
        if self.closed.is_set():
            return
        self.close_code = self._ws.close_code
        self.closed.set()
        closed = ConnectionClosed(self.close_code, self.close_reason)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(closed)
        self._events.put_nowait(None)
