"""Several WebSocket messages in one write (server/wsbatch.py), over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.base_protocol import BaseProtocol

from server.wsbatch import BatchWriter, OneByOne, Writer, batch_writer, frame_header
from tests.rawws import RawWebSocket

Handler = Callable[[web.Request, web.WebSocketResponse, Writer], Awaitable[None]]

# Every header length: up to 125 in the first byte, 16 bits, 64 bits.
SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000, 3]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        await handler(request, ws, batch_writer(request, ws))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


def test_frame_headers_follow_rfc_6455() -> None:
    assert frame_header(0) == b"\x82\x00"
    assert frame_header(125) == b"\x82\x7d"
    assert frame_header(126) == b"\x82\x7e\x00\x7e"
    assert frame_header(65_535) == b"\x82\x7e\xff\xff"
    assert frame_header(65_536) == b"\x82\x7f" + (65_536).to_bytes(8, "big")


async def test_this_aiohttp_gets_the_batch_writer_and_a_client_reads_each_message() -> None:
    # The installed aiohttp still has what the batch writer needs: if an
    # upgrade takes it away, the server falls back to one write a message,
    # and this test says so.
    messages = [bytes([n % 251]) * size for n, size in enumerate(SIZES)]
    writers: list[Writer] = []

    async def handler(request: web.Request, ws: web.WebSocketResponse, writer: Writer) -> None:
        writers.append(writer)
        await writer.write(messages)
        await writer.write([b"alone"])

    async with (
        serving(handler) as url,
        aiohttp.ClientSession() as http,
        http.ws_connect(url) as client,
    ):
        got = [await client.receive_bytes() for _ in range(len(messages) + 1)]
    assert isinstance(writers[0], BatchWriter)
    assert got == [*messages, b"alone"]


async def test_the_batch_waits_for_a_client_that_does_not_read() -> None:
    # 16 MiB in one batch: far more than the socket buffers and the
    # transport's high-water mark. write() must not return until the client
    # has read, as aiohttp's own send_bytes would not.
    messages = [bytes([n]) * (1 << 20) for n in range(16)]
    started, finished = asyncio.Event(), asyncio.Event()
    paused: list[bool] = []

    async def handler(request: web.Request, ws: web.WebSocketResponse, writer: Writer) -> None:
        protocol = request.protocol
        started.set()
        await writer.write(messages)
        paused.append(protocol.writing_paused)
        finished.set()

    async with serving(handler) as url:
        client = await RawWebSocket.connect(url)
        try:
            await started.wait()
            # The handler ran on to its first wait in the same step: the drain.
            assert not finished.is_set()
            for expected in messages:
                opcode, payload = await client.read_frame()
                assert (opcode, payload) == (0x2, expected)
            await finished.wait()
            assert paused == [False]
        finally:
            client.close()


async def test_an_aiohttp_without_the_drain_gets_one_write_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(BaseProtocol, "_drain_helper")
    writers: list[Writer] = []

    async def handler(request: web.Request, ws: web.WebSocketResponse, writer: Writer) -> None:
        writers.append(writer)
        await writer.write([b"one", b"two"])

    async with (
        serving(handler) as url,
        aiohttp.ClientSession() as http,
        http.ws_connect(url) as client,
    ):
        got = [await client.receive_bytes() for _ in range(2)]
    assert isinstance(writers[0], OneByOne)
    assert got == [b"one", b"two"]


async def test_a_closing_websocket_refuses_a_batch() -> None:
    refused: list[BaseException] = []

    async def handler(request: web.Request, ws: web.WebSocketResponse, writer: Writer) -> None:
        await ws.close()
        try:
            await writer.write([b"late", b"later"])
        except ConnectionError as exc:
            refused.append(exc)

    async with (
        serving(handler) as url,
        aiohttp.ClientSession() as http,
        http.ws_connect(url) as client,
    ):
        message = await client.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert len(refused) == 1
