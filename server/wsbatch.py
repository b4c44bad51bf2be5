"""Writing several WebSocket messages with one system call.

A post in a class chat puts one frame in the queue of each of its members'
connections, and the store commits posts in batches, so a connection's
writer usually finds many frames waiting at once.  aiohttp writes each
message with its own ``transport.write``, and on uvloop each of those is a
``send()`` made while holding the GIL: at the chat benchmark's peak it was
a third of the server's time.  :class:`BatchWriter` frames the waiting
messages itself (RFC 6455 section 5.2: unmasked binary frames, as a server
sends them; the connection never compresses) and hands them to the
transport in one write.

Backpressure stays aiohttp's: after a write, if the transport asked its
protocol to pause, the writer waits on the protocol's drain, as
aiohttp's own writer does.  That wait is aiohttp's private
``_drain_helper``: if an aiohttp upgrade removes it, :func:`batch_writer`
falls back to one ``send_bytes`` per message, which is slower but
correct, and ``tests/server/test_wsbatch.py`` fails to say so.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import web

_FIN_BINARY = 0x82  # FIN bit and opcode 2 (binary)
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def frame_header(length: int) -> bytes:
    """The header of a final, unmasked binary frame with a payload of ``length`` bytes."""
    if length < 126:
        return _SHORT.pack(_FIN_BINARY, length)
    if length < 1 << 16:
        return _MEDIUM.pack(_FIN_BINARY, 126, length)
    return _LONG.pack(_FIN_BINARY, 127, length)


class Writer(Protocol):
    async def write(self, messages: Sequence[bytes]) -> None:
        """Send ``messages`` in order, each as one binary WebSocket message."""


class OneByOne:
    """Each message through aiohttp (the fallback, and what a single message takes)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def write(self, messages: Sequence[bytes]) -> None:
        for message in messages:
            await self._ws.send_bytes(message)


class BatchWriter:
    """Several messages framed here and written to the transport at once."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        drain: Callable[[], Awaitable[None]],
        paused: Callable[[], bool],
    ) -> None:
        self._ws = ws
        self._transport = transport
        self._drain = drain
        self._paused = paused

    async def write(self, messages: Sequence[bytes]) -> None:
        if len(messages) == 1:
            await self._ws.send_bytes(messages[0])
            return
        if self._ws.closed or self._transport.is_closing():
            raise ConnectionResetError("the WebSocket is closing")
        parts: list[bytes] = []
        for message in messages:
            parts.append(frame_header(len(message)))
            parts.append(message)
        self._transport.write(b"".join(parts))
        if self._paused():
            await self._drain()


def batch_writer(request: web.BaseRequest, ws: web.WebSocketResponse) -> Writer:
    """The fastest writer this aiohttp allows for a prepared ``ws``."""
    transport = request.transport
    protocol = request.protocol
    drain = getattr(protocol, "_drain_helper", None)
    if transport is None or drain is None or not hasattr(protocol, "writing_paused"):
        return OneByOne(ws)

    def paused() -> bool:
        return bool(protocol.writing_paused)

    return BatchWriter(ws, transport, drain, paused)
