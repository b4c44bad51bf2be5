"""One client's WebSocket session, from ``hello`` to close.

A :class:`Connection` owns three kinds of task, all cancelled and awaited
when it ends:

* the reader (the task that calls :meth:`run`): reads frames, enforces the
  frame rate, decodes, and dispatches each message in order;
* the writer: drains a bounded outbound queue onto the socket, so a client
  that reads slowly never blocks the code that sends to it;
* timers on the injected clock: the hello deadline, the heartbeat, and the
  token's expiry (a ``session.expiring`` notice, then close).

Nothing a client sends can raise out of the reader: a bad frame gets an
``error`` frame with a stable code and counts as a strike; too many strikes
close the connection with ``protocol.abuse``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from signaling import errors as codes
from signaling.codec import Envelope, RequestId, decode_client_frame, encode
from signaling.errors import CloseCode, ProtocolError
from signaling.messages import (
    PROTOCOL_VERSION,
    Error,
    Goodbye,
    Hello,
    Limits,
    Message,
    Ping,
    Pong,
    Reauth,
    Reauthed,
    SessionExpiring,
    Welcome,
)

from . import __version__
from .access import AccessGate, Admission
from .bus import Bus
from .chats.feed import ChatFeed
from .chats.presence import Presence
from .chats.requests import ChatRequests
from .chats.service import ChatService
from .clock import Clock
from .config import ChatConfig, EsiaConfig, ProtocolConfig
from .dispatch import Handler, handles, routes
from .errors import AuthError, ForbiddenError, ZvonokError
from .logformat import in_session
from .metrics import Metrics
from .preauth import PendingConnections
from .ratelimit import TokenBucket
from .rooms.controls import Controls
from .rooms.relay import RoomRelay
from .rooms.requests import RoomRequests
from .rooms.service import RoomService
from .safety.moderation import Moderation
from .safety.people import People
from .safety.reports import Reports
from .safety.requests import SafetyRequests
from .sessions import Sessions
from .store.base import ChatStore
from .wsbatch import OneByOne, Writer

log = logging.getLogger(__name__)

FEATURES = (ChatRequests, SafetyRequests, RoomRequests)
"""The session classes whose marked handlers, with the connection's own, serve
every client message once (tests/server/test_dispatch.py)."""

WRITE_BATCH_BYTES = 256 * 1024  # queued frames written together, at most this much at once
CLOSE_TIMEOUT = 5.0  # how long a closing handshake may take before we cut the TCP connection
RENEW_RETRY = 10.0  # seconds between renewals of a browser session while ESIA does not answer


class BrowserSession(Protocol):
    """A browser's session cookie, brought by the upgrade request (server/signin/web.py)."""

    @property
    def renew_before(self) -> float:
        """Seconds before the ESIA token expires that it is renewed."""
        ...

    async def admit(self) -> tuple[Admission, float]:
        """The person and when their ESIA token expires; AuthError if the session is not good."""
        ...

    async def renew(self) -> tuple[Admission, float]:
        """Renew the ESIA token now; AuthError ``session.expired`` if ESIA refuses."""
        ...


@dataclass(frozen=True, slots=True)
class SafetyServices:
    """The moderation, report and people services a session serves."""

    moderation: Moderation
    reports: Reports
    people: People


@dataclass(frozen=True, slots=True)
class RoomServices:
    """The lessons and meetings a session serves, and their controls."""

    rooms: RoomService
    controls: Controls
    relay: RoomRelay | None = None  # with several nodes: rooms on other nodes


