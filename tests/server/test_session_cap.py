"""One person's signed-in WebSockets, over real sockets on 127.0.0.1.

A person holds at most ``protocol.max_sessions`` sessions on a node: each
one past it closes that person's oldest with ``goodbye`` and **4429
``session.too_many``**, the newest ones keep chatting, and nobody else is
touched (docs/protocol.md, "Session lifecycle").
"""

from __future__ import annotations

import asyncio

import pytest

from server.appkeys import SESSIONS
from server.clock import ManualClock
from server.config import Config, ProtocolConfig, load_config
from server.errors import ConfigError
from signaling.chat import ChatEventMsg
from signaling.client import Client
from signaling.messages import Ping, Pong
from tests.conftest import ServerFactory
from tests.server.test_chats_ws import CLASS_5A, send
from tests.server.test_rights_at_use import ANYA, BORIS

TIMEOUT = 10.0


async def test_past_max_sessions_a_persons_oldest_sessions_close_and_the_newest_chat(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    limit, opened = 3, 200  # the attack opened 200
    zvonok = await make_server(clock, max_sessions=limit)
    boris = await zvonok.connect(BORIS)
    anyas: list[Client] = []
    for _ in range(opened):
        anyas.append(await zvonok.connect(ANYA))
        assert zvonok.app[SESSIONS].of_person(ANYA) <= limit
    oldest, newest = anyas[:-limit], anyas[-limit:]
    for client in oldest:
        code, reason = await client.wait_closed(timeout=TIMEOUT)
        assert (code, reason) == (4429, "session.too_many")
        assert client.goodbye is not None and client.goodbye.code == "session.too_many"
    assert zvonok.app[SESSIONS].of_person(ANYA) == limit
    assert zvonok.app[SESSIONS].displaced == opened - limit
    # The newest still chat, and so does everyone else.
    ack = await send(boris, CLASS_5A, "кто на связи?")
    for client in newest:
        assert isinstance(await client.request(Ping()), Pong)
        event = await client.next_of(
            ChatEventMsg, timeout=TIMEOUT, where=lambda e: e.seq == ack.seq
        )
        assert event.data["text"] == "кто на связи?"
    assert isinstance(await boris.request(Ping()), Pong)
    # A session that ends frees its place: the next one displaces nobody.
    await newest[0].close()
    async with asyncio.timeout(TIMEOUT):  # the server notices it when it reads the close
        while zvonok.app[SESSIONS].of_person(ANYA) != limit - 1:
            await boris.request(Ping())  # a round trip, no sleep
    latest = await zvonok.connect(ANYA)
    assert zvonok.app[SESSIONS].displaced == opened - limit
    for client in (*newest[1:], latest):
        assert isinstance(await client.request(Ping()), Pong)


def test_max_sessions_is_a_setting_and_refuses_nonsense() -> None:
    config = load_config(env={"ZVONOK_PROTOCOL_MAX_SESSIONS": "4"})
    assert config.protocol.max_sessions == 4
    assert ProtocolConfig().max_sessions == 12
    with pytest.raises(ConfigError, match="max_sessions"):
        Config(protocol=ProtocolConfig(max_sessions=0)).validate()
