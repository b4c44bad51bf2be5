"""The WebSocket session over a real socket: hello, heartbeat, expiry, reauth."""

from __future__ import annotations

import aiohttp
import pytest

from server.clock import ManualClock, SystemClock
from server.roster.model import Role
from signaling import errors as codes
from signaling.client import Client, ConnectionClosed, RequestError
from signaling.codec import decode_server_frame, encode
from signaling.errors import CloseCode
from signaling.messages import (
    Error,
    Goodbye,
    Hello,
    Ping,
    Pong,
    Reauthed,
    SessionExpiring,
    Welcome,
)
from tests.conftest import Running, ServerFactory


async def test_hello_gets_welcome_with_profile_limits_and_heartbeat(zvonok: Running) -> None:
    teacher = zvonok.person(Role.TEACHER)
    client = await zvonok.connect(teacher)
    welcome = client.welcome
    assert isinstance(welcome, Welcome)
    assert welcome.protocol == 1
    assert welcome.profile["person"]["oid"] == teacher
    assert "teacher" in {r["role"] for r in welcome.profile["roles"]}
    assert welcome.limits.max_frame == 64 * 1024
    assert welcome.limits.max_text == 4096
    assert welcome.heartbeat == 20.0
    assert welcome.expires_at == pytest.approx(zvonok.clock.time() + 3600)
    assert zvonok.sessions == 1


async def test_ping_is_answered_with_the_request_id_echoed(zvonok: Running) -> None:
    client = await zvonok.connect()
    reply = await client.request(Ping())
    assert reply == Pong(time=zvonok.clock.time())


async def raw(zvonok: Running) -> aiohttp.ClientWebSocketResponse:
    return await zvonok.http.ws_connect(zvonok.ws_url, autoping=False)


async def next_message(ws: aiohttp.ClientWebSocketResponse) -> object:
    """The next application frame, skipping WebSocket pings."""
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type is aiohttp.WSMsgType.BINARY:
            envelope = decode_server_frame(msg.data)
            return envelope.message, envelope.request_id
        if msg.type is not aiohttp.WSMsgType.PING:
            return msg.type, msg.data, msg.extra


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str, str | None]:
    """Read to the end; return the close code, its reason and the goodbye's code."""
    goodbye: str | None = None
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type is aiohttp.WSMsgType.BINARY:
            message = decode_server_frame(msg.data).message
            if isinstance(message, Goodbye):
                goodbye = message.code
        elif msg.type is aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra, goodbye
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code, "", goodbye


async def test_nothing_but_hello_is_accepted_first(zvonok: Running) -> None:
    ws = await raw(zvonok)
    await ws.send_bytes(encode(Ping(), 1))
    assert await next_message(ws) == (Error(codes.HELLO_REQUIRED, "say hello first"), 1)
    token = zvonok.token(zvonok.person(Role.STUDENT))
    await ws.send_bytes(encode(Hello(version=1, token=token, client="raw"), 2))
    welcome, rid = await next_message(ws)  # type: ignore[misc]
    assert isinstance(welcome, Welcome) and rid == 2
    await ws.send_bytes(encode(Hello(version=1, token=token, client="raw"), 3))
    error, rid = await next_message(ws)  # type: ignore[misc]
    assert (error.code, rid) == (codes.HELLO_REPEATED, 3)
    await ws.close()


async def test_no_hello_within_the_deadline_closes(zvonok: Running, clock: ManualClock) -> None:
    ws = await raw(zvonok)
    clock.advance(9.9)
    await ws.send_bytes(encode(Ping()))  # not a hello: does not count
    assert (await next_message(ws))[0].code == codes.HELLO_REQUIRED  # type: ignore[index, union-attr]
    clock.advance(0.1)
    assert await closed_with(ws) == (CloseCode.TIMEOUT, codes.HELLO_TIMEOUT, codes.HELLO_TIMEOUT)


async def test_wrong_protocol_version_is_refused(zvonok: Running) -> None:
    ws = await raw(zvonok)
    token = zvonok.token(zvonok.person(Role.STUDENT))
    await ws.send_bytes(encode(Hello(version=2, token=token, client="future"), 1))
    error, _ = await next_message(ws)  # type: ignore[misc]
    assert error.code == codes.PROTOCOL_VERSION
    code, reason, _ = await closed_with(ws)
    assert (code, reason) == (CloseCode.PROTOCOL_ERROR, codes.PROTOCOL_VERSION)


async def test_tampered_token_in_hello_is_refused_and_closed(zvonok: Running) -> None:
    token = zvonok.token(zvonok.person(Role.TEACHER))
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    with pytest.raises(RequestError) as info:
        await Client.connect(zvonok.ws_url, forged, session=zvonok.http)
    assert info.value.code in ("auth.tampered", "auth.malformed")
    assert zvonok.sessions == 0


async def test_unknown_person_is_refused_with_its_own_close_code(zvonok: Running) -> None:
    ws = await raw(zvonok)
    await ws.send_bytes(encode(Hello(version=1, token=zvonok.token(999), client="x"), 1))
    error, _ = await next_message(ws)  # type: ignore[misc]
    assert error.code == codes.AUTH_UNKNOWN_PERSON
    code, reason, _ = await closed_with(ws)
    assert (code, reason) == (CloseCode.FORBIDDEN, codes.AUTH_UNKNOWN_PERSON)


