"""Connections not yet signed in: at most ``http.max_pending``, the oldest go first.

A TCP connection holds a file descriptor, aiohttp's protocol and a task from
the moment it is accepted, long before it says who it is.  Time bounds each
one (``http.request_timeout`` for its requests, ``protocol.hello_timeout``
for the WebSocket ``hello``); :class:`PendingConnections` bounds how many
there are at once.  Every accepted connection is pending until its
WebSocket session is welcomed (an HTTP-only connection stays pending for
its life, which ``request_timeout`` keeps short between requests).  When
one more would pass the bound, the *oldest* pending connection is aborted:
a client that signs in promptly is almost never the oldest, so a flood of
silent sockets has to outpace real sign-ins to keep anyone out, instead of
merely filling the table once (which refusing the newest would allow).
Signed-in sessions are not counted and are never closed for this.

The count needs a hook at accept time, which aiohttp's sites do not have:
:class:`CountingSite` is a TCP site whose protocol factory wraps each of
aiohttp's protocols in :class:`_Counted`.  Its one reach into aiohttp's
private parts is ``BaseSite._server`` (the listening server, which
``BaseSite.stop`` closes and ``BaseRunner.addresses`` reads), tested in
``tests/server/test_preauth.py``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import cast

from aiohttp import web

log = logging.getLogger(__name__)


class PendingConnections:
    """The transports of connections not signed in, oldest first."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._pending: dict[asyncio.Transport, None] = {}  # a dict keeps accept order
        self.evicted = 0  # connections closed to make room, since start

    def __len__(self) -> int:
        return len(self._pending)

    def opened(self, transport: asyncio.Transport) -> None:
        """Count a new connection, aborting the oldest ones past the limit."""
        while len(self._pending) >= self._limit:
            oldest = next(iter(self._pending))
            del self._pending[oldest]
            self.evicted += 1
            log.debug("too many connections not signed in: closing the oldest")
            oldest.abort()  # not close(): nothing it waits for is worth keeping
        self._pending[transport] = None

    def signed_in(self, transport: asyncio.BaseTransport | None) -> None:
        """The connection's session was welcomed: it no longer counts."""
        if transport is not None:
            self._pending.pop(cast(asyncio.Transport, transport), None)

    def closed(self, transport: asyncio.Transport) -> None:
        self._pending.pop(transport, None)


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted from accept to close."""

    __slots__ = ("_inner", "_pending", "_transport")

    def __init__(self, inner: asyncio.Protocol, pending: PendingConnections) -> None:
        self._inner = inner
        self._pending = pending
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._pending.opened(self._transport)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._pending.closed(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class CountingSite(web.BaseSite):
    """A TCP site whose connections ``pending`` counts until they sign in."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        pending: PendingConnections,
        reuse_address: bool = False,
        backlog: int = 128,
        sock: socket.socket | None = None,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._sock = sock  # a socket bound already (its port known before the app is made)
        self._web_runner = runner
        self._host = host
        self._port = port
        self._pending = pending
        self._reuse_address = reuse_address
        self._listen_backlog = backlog
        self._listener: asyncio.Server | None = None

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The bound port (the requested one until started, which may be 0)."""
        listener = self._listener
        if listener is not None and listener.sockets:
            port: int = listener.sockets[0].getsockname()[1]
            return port
        return self._port

    async def start(self) -> None:
        await super().start()
        server = self._web_runner.server
        if server is None:
            raise RuntimeError("the runner is not set up")
        pending = self._pending

        def protocol() -> asyncio.Protocol:
            return _Counted(server(), pending)

        loop = asyncio.get_running_loop()
        if self._sock is not None:
            self._listener = await loop.create_server(
                protocol, sock=self._sock, backlog=self._listen_backlog
            )
        else:
            self._listener = await loop.create_server(
                protocol,
                self._host,
                self._port,
                reuse_address=self._reuse_address,
                backlog=self._listen_backlog,
            )
        self._server = self._listener  # aiohttp's: BaseSite.stop closes it, addresses reads it
