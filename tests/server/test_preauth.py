"""Connections that never sign in, over real sockets on 127.0.0.1.

Silent sockets, half-sent requests and WebSockets that never say ``hello``
are closed within their configured time, and past ``http.max_pending`` the
oldest of them go, while signed-in clients keep chatting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path

import pytest
from aiohttp import web

from server.app import make_app
from server.appkeys import PENDING
from server.clock import SystemClock
from server.config import Config, HttpConfig, load_config
from server.errors import ConfigError
from server.preauth import CountingSite
from signaling.chat import AckMsg, ChatEventMsg, Send
from signaling.client import Client
from signaling.messages import Ping, Pong
from tests.conftest import Running, ServerFactory
from tests.conftest import test_config as config_in
from tests.serverproc import ServerProcess

CLASS_5A = "class:sosh-1-5a"
SLACK = 3.0  # seconds a close may come after its deadline on a busy test machine
_keys = itertools.count(1)

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def students_5a(zvonok: Running) -> list[int]:
    return [
        e.person.oid
        for e in zvonok.directory
        if any(c.class_id == "sosh-1-5a" and c.relation == "student" for c in e.classes)
    ]


async def chat_once(sender: Client, reader: Client) -> None:
    """One message from ``sender`` to the class chat, acknowledged and delivered."""
    text = f"сообщение {next(_keys)}"
    ack = await sender.request(Send(chat=CLASS_5A, text=text, key=f"pre{next(_keys)}"))
    assert isinstance(ack, AckMsg)
    event = await reader.next_of(
        ChatEventMsg, timeout=10.0, where=lambda e: e.chat == CLASS_5A and e.seq == ack.seq
    )
    assert event.data["text"] == text


async def open_raw(zvonok: Running, first_bytes: bytes = b"") -> Stream:
    port = int(zvonok.base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if first_bytes:
        writer.write(first_bytes)
        await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader) -> float:
    """Read until the server closes the connection; the loop time it did."""
    with contextlib.suppress(ConnectionResetError):
        while await reader.read(65536):  # a goodbye and a close frame at most
            pass
    return asyncio.get_running_loop().time()


async def http_get(stream: Stream, path: str = "/healthz") -> int:
    """A keep-alive GET on a raw connection; the response's status."""
    reader, writer = stream
    writer.write(f"GET {path} HTTP/1.1\r\nHost: zvonok\r\n\r\n".encode())
    await writer.drain()
    async with asyncio.timeout(10.0):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        await reader.readexactly(length)
    return int(lines[0].split()[1])


def upgrade(path: str = "/ws") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: zvonok\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def test_silent_half_sent_and_helloless_sockets_close_in_time_while_clients_chat(
    make_server: ServerFactory,
) -> None:
    timeout, hello_timeout = 1.0, 1.0
    zvonok = await make_server(
        SystemClock(),
        http=HttpConfig(request_timeout=timeout, max_pending=1000),
        hello_timeout=hello_timeout,
        frames_per_second=1000.0,  # the chat below goes as fast as it can
        frame_burst=1000,
    )
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    loop = asyncio.get_running_loop()

    kinds = [(b"", timeout)] * 200  # TCP connections that send nothing
    kinds += [(b"GET /ws HTTP/1.1\r\nHost: zvonok\r\n", timeout)] * 100  # one header, silence
    kinds += [(upgrade(), timeout + hello_timeout)] * 20  # upgraded, never a hello
    slow_body = b"POST /api/v1/me HTTP/1.1\r\nHost: zvonok\r\nContent-Length: 999\r\n\r\n{"
    kinds += [(slow_body, timeout)] * 20  # refused at once, the rest of the body never comes
    deadlines: list[float] = []
    writers: list[asyncio.StreamWriter] = []
    closes: list[asyncio.Task[float]] = []
    for first_bytes, allowed in kinds:
        reader, writer = await open_raw(zvonok, first_bytes)
        deadlines.append(loop.time() + allowed + SLACK)
        writers.append(writer)
        closes.append(asyncio.create_task(closed_by_server(reader)))
    all_closed = asyncio.gather(*closes)

    chatted = 0
    try:
        async with asyncio.timeout(timeout + hello_timeout + 3 * SLACK):
            while not all_closed.done() and chatted < 200:
                await chat_once(anya, boris)
                chatted += 1
            closed_at = await all_closed
    finally:
        for task in closes:
            task.cancel()
        await asyncio.gather(all_closed, return_exceptions=True)
        for writer in writers:
            writer.close()
    assert chatted >= 1  # they chatted while the others were being closed
    late = [at > deadline for at, deadline in zip(closed_at, deadlines, strict=True)]
    assert not any(late), f"{sum(late)} connections closed after their deadline"
    assert len(zvonok.app[PENDING]) == 0
    await chat_once(boris, anya)  # longer than request_timeout signed in, and still chatting


