"""What one signed-in HTTP caller may hold, over real sockets on 127.0.0.1.

A body trickled a byte at a time is refused ``http.body_timeout`` (408) once
``http.body_timeout`` has passed, and its connection closed, while others
are served; a body that arrives in pieces in time is read whole; a person
with ``http.max_person_requests`` requests in progress gets
``http.too_many_requests`` (429) for one more until one ends, and nobody
else is held up (docs/api.md, "Errors").
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from server.appkeys import PERSON_REQUESTS
from server.clock import SystemClock
from server.config import Config, HttpConfig, load_config
from server.errors import ConfigError
from tests.conftest import Running, ServerFactory
from tests.server.test_http_chats import call
from tests.server.test_rights_at_use import ADMIN, ANYA, BORIS, demo

CLASS_5A = "class:sosh-1-5a"
MESSAGES = f"/api/v1/chats/{CLASS_5A}/messages"
SLACK = 3.0  # seconds an answer may come after its deadline on a busy test machine
PACE = 0.05  # seconds between the bytes of a trickled body (the attack's pace)

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Response = tuple[int, dict[str, str], bytes]


async def post_head(
    zvonok: Running, path: str, oid: int, length: int, headers: dict[str, str] | None = None
) -> Stream:
    """A raw connection that has sent a POST's head (with ``oid``'s token), no body."""
    port = int(zvonok.base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: zvonok",
        f"Authorization: Bearer {zvonok.token(oid)}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    return reader, writer


async def response_within(reader: asyncio.StreamReader, seconds: float) -> Response | None:
    """The next response if its head arrives within ``seconds``, else ``None``."""
    try:
        async with asyncio.timeout(seconds):
            head = await reader.readuntil(b"\r\n\r\n")
    except TimeoutError:
        return None
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    async with asyncio.timeout(SLACK):
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def closed_by_server(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionResetError):
        while await reader.read(65536):
            pass


def code_of(body: bytes) -> str:
    code: str = json.loads(body)["error"]["code"]
    return code


async def test_a_signed_in_callers_trickled_body_is_refused_in_time_while_others_post(
    make_server: ServerFactory,
) -> None:
    timeout = 1.0
    zvonok = await make_server(SystemClock(), http=HttpConfig(body_timeout=timeout))
    loop = asyncio.get_running_loop()
    reader, writer = await post_head(zvonok, MESSAGES, ANYA, 1000, {"Idempotency-Key": "slow"})
    began = loop.time()
    others = 0
    answer: Response | None = None
    try:
        async with asyncio.timeout(timeout + SLACK):
            while answer is None:
                # Whitespace: a JSON body that never ends.  Only in the first
                # half of the time: a byte that reaches the server after it
                # has closed the connection makes its kernel answer with a
                # reset, which can overtake the 408 on the way to us.
                if loop.time() - began < timeout / 2:
                    writer.write(b" ")
                    await writer.drain()
                # Another person posts meanwhile, and is answered.
                reply = await call(
                    zvonok,
                    "POST",
                    f"{zvonok.base}{MESSAGES}",
                    BORIS,
                    json={"text": f"пока она пишет {others}"},
                    headers={"Idempotency-Key": f"other-{others}"},
                )
                assert reply.status == 201
                others += 1
                answer = await response_within(reader, PACE)
        answered = loop.time() - began
        status, headers, body = answer
        assert (status, code_of(body)) == (408, "http.body_timeout")
        assert headers.get("connection", "").lower() == "close"
        assert timeout - 0.1 <= answered <= timeout + SLACK
        assert others >= 2  # others were served all along
        async with asyncio.timeout(SLACK):
            await closed_by_server(reader)  # closed at once, not drained
    finally:
        writer.close()
    # Nothing of hers was stored, her slot is free, and she is served again.
    events = await call(zvonok, "GET", f"{zvonok.base}/api/v1/chats/{CLASS_5A}/events", ANYA)
    assert events.status == 200
    assert ANYA not in {e["author"] for e in events.body["events"]}
    assert zvonok.app[PERSON_REQUESTS].held(ANYA) == 0


async def test_a_body_that_arrives_in_pieces_in_time_is_read_whole(
    make_server: ServerFactory,
) -> None:
    """A roster file in two halves, the second sent only once the server has
    been seen waiting for it: the upload reads the file, not its first half."""
    zvonok = await make_server(SystemClock(), http=HttpConfig(body_timeout=30.0))
    raw = json.dumps(demo(), ensure_ascii=False).encode()
    half = len(raw) // 2
    reader, writer = await post_head(zvonok, "/api/v1/admin/roster", ADMIN, len(raw))
    try:
        writer.write(raw[:half])
        await writer.drain()
        assert await response_within(reader, 0.3) is None  # waiting for the rest
        writer.write(raw[half:])
        await writer.drain()
        answer = await response_within(reader, 10.0)
    finally:
        writer.close()
    assert answer is not None
    status, _, body = answer
    assert status == 200, body


async def test_a_person_holds_at_most_max_person_requests_at_once(
    make_server: ServerFactory,
) -> None:
    limit = 2
    zvonok = await make_server(
        SystemClock(), http=HttpConfig(max_person_requests=limit, body_timeout=60.0)
    )
    body = json.dumps({"text": "наконец"}).encode()
    held = [
        await post_head(zvonok, MESSAGES, ANYA, len(body), {"Idempotency-Key": f"held-{n}"})
        for n in range(limit)
    ]
    chats = f"{zvonok.base}/api/v1/chats"
    try:
        for _, writer in held:
            writer.write(body[:1])  # the start of a body, the rest later
            await writer.drain()
        # Her requests are served until both held ones are in their handlers.
        async with asyncio.timeout(10.0):
            while (refused := await call(zvonok, "GET", chats, ANYA)).status == 200:
                pass
        assert (refused.status, refused.code) == (429, "http.too_many_requests")
        assert refused.headers["Retry-After"] == "1"
        assert zvonok.app[PERSON_REQUESTS].held(ANYA) == limit
        # Anyone else is served.
        assert (await call(zvonok, "GET", chats, BORIS)).status == 200
        # One held request ends: its slot is hers again.
        reader, writer = held[0]
        writer.write(body[1:])
        await writer.drain()
        answer = await response_within(reader, 10.0)
        assert answer is not None and answer[0] == 201
        assert (await call(zvonok, "GET", chats, ANYA)).status == 200
        assert zvonok.app[PERSON_REQUESTS].held(ANYA) == limit - 1
    finally:
        for _, writer in held:
            writer.close()


def test_the_body_and_person_bounds_are_settings_and_refuse_nonsense() -> None:
    config = load_config(
        env={"ZVONOK_HTTP_BODY_TIMEOUT": "7.5", "ZVONOK_HTTP_MAX_PERSON_REQUESTS": "3"}
    )
    assert (config.http.body_timeout, config.http.max_person_requests) == (7.5, 3)
    assert (HttpConfig().body_timeout, HttpConfig().max_person_requests) == (60.0, 8)
    for bad in (HttpConfig(body_timeout=0), HttpConfig(max_person_requests=0)):
        with pytest.raises(ConfigError, match="http:"):
            Config(http=bad).validate()
