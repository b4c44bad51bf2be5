"""No part of a token in any log, whatever a client sends.

Real sockets on 127.0.0.1: oversized and malformed requests, bad WebSocket
upgrades, refused tokens on the ``hello``, the ``reauth`` and the HTTP API.
The logs, at DEBUG and every level above, must hold no 16-character piece
of any token sent.  Once against the server's own test fixture (caplog)
and once against a real ``zvonok serve`` process, whose stderr is the
production logging setup.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
from pathlib import Path

import aiohttp
import pytest

from server.logsafety import REDACTED, Redactor, install, redact
from server.roster.model import Role
from signaling.chat import AckMsg, Edit, Send
from signaling.client import Client, ConnectionClosed, RequestError
from signaling.messages import Reauth
from tests.conftest import Running
from tests.serverproc import ServerProcess

CLASS_5A = "class:sosh-1-5a"
PIECE = 16  # no substring this long of a token may be in a log
FIELD_LIMIT = 8190  # aiohttp's, and ours (server.app.MAX_FIELD)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def big_token(size: int = FIELD_LIMIT + 2000) -> str:
    """A JWT-shaped token larger than a header may be, random in its claims and signature."""
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "sbt": "access"}).encode())
    claims = b64(json.dumps({"urn:esia:sbj_id": 1, "pad": secrets.token_urlsafe(size)}).encode())
    return f"{header}.{claims}.{b64(secrets.token_bytes(256))}"


def tampered(token: str) -> str:
    """``token`` with its claims changed: signed by our key over other content."""
    header, claims, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data["urn:esia:sbj_id"] = data.get("urn:esia:sbj_id", 0) + 1
    return f"{header}.{b64(json.dumps(data).encode())}.{signature}"


def leaks(tokens: list[str], text: str) -> list[str]:
    """The pieces of ``tokens`` found in ``text``."""
    found = []
    for token in tokens:
        pieces = {token[i : i + PIECE] for i in range(len(token) - PIECE + 1)}
        found += [piece for piece in pieces if piece in text]
    return found


async def raw_exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection; the server's response (its head and body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10.0):
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            body = await reader.readexactly(int(length[1])) if length else b""
        return head + body
    finally:
        writer.close()


def bad_requests(tokens: list[str]) -> list[bytes]:
    """Requests aiohttp refuses before our code runs, each carrying a token."""
    big, small = tokens[0], tokens[1]
    host = "Host: zvonok\r\n"
    upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    return [
        f"GET /ws HTTP/1.1\r\n{host}Authorization: Bearer {big}\r\n\r\n".encode(),
        f"GET /api/v1/me HTTP/1.1\r\n{host}Authorization: {big}\r\n\r\n".encode(),
        f"GET /ws?access_token={big} HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /ws HTTP/1.1\r\n{host}X-Token: {small}\r\n{'X-Pad: ' + 'p' * 9000}\r\n\r\n".encode(),
        f"GET /ws HTTP/1.1\r\n{host}Author\x01ization: Bearer {small}\r\n\r\n".encode(),
        (
            f"GET /ws HTTP/1.1\r\n{host}Authorization: Bearer {small}\r\n"
            + "".join(f"X-{n}: {n}\r\n" for n in range(200))
            + "\r\n"
        ).encode(),
        f"G\x01T /ws?token={small} HTTP/1.1\r\n{host}\r\n".encode(),
        f"\x16\x03\x01{small} HTTP/1.1\r\n\r\n".encode(),  # TLS on the HTTP port
        f"GET /ws HTTP/1.1\r\n{host}{upgrade}Authorization: Bearer {small}\r\n\r\n".encode(),
        f"GET /ws?token={small} HTTP/1.1\r\n{host}{upgrade}Sec-WebSocket-Key: x\r\n\r\n".encode(),
        f"POST /api/v1/me HTTP/1.1\r\n{host}Content-Length: 99\r\n\r\n{small}".encode(),
        f"GET /api/v1/me HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n"
        f"zz\r\n{small}".encode(),
    ]


async def refused_sign_ins(base: str, ws_url: str, tokens: list[str], good: str) -> None:
    """Every way a token can be refused after aiohttp has parsed the request."""
    async with aiohttp.ClientSession() as http:
        for token in tokens:
            for header in (f"Bearer {token}", token, f"Basic {token}"):
                async with http.get(f"{base}/api/v1/me", headers={"Authorization": header}) as r:
                    assert r.status in (400, 401, 431), r.status
            async with http.get(f"{base}/api/v1/me?access_token={token}") as r:
                assert r.status in (400, 401), r.status
            with pytest.raises((RequestError, ConnectionClosed, aiohttp.WSServerHandshakeError)):
                await Client.connect(ws_url, token, session=http)
        client = await Client.connect(ws_url, good, session=http)
        try:
            for token in tokens[1:]:
                with pytest.raises(RequestError):
                    await client.request(Reauth(token=token))
        finally:
            await client.close()


def tokens_for(good: str) -> list[str]:
    return [big_token(), tampered(good), big_token(300), good + "x", good[: len(good) // 2]]


def test_redact_removes_every_shape_of_token_and_keeps_what_operators_need() -> None:
    token = big_token(200)
    for text in (
        f"Authorization: Bearer {token}",
        f"b'Bearer {token[:100]}...'",
        f"/ws?access_token={token}&x=1",
        f'{{"token": "{token}"}}',
        f"Hello(token='{token}')",
        f"got {token.split('.')[1][40:90]} here",  # from the middle: no eyJ, no name
        f"Basic {b64(b'user:' + secrets.token_bytes(24))} and secret=hunter2",
        f"a=ice-pwd:hunter2 credential: hunter2 {token}",
    ):
        scrubbed = redact(text)
        assert REDACTED in scrubbed
        assert not leaks([token], scrubbed), scrubbed
        assert "hunter2" not in scrubbed
        assert redact(scrubbed) == scrubbed
    kept = "connection Ab3dEf6hIj9kLm0n: access token sha256:0123456789ab refused: auth.expired"
    assert redact(kept) == kept
    kept = "/work/wt-edges/.venv/lib/python3.11/site-packages/aiohttp/web_protocol.py line 446"
    assert redact(kept) == kept


def test_every_record_is_scrubbed_when_made_whatever_its_logger() -> None:
    install()
    token = big_token(100)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("some.library.nobody.configured")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("header %s", f"Bearer {token}")
        try:
            raise ValueError(f"cannot parse {token!r}")
        except ValueError:
            logger.exception("failed on %r", {"authorization": token})
        logger.info("%s %s", "too few")  # unformattable: still scrubbed, still kept
    finally:
        logger.removeHandler(handler)
    assert len(records) == 3
    text = "\n".join(logging.Formatter().format(r) for r in records)
    assert not leaks([token], text), text
    assert "ValueError" in text and "Traceback" in text  # the traceback is kept, as text
    assert all(r.exc_info is None and r.args == () for r in records)
    record = records[0]
    assert Redactor().filter(record) and record.getMessage() == f"header Bearer {REDACTED}"


async def test_bad_requests_and_refused_tokens_leave_no_piece_of_a_token_in_the_log(
    zvonok: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = zvonok.token(zvonok.person(Role.TEACHER))
    tokens = tokens_for(good)
    port = int(zvonok.base.rsplit(":", 1)[1])
    for request in bad_requests(tokens):
        answer = await raw_exchange(port, request)
        assert answer.startswith(b"HTTP/1."), (request[:40], answer[:80])
    await refused_sign_ins(zvonok.base, zvonok.ws_url, tokens, good)

    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert not leaks([*tokens, good], logged)
    assert "LineTooLong (HTTP 400)" in caplog.text  # the oversized header was logged...
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # ...as the client's fault
    assert "auth.tampered" in caplog.text  # refusals are logged, by code


async def test_a_real_zvonok_serve_logs_no_piece_of_a_token(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "node", env={"ZVONOK_LOG_LEVEL": "DEBUG"})
    await server.start()
    try:
        good = server.identity_provider().issue(1000100101)
        tokens = tokens_for(good)
        for request in bad_requests(tokens):
            answer = await raw_exchange(server.port, request)
            assert answer.startswith(b"HTTP/1."), (request[:40], answer[:80])
        await refused_sign_ins(server.base, server.ws_url, tokens, good)
        text, edited = (f"секрет {secrets.token_hex(8)}" for _ in range(2))
        async with await Client.connect(server.ws_url, good) as client:
            ack = await client.request(Send(chat=CLASS_5A, text=text, key="log-1"))
            assert isinstance(ack, AckMsg)
            edit = Edit(chat=CLASS_5A, message_id=ack.message_id, text=edited, key="log-2")
            assert isinstance(await client.request(edit), AckMsg)
    finally:
        await server.stop()
    stderr = server.stderr()
    assert not leaks([*tokens, good], stderr)
    # nor what people write (aiosqlite logs statements with their values at DEBUG)
    assert text not in stderr and edited not in stderr
    assert "LineTooLong (HTTP 400)" in stderr
    assert " ERROR " not in stderr
    assert "auth.tampered" in stderr