async def test_past_max_pending_the_oldest_connections_not_signed_in_are_closed(
    make_server: ServerFactory,
) -> None:
    limit = 20
    zvonok = await make_server(
        SystemClock(), http=HttpConfig(request_timeout=60.0, max_pending=limit)
    )
    anya_oid, boris_oid = students_5a(zvonok)[:2]
    anya, boris = await zvonok.connect(anya_oid), await zvonok.connect(boris_oid)
    pending = zvonok.app[PENDING]
    assert len(pending) == 0  # welcomed sessions do not count

    streams: list[Stream] = []
    for _ in range(limit + 10):
        stream = await open_raw(zvonok)
        assert await http_get(stream) == 200  # accepted and counted, then idle on keep-alive
        streams.append(stream)
    oldest, newest = streams[:10], streams[10:]
    async with asyncio.timeout(10.0):
        await asyncio.gather(*(closed_by_server(reader) for reader, _ in oldest))
    for stream in newest:
        assert await http_get(stream) == 200  # the newest are all still served
    for _, writer in oldest:
        writer.close()
    assert (len(pending), pending.evicted) == (limit, 10)
    await chat_once(anya, boris)

    # A flood of silent sockets pushes out only connections not signed in.
    flood = [await open_raw(zvonok) for _ in range(3 * limit)]
    async with asyncio.timeout(10.0):
        await asyncio.gather(*(closed_by_server(reader) for reader, _ in flood[: 2 * limit]))
        await asyncio.gather(*(closed_by_server(reader) for reader, _ in newest))
    await chat_once(boris, anya)
    assert len(pending) == limit
    for _, writer in flood + newest:
        writer.close()


async def test_the_counting_site_is_what_aiohttp_stops_and_lists(tmp_path: Path) -> None:
    # CountingSite sets BaseSite._server, aiohttp's private slot for the
    # listening server: if aiohttp renames it, this fails by name.
    app = make_app(config_in(tmp_path))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = CountingSite(runner, "127.0.0.1", 0, pending=app[PENDING])
        await site.start()
        assert [address[1] for address in runner.addresses] == [site.port]
        assert site.name == f"http://127.0.0.1:{site.port}"
        await site.stop()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", site.port)
    finally:
        await runner.cleanup()


def test_the_http_bounds_are_settings_and_refuse_nonsense() -> None:
    config = load_config(
        env={"ZVONOK_HTTP_REQUEST_TIMEOUT": "2.5", "ZVONOK_HTTP_MAX_PENDING": "50"}
    )
    assert (config.http.request_timeout, config.http.max_pending) == (2.5, 50)
    for bad in (HttpConfig(request_timeout=0), HttpConfig(max_pending=0)):
        with pytest.raises(ConfigError, match="http:"):
            Config(http=bad).validate()


async def test_zvonok_serve_listens_with_the_bounds(tmp_path: Path) -> None:
    """The serve command's own wiring: the counting site and the request timeout."""
    limit, timeout = 5, 2.0
    server = ServerProcess(
        tmp_path / "node",
        env={"ZVONOK_HTTP_REQUEST_TIMEOUT": str(timeout), "ZVONOK_HTTP_MAX_PENDING": str(limit)},
    )
    await server.start()
    streams: list[Stream] = []
    try:
        client = await Client.connect(server.ws_url, server.identity_provider().issue(1000100101))
        async with client:
            for _ in range(limit + 3):
                stream = await asyncio.open_connection("127.0.0.1", server.port)
                streams.append(stream)
                assert await http_get(stream) == 200
            oldest, newest = streams[:3], streams[3:]
            async with asyncio.timeout(timeout + SLACK):
                await asyncio.gather(*(closed_by_server(reader) for reader, _ in oldest))
            for stream in newest:  # so those were closed for the bound, not for time
                assert await http_get(stream) == 200
            answered = asyncio.get_running_loop().time()
            async with asyncio.timeout(timeout + SLACK):
                closed = await asyncio.gather(*(closed_by_server(r) for r, _ in newest))
            assert max(closed) - answered < timeout + SLACK  # idle keep-alive: closed in time
            assert isinstance(await client.request(Ping()), Pong)  # signed in: still served
    finally:
        for _, writer in streams:
            writer.close()
        await server.stop()
