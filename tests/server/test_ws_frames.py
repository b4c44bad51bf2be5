"""Bad frames over a real socket: each gets an error with a stable code, abuse closes."""

from __future__ import annotations

import logging

import aiohttp
import msgpack
import pytest

from server.clock import ManualClock
from server.roster.model import Role
from signaling import errors as codes
from signaling.client import Client, RequestError
from signaling.codec import decode_server_frame, encode
from signaling.errors import CloseCode
from signaling.messages import Error, Goodbye, Ping, Pong
from tests.conftest import Running, ServerFactory


async def error_after(client: Client, frame: bytes | str) -> Error:
    await client.send_raw(frame)
    event = await client.next_event()
    assert isinstance(event, Error)
    return event


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xc1\xc1\xc1", codes.FRAME_MALFORMED),
        (b"", codes.FRAME_MALFORMED),
        ('{"type": "ping"}', codes.FRAME_NOT_BINARY),
        (msgpack.packb({"type": "launch"}), codes.MESSAGE_UNKNOWN_TYPE),
        (msgpack.packb({"type": "pong", "body": {"time": 1}}), codes.MESSAGE_UNKNOWN_TYPE),
        (msgpack.packb([1, 2, 3]), codes.MESSAGE_INVALID),
        (msgpack.packb({"type": "reauth", "body": {"token": 5}}), codes.MESSAGE_INVALID),
        (b"\x91" * 60_000 + b"\x01", codes.FRAME_MALFORMED),
        (msgpack.packb({"type": "ping", "body": {"pad": "x" * 70_000}}), codes.FRAME_TOO_LARGE),
    ],
    ids=[
        "junk",
        "empty",
        "text",
        "unknown",
        "wrong-direction",
        "array",
        "field-type",
        "deep",
        "big",
    ],
)
async def test_bad_frame_gets_an_error_and_the_session_goes_on(
    zvonok: Running, frame: bytes | str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await zvonok.connect()
    assert (await error_after(client, frame)).code == code
    assert isinstance(await client.request(Ping()), Pong)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_request_id_is_echoed_on_field_errors(zvonok: Running) -> None:
    ws = await zvonok.http.ws_connect(zvonok.ws_url)
    await ws.send_bytes(msgpack.packb({"type": "reauth", "id": "r-1", "body": {}}))
    envelope = decode_server_frame(await ws.receive_bytes(timeout=5))
    assert envelope.request_id == "r-1"
    assert envelope.message == Error(codes.MESSAGE_INVALID, "reauth.token: required")
    await ws.close()


async def test_repeated_abuse_closes_with_a_stated_reason(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, max_protocol_errors=5)
    client = await zvonok.connect()
    for _ in range(4):
        assert (await error_after(client, b"\xc1")).code == codes.FRAME_MALFORMED
    await client.send_raw(b"\xc1")
    assert await client.wait_closed() == (CloseCode.PROTOCOL_ERROR, codes.PROTOCOL_ABUSE)
    assert client.goodbye == Goodbye(codes.PROTOCOL_ABUSE, "too many bad frames")


async def test_frame_above_the_hard_cap_closes_with_1009(zvonok: Running) -> None:
    client = await zvonok.connect()
    await client.send_raw(b"\x00" * (4 * 64 * 1024 + 1))
    code, _ = await client.wait_closed()
    assert code == CloseCode.MESSAGE_TOO_BIG


async def test_frame_rate_limit_answers_retry_after(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, frames_per_second=2.0, frame_burst=3)
    client = await zvonok.connect()  # the hello spends one token
    assert isinstance(await client.request(Ping()), Pong)
    assert isinstance(await client.request(Ping()), Pong)
    with pytest.raises(RequestError) as info:
        await client.request(Ping())
    assert info.value.code == codes.RATE_LIMITED
    assert info.value.retry_after == pytest.approx(0.5)
    clock.advance(0.5)
    assert isinstance(await client.request(Ping()), Pong)


async def test_pre_hello_garbage_cannot_keep_a_connection_open(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, max_protocol_errors=3)
    ws = await zvonok.http.ws_connect(zvonok.ws_url)
    for _ in range(3):
        await ws.send_bytes(b"\xc1")
    seen: list[str] = []
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.BINARY:
        message = decode_server_frame(msg.data).message
        seen.append(message.code if isinstance(message, Error | Goodbye) else message.TYPE)
    assert seen == [codes.FRAME_MALFORMED] * 3 + [codes.PROTOCOL_ABUSE]
    assert (msg.type, msg.data, msg.extra) == (
        aiohttp.WSMsgType.CLOSE,
        CloseCode.PROTOCOL_ERROR,
        codes.PROTOCOL_ABUSE,
    )


async def test_tokens_never_reach_the_log(
    zvonok: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = zvonok.token(zvonok.person(Role.TEACHER))
    unknown = zvonok.token(999)
    client = await zvonok.connect(token=good)
    await client.send_raw(encode(Ping()))
    for bad in (unknown, good[:-8] + "AAAAAAAA", "garbage." + good):
        with pytest.raises(RequestError):
            await Client.connect(zvonok.ws_url, bad, session=zvonok.http)
    await zvonok.http.get(f"{zvonok.base}/api/v1/me", headers={"Authorization": f"Bearer {good}"})
    assert caplog.records  # the flows above did log
    for token in (good, unknown):
        for part in token.split("."):
            assert part not in caplog.text