async def test_dead_peer_is_closed_within_two_heartbeats(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(clock, heartbeat=20.0)
    ws = await raw(zvonok)  # autoping off: this client never answers pings
    token = zvonok.token(zvonok.person(Role.STUDENT))
    await ws.send_bytes(encode(Hello(version=1, token=token, client="dead"), 1))
    assert isinstance((await next_message(ws))[0], Welcome)
    clock.advance(20.0)
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.PING  # first interval: asked, not yet judged
    clock.advance(19.9)
    await ws.send_bytes(encode(Hello(version=1, token=token, client="x"), 2))
    assert (await next_message(ws))[0].code == codes.HELLO_REPEATED  # type: ignore[index, union-attr]
    # that frame was a sign of life: the next tick pings again instead of closing
    clock.advance(0.1)
    assert (await ws.receive(timeout=5)).type is aiohttp.WSMsgType.PING
    clock.advance(20.0)  # a whole interval with no answer: dead
    assert await closed_with(ws) == (
        CloseCode.TIMEOUT,
        codes.HEARTBEAT_TIMEOUT,
        codes.HEARTBEAT_TIMEOUT,
    )


async def test_a_live_peer_that_only_answers_pings_stays(make_server: ServerFactory) -> None:
    """On the real clock: five intervals pass and the session is still open."""
    zvonok = await make_server(SystemClock(), heartbeat=0.2)
    client = await zvonok.connect()  # aiohttp answers pings for it
    with pytest.raises(TimeoutError):
        await client.wait_closed(timeout=1.0)
    assert isinstance(await client.request(Ping()), Pong)


async def test_session_expiring_then_closed_at_expiry(zvonok: Running, clock: ManualClock) -> None:
    client = await zvonok.connect(token=zvonok.token(zvonok.person(Role.PARENT), lifetime=300))
    expires_at = clock.time() + 300
    clock.advance(239.0)
    assert isinstance(await client.request(Ping()), Pong)  # nothing yet
    clock.advance(1.0)
    notice = await client.next_event()
    assert notice == SessionExpiring(expires_at=expires_at, seconds_left=60.0)
    clock.advance(60.0)
    code, reason = await client.wait_closed()
    assert (code, reason) == (CloseCode.UNAUTHORIZED, codes.AUTH_EXPIRED)
    assert client.goodbye == Goodbye(codes.AUTH_EXPIRED, "the access token expired")
    assert await client.next_event() == client.goodbye  # the last event, then the end
    with pytest.raises(ConnectionClosed):
        await client.next_event()
    assert [event async for event in client.events()] == []


async def test_reauth_carries_the_session_past_the_old_expiry(
    zvonok: Running, clock: ManualClock
) -> None:
    parent = zvonok.person(Role.PARENT)
    client = await zvonok.connect(token=zvonok.token(parent, lifetime=300))
    session_id = client.welcome.session_id  # type: ignore[union-attr]
    clock.advance(240.0)
    assert isinstance(await client.next_event(), SessionExpiring)
    fresh = zvonok.token(parent, lifetime=3600)
    reply = await client.reauth(fresh)
    assert reply == Reauthed(expires_at=clock.time() + 3600)
    clock.advance(120.0)  # past the old expiry
    assert isinstance(await client.request(Ping()), Pong)
    assert zvonok.sessions == 1 and client.welcome.session_id == session_id  # type: ignore[union-attr]
    clock.advance(3600 - 120 - 60)
    notice = await client.next_event()
    assert notice == SessionExpiring(expires_at=reply.expires_at, seconds_left=60.0)


async def test_reauth_for_another_person_or_with_a_bad_token_is_refused(
    zvonok: Running, clock: ManualClock
) -> None:
    client = await zvonok.connect(token=zvonok.token(zvonok.person(Role.STUDENT), lifetime=300))
    other = zvonok.token(zvonok.person(Role.STUDENT, 1))
    with pytest.raises(RequestError) as info:
        await client.reauth(other)
    assert info.value.code == codes.AUTH_PERSON_MISMATCH
    with pytest.raises(RequestError) as info:
        await client.reauth("not-a-token")
    assert info.value.code == "auth.malformed"
    # the session goes on under the first token, and ends with it
    assert isinstance(await client.request(Ping()), Pong)
    clock.advance(300.0)
    assert await client.wait_closed() == (CloseCode.UNAUTHORIZED, codes.AUTH_EXPIRED)


async def test_server_shutdown_says_goodbye(make_server: ServerFactory, clock: ManualClock) -> None:
    zvonok = await make_server(clock)
    client = await zvonok.connect()
    await zvonok.app.shutdown()
    assert await client.wait_closed() == (CloseCode.GOING_AWAY, codes.SERVER_SHUTDOWN)


async def test_several_sessions_of_one_person_are_tracked(zvonok: Running) -> None:
    oid = zvonok.person(Role.TEACHER)
    first = await zvonok.connect(oid)
    second = await zvonok.connect(oid)
    assert zvonok.sessions == 2
    assert first.welcome.session_id != second.welcome.session_id  # type: ignore[union-attr]
