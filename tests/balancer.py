"""A TCP load balancer for the tests of several nodes: what a school's would do.

Each connection the balancer accepts goes to the first backend, in its
order of preference, that takes it; a backend that refuses (its node is
dead) is passed over, so the clients of a killed node come back through
another as behind a real balancer's health checks. Bytes are copied both
ways until either side closes, and then the other is closed too: a node
that dies drops its clients' connections, as it would behind HAProxy or
nginx. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

CONNECT_TIMEOUT = 2.0
CHUNK = 64 * 1024


class Balancer:
    def __init__(self, backends: Sequence[int]) -> None:
        self.backends = list(backends)  # ports on 127.0.0.1, the preferred first
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prefer(self, port: int) -> None:
        """Send new connections to ``port`` first."""
        self.backends.remove(port)
        self.backends.insert(0, port)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            for port in list(self.backends):
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT):
                        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                except (OSError, TimeoutError):
                    continue  # that node is down: the next
                await self._pipe(reader, writer, up_reader, up_writer)
                return
        finally:
            self._pipes.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(CHUNK):
                    sink.write(data)
                    await sink.drain()

        ways = [
            asyncio.create_task(copy(reader, up_writer)),
            asyncio.create_task(copy(up_reader, writer)),
        ]
        try:
            await asyncio.wait(ways, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for way in ways:
                way.cancel()
            await asyncio.gather(*ways, return_exceptions=True)
            up_writer.close()
            with contextlib.suppress(OSError):
                await up_writer.wait_closed()


@asynccontextmanager
async def balancing(backends: Sequence[int]) -> AsyncIterator[Balancer]:
    balancer = Balancer(backends)
    await balancer.start()
    try:
        yield balancer
    finally:
        await balancer.close()