class Connection:
    """A WebSocket session of one person (once ``hello`` succeeds)."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        *,
        writer: Writer | None = None,
        gate: AccessGate,
        clock: Clock,
        protocol: ProtocolConfig,
        esia: EsiaConfig,
        sessions: Sessions,
        accepted_at: float,
        chats: ChatService,
        presence: Presence,
        safety: SafetyServices,
        rooms: RoomServices,
        store: ChatStore,
        bus: Bus,
        chat_config: ChatConfig,
        pending: PendingConnections | None = None,
        browser: BrowserSession | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._ws = ws
        self._metrics = metrics
        self._browser = browser
        self._pending = pending
        self._transport = transport
        self._frames_out = writer or OneByOne(ws)
        self._gate = gate
        self._clock = clock
        self._cfg = protocol
        self._esia = esia
        self._sessions = sessions
        self._session_id = secrets.token_urlsafe(12)
        self._admission: Admission | None = None
        self._chats = chats
        self._presence = presence
        self._safety = safety
        self._safety_requests: SafetyRequests | None = None
        self._rooms = rooms
        self._room_requests: RoomRequests | None = None
        self._store = store
        self._bus = bus
        self._chat_config = chat_config
        self._feed: ChatFeed | None = None
        self._requests: ChatRequests | None = None
        self._routes: dict[type[Message], Handler] = {}  # filled once welcomed
        self._online = False
        # Frames for the client; None tells the writer to flush and close.
        self._out: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=protocol.outbound_queue)
        # Above this mark, ephemeral frames are dropped and paced writers wait.
        self._high_water = max(1, protocol.outbound_queue // 2)
        self._room = asyncio.Event()
        self._room.set()
        # Cleared while a hello is being served, so that the welcome reaches
        # the client only once its chat feed is subscribed: a client holding
        # its welcome misses no live event.
        self._writable = asyncio.Event()
        self._writable.set()
        self.dropped = 0  # ephemeral frames dropped because the client fell behind
        self._bucket = TokenBucket(protocol.frames_per_second, protocol.frame_burst, clock)
        self._strikes = 0
        self._accepted_at = accepted_at  # monotonic; the hello and heartbeat schedules start here
        self._last_inbound = accepted_at
        self._close_reason: tuple[CloseCode, str, str] | None = None
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._expiry: asyncio.Task[None] | None = None
        self._bearer = True  # signed in by a token in the hello (not by the browser's session)

    # -- identity, for the session registry ------------------------------------

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def person_oid(self) -> int | None:
        return None if self._admission is None else self._admission.token.oid

    @property
    def close_reason(self) -> str | None:
        """Why the connection closed (``slow_consumer``...), once it is closing."""
        return None if self._close_reason is None else self._close_reason[1]

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- lifecycle ---------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes, then release everything it holds."""
        in_session(self._session_id)  # every line of this connection's tasks names it
        self._writer = self._spawn(self._write_loop())
        self._spawn(self._hello_deadline())
        self._spawn(self._heartbeat())
        try:
            await self._read_loop()
        except Exception:
            log.exception("connection %s: reader failed", self._session_id)
            await self.close(codes.SERVER_INTERNAL, "internal error")
        finally:
            self._sessions.discard(self)
            self._room.set()  # release a paced writer waiting for room
            await self._leave()
            if self._close_reason is None:  # the peer left first: nothing more to say
                self._close_reason = (CloseCode.NORMAL, "peer.closed", "")
                self._closed.set()
            await self._closed.wait()  # bounded by _close_deadline
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self, reason: str, message: str) -> None:
        """Say goodbye and close with ``reason``, an error code, as the close
        frame's reason and the catalogue's close code for it (signaling/errors.py).
        Idempotent; returns once the socket is closed.

        The goodbye goes after what is already queued.  A closing handshake
        that cannot finish (the peer stopped reading, so our writes block) is
        cut off after :data:`CLOSE_TIMEOUT` by aborting the TCP connection.
        """
        if self._close_reason is None:
            code = codes.CODES[reason].close or CloseCode.PROTOCOL_ERROR
            self._close_reason = (code, reason, message)
            log.info("connection %s: closing %d %s", self._session_id, code, reason)
            self._spawn(self._close_deadline())
            try:
                self._out.put_nowait(None)
            except asyncio.QueueFull:
                # The client is not reading: what is queued will never reach it.
                self._room.set()
                if self._writer is not None:
                    self._writer.cancel()
                self._writer = self._spawn(
                    self._finish_close(code, reason, message, flush_goodbye=False)
                )
        await self._closed.wait()

    async def shutdown(self) -> None:
        await self.close(codes.SERVER_SHUTDOWN, "the server is restarting")

    def displace(self) -> None:
        """Close, without waiting: the person opened a newer session past
        ``protocol.max_sessions`` (:class:`~server.sessions.Sessions`)."""
        limit = self._cfg.max_sessions
        self._spawn(
            self.close(
                codes.SESSION_TOO_MANY,
                f"more than {limit} sessions of one person: this, the oldest, is closed",
            )
        )

    def send(self, message: Message, request_id: RequestId | None = None) -> None:
        """Queue a message for the client without waiting (see :meth:`push`)."""
        self.push(encode(message, request_id))

    def push(
        self, frame: bytes, *, ephemeral: bool = False, committed_at: float | None = None
    ) -> None:
        """Queue an encoded frame without waiting.

        Ephemeral frames (typing, presence) are dropped once the queue is
        half full, so they are the first thing a falling-behind client
        loses.  A full queue means the client has stopped reading: the
        connection is closed with ``slow_consumer``, and the client resumes
        without loss after reconnecting, since everything else it missed is
        stored.
        """
        if self._close_reason is not None:
            return
        out = self._out
        queued = out.qsize()
        metrics = self._metrics
        if ephemeral and queued >= self._high_water:
            self.dropped += 1
            if metrics is not None:
                metrics.dropped.inc()
            return
        try:
            out.put_nowait(frame)
        except asyncio.QueueFull:
            log.info("connection %s: outbound queue full; closing", self._session_id)
            if metrics is not None:
                metrics.slow_consumers.inc()
            self._spawn(self.close(codes.SLOW_CONSUMER, "not reading fast enough"))
        else:
            if metrics is not None:
                metrics.deliveries.inc()
                if committed_at is not None:
                    metrics.latency.observe(max(0.0, self._clock.time() - committed_at))
        if queued + 1 >= self._high_water:
            self._room.clear()

    async def room(self) -> None:
        """Return once the queue is below half full (a catch-up then pushes)."""
        while self._out.qsize() >= self._high_water and self._close_reason is None:
            self._room.clear()
            await self._room.wait()

    # -- tasks -------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _write_loop(self) -> None:
        out, room = self._out, self._room
        try:
            while True:
                frame = await out.get()
                # With everything queued meanwhile (a batch of posts queues
                # many at once), up to WRITE_BATCH_BYTES, in one write.
                frames: list[bytes] = []
                size = 0
                while frame is not None:
                    frames.append(frame)
                    size += len(frame)
                    if size >= WRITE_BATCH_BYTES or out.empty():
                        break
                    frame = out.get_nowait()
                if not room.is_set() and out.qsize() < self._high_water:
                    room.set()
                if frames:
                    if not self._writable.is_set():
                        await self._writable.wait()
                    await self._frames_out.write(frames)
                if frame is None:
                    break
        except (ConnectionError, RuntimeError):
            self._close_reason = self._close_reason or (CloseCode.NORMAL, "peer.gone", "")
            self._closed.set()
            return
        if self._close_reason is not None:
            await self._finish_close(*self._close_reason, flush_goodbye=True)

    async def _finish_close(
        self, code: CloseCode, reason: str, message: str, *, flush_goodbye: bool
    ) -> None:
        """Send the goodbye and the close frame; runs as the writer task, which
        :meth:`_close_deadline` cancels if the handshake cannot finish."""
        try:
            if flush_goodbye:
                await self._ws.send_bytes(encode(Goodbye(reason, message)))
            await self._ws.close(code=code, message=reason.encode()[:120])
        except (ConnectionError, RuntimeError):
            self._abort()
        finally:
            self._closed.set()

    async def _close_deadline(self) -> None:
        # Real time on purpose: this bounds a TCP handshake, not a domain timer.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._closed.wait()
            return
        log.info("connection %s: close handshake stuck; aborting", self._session_id)
        if self._writer is not None:
            self._writer.cancel()
        self._abort()
        self._closed.set()

    def _abort(self) -> None:
        """Drop the TCP connection now, discarding anything unsent.

        Unlike ``close()``, which waits for the send buffer to drain (forever,
        for a peer that does not read), this frees the socket at once.
        """
        if self._transport is not None:
            self._transport.abort()

    async def _hello_deadline(self) -> None:
        await self._clock.sleep_until(self._accepted_at + self._cfg.hello_timeout)
        if self._admission is None:
            await self.close(codes.HELLO_TIMEOUT, "no hello in time")

    async def _heartbeat(self) -> None:
        """Ping every interval; close if a whole interval passed with no answer.

        A peer that stops answering is closed within two intervals: the ping
        that goes unanswered is sent at most one interval after its last
        frame, and the check that notices comes one interval later.  Ticks
        keep a fixed schedule; when this task wakes more than an interval
        late (the process stalled, or a test moved its clock far), the missed
        ticks are skipped and nobody is judged on a ping they had no time to
        answer.
        """
        interval = self._cfg.heartbeat
        tick = self._accepted_at
        pinged_at: float | None = None
        while True:
            tick += interval
            await self._clock.sleep_until(tick)
            late = self._clock.monotonic() - tick
            if late >= interval:
                tick += (late // interval) * interval
                pinged_at = None
            if pinged_at is not None and self._last_inbound < pinged_at:
                await self.close(codes.HEARTBEAT_TIMEOUT, "no answer to ping")
                return
            pinged_at = self._clock.monotonic()
            try:
                # A ping that cannot even be written within an interval means
                # the peer has stopped reading: as dead as one that is silent.
                async with asyncio.timeout(interval):
                    await self._ws.ping()
            except TimeoutError:
                await self.close(codes.HEARTBEAT_TIMEOUT, "peer not reading")
                return
            except (ConnectionError, RuntimeError):
                return

    async def _expire(self, expires_at: float) -> None:
        """Warn before the token runs out, then close when it has."""

        def deadline(wall: float) -> float:
            return self._clock.monotonic() + (wall - self._clock.time())

        await self._clock.sleep_until(deadline(expires_at - self._esia.expiry_warning))
        left = max(0.0, expires_at - self._clock.time())
        self.send(SessionExpiring(expires_at=expires_at, seconds_left=left))
        await self._clock.sleep_until(deadline(expires_at + self._esia.leeway))
        await self.close(codes.AUTH_EXPIRED, "the access token expired")

    async def _renew(self, browser: BrowserSession, expires_at: float) -> None:
        """Renew a browser session's ESIA token before it expires; close when ESIA refuses.

        ESIA not answering is retried every :data:`RENEW_RETRY` seconds until
        the token is past its expiry (and the leeway), then the session ends
        for this socket as if ESIA had refused.
        """

        def deadline(wall: float) -> float:
            return self._clock.monotonic() + (wall - self._clock.time())

        at = expires_at - browser.renew_before
        while True:
            await self._clock.sleep_until(deadline(at))
            try:
                admission, renewed_until = await browser.renew()
            except ZvonokError as exc:
                if exc.code == codes.ESIA_UNAVAILABLE and self._clock.time() + RENEW_RETRY < (
                    expires_at + self._esia.leeway
                ):
                    at = self._clock.time() + RENEW_RETRY
                    continue
                log.info("connection %s: session not renewed: %s", self._session_id, exc.code)
                self.send(Error(codes.SESSION_EXPIRED, "the session has expired; sign in again"))
                await self.close(codes.SESSION_EXPIRED, "the session expired")
                return
            if self._admission is not None and admission.token.oid == self._admission.token.oid:
                self._admission = admission
            self.send(Reauthed(expires_at=renewed_until))
            expires_at = renewed_until
            at = expires_at - browser.renew_before

    def _arm_expiry(self, expires_at: float) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self._browser is not None and not self._bearer:
            self._expiry = self._spawn(self._renew(self._browser, expires_at))
        else:
            self._expiry = self._spawn(self._expire(expires_at))

    # -- reading -----------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            msg = await self._ws.receive()
            self._last_inbound = self._clock.monotonic()
            if msg.type is WSMsgType.BINARY:
                await self._on_frame(msg.data)
            elif msg.type is WSMsgType.PING:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self._ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                pass  # its arrival, noted above, is all a pong is for
            elif msg.type is WSMsgType.TEXT:
                await self._refuse(
                    ProtocolError(codes.FRAME_NOT_BINARY, "send msgpack in binary frames")
                )
            else:  # CLOSE, CLOSING, CLOSED, ERROR: the socket is done
                if msg.type is WSMsgType.ERROR:
                    log.info("connection %s: %s", self._session_id, self._ws.exception())
                return
            if self._close_reason is not None:
                return

    async def _on_frame(self, data: bytes) -> None:
        try:
            envelope = decode_client_frame(data, max_size=self._cfg.max_frame)
        except ProtocolError as exc:
            await self._refuse(exc)
            return
        # Limited after decoding (cheap, and bounded by max_frame) so that the
        # refusal carries the request id and the client knows what to retry.
        retry_after = self._bucket.take()
        if retry_after:
            self._strikes += 1
            self.send(
                Error(codes.RATE_LIMITED, "too many frames", round(retry_after, 3)),
                envelope.request_id,
            )
            await self._check_strikes()
            return
        try:
            await self._dispatch(envelope)
        except ZvonokError as exc:
            self.send(Error(exc.code, exc.message, exc.retry_after), envelope.request_id)
        except Exception:
            log.exception("connection %s: %s failed", self._session_id, envelope.message.TYPE)
            self.send(Error(codes.SERVER_INTERNAL, "internal error"), envelope.request_id)

    async def _refuse(self, exc: ProtocolError) -> None:
        self._strikes += 1
        log.debug("connection %s: refused frame: %s", self._session_id, exc.code)
        self.send(Error(exc.code, exc.message), exc.request_id)
        await self._check_strikes()

    async def _check_strikes(self) -> None:
        if self._strikes >= self._cfg.max_protocol_errors:
            await self.close(codes.PROTOCOL_ABUSE, "too many bad frames")

    # -- dispatch ----------------------------------------------------------------

    async def _dispatch(self, envelope: Envelope) -> None:
        """The one place where inbound messages are handled: the session's
        dispatch table, the connection's own handlers and its features'."""
        rid = envelope.request_id
        if self._admission is None:
            if isinstance(envelope.message, Hello):
                await self._on_hello(envelope.message, rid)
            else:
                await self._refuse(ProtocolError(codes.HELLO_REQUIRED, "say hello first", rid))
            return
        handler = self._routes.get(type(envelope.message))
        if handler is None:  # in the allow-list but not routed: a bug, not the client's fault
            raise ZvonokError(
                codes.MESSAGE_UNKNOWN_TYPE, f"{envelope.message.TYPE} is not served here"
            )
        reply = await handler(envelope.message, rid)
        if reply is not None:
            self.send(reply, rid)

    @handles(Hello)
    async def _repeated_hello(self, hello: Hello, rid: RequestId | None) -> None:
        await self._refuse(ProtocolError(codes.HELLO_REPEATED, "already welcomed", rid))

    @handles(Ping)
    async def _ping(self, ping: Ping, rid: RequestId | None) -> Pong:
        return Pong(time=self._clock.time())

    @handles(Reauth)
    async def _reauth(self, reauth: Reauth, rid: RequestId | None) -> Reauthed:
        current = self._admission
        if current is None:  # _dispatch routes only once welcomed
            raise ZvonokError(codes.HELLO_REQUIRED, "say hello first")
        admission = await self._gate.admit(reauth.token)
        if admission.token.oid != current.token.oid:
            raise AuthError(
                codes.AUTH_PERSON_MISMATCH, "the new token is for another person; reconnect"
            )
        self._admission = admission
        self._bearer = True  # the client's own token now, renewed by the client
        self._arm_expiry(admission.token.expires_at)
        return Reauthed(expires_at=admission.token.expires_at)

    async def _on_hello(self, hello: Hello, rid: RequestId | None) -> None:
        if hello.version != PROTOCOL_VERSION:
            self.send(Error(codes.PROTOCOL_VERSION, f"this server speaks v{PROTOCOL_VERSION}"), rid)
            await self.close(codes.PROTOCOL_VERSION, "unsupported")
            return
        try:
            admission, expires_at = await self._sign_in(hello.token)
        except (AuthError, ForbiddenError) as exc:
            log.info("connection %s: hello refused: %s", self._session_id, exc.code)
            self.send(Error(exc.code, exc.message), rid)
            await self.close(exc.code, exc.message)
            return
        self._admission = admission
        self._sessions.add(self)
        if self._pending is not None:  # signed in: no longer one of the connections bounded
            self._pending.signed_in(self._transport)
        self._arm_expiry(expires_at)
        # Online before the welcome: once a client holds its welcome, its
        # person counts as online (a second device never flickers offline).
        self._online = True
        await self._presence.connected(admission.token.oid)
        log.info(
            "connection %s: welcome oid=%d client=%r",
            self._session_id,
            admission.token.oid,
            hello.client,
        )
        cfg = self._cfg
        self._writable.clear()
        self.send(
            Welcome(
                session_id=self._session_id,
                protocol=PROTOCOL_VERSION,
                server=f"zvonok/{__version__}",
                profile=admission.profile_json(),
                limits=Limits(
                    max_frame=cfg.max_frame,
                    max_text=cfg.max_text,
                    frames_per_second=cfg.frames_per_second,
                    frame_burst=cfg.frame_burst,
                ),
                heartbeat=cfg.heartbeat,
                expires_at=admission.token.expires_at,
            ),
            rid,
        )
        try:
            await self._join(admission.token.oid, hello.resume)
        finally:
            self._writable.set()

    async def _sign_in(self, token: str | None) -> tuple[Admission, float]:
        """Admit by the hello's token, or without one by the browser's session cookie."""
        if token is not None:
            admission = await self._gate.admit(token)
            return admission, admission.token.expires_at
        if self._browser is None:
            raise AuthError(codes.AUTH_MISSING, "send a token, or open the socket with a session")
        self._bearer = False
        return await self._browser.admit()

    async def _join(self, oid: int, resume: dict[str, int] | None) -> None:
        """Start the chat feed (after the welcome, so chat events follow it)."""
        chat = self._chat_config
        self._feed = ChatFeed(
            oid,
            store=self._store,
            bus=self._bus,
            sink=self,
            sync_limit=chat.sync_limit,
            page=min(chat.history_page, self._high_water),
        )
        self._requests = ChatRequests(
            oid, service=self._chats, presence=self._presence, feed=self._feed
        )
        self._safety_requests = SafetyRequests(
            oid,
            moderation=self._safety.moderation,
            reports=self._safety.reports,
            people=self._safety.people,
        )
        self._room_requests = RoomRequests(
            oid,
            rooms=self._rooms.rooms,
            controls=self._rooms.controls,
            sink=self,
            relay=self._rooms.relay,
            session=self._session_id,
        )
        self._routes = routes(self, self._requests, self._safety_requests, self._room_requests)
        await self._feed.start(resume)

    async def _leave(self) -> None:
        """Leave the rooms (their grace starts), stop the feed and, with the
        person's last connection, go offline."""
        if self._room_requests is not None:
            await self._room_requests.close()
        if self._feed is not None:
            await self._feed.close()
        if self._online and self._admission is not None:
            self._online = False
            try:
                await self._presence.disconnected(self._admission.token.oid)
            except ZvonokError as exc:  # the store went away: last_seen is not worth a crash
                log.warning("connection %s: presence not updated: %s", self._session_id, exc.code)
