"""A node killed under chat load, its clients carried on by another (issue 18, point 3).

Two ``zvonok serve`` processes share one store and one Redis (started by
the test). Pupils of 5А send to their class chat through node A, each with
a message in flight most of the time, while their class teacher reads it
through node B. Node A is killed with SIGKILL mid-load; the pupils
reconnect to node B and send again every message they had no ack for,
with the same idempotency keys, then go on. The teacher's feed on B gets
every message exactly once, in order, with no gap; every message acked
before the kill is there.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from signaling.chat import AckMsg, ChatEventMsg, Send
from signaling.client import Client, ConnectionClosed, RequestError
from tests.conftest import Database
from tests.redisserver import running_redis
from tests.server.test_chat_durability import LIMITS
from tests.serverproc import ServerProcess, free_port

CLASS_5A = "class:sosh-1-5a"
TEACHER = 1000100003
PUPILS = [1000100101 + n for n in range(4)]
PER_PUPIL = 25
KILL_AFTER = 30  # acks in all before node A dies
TEST_TIMEOUT = 60.0


@dataclass
class Pupil:
    oid: int
    acked: dict[str, int] = field(default_factory=dict)  # key -> seq
    sent: int = 0

    def key(self, n: int) -> str:
        return f"failover-{self.oid}-{n}"

    def text(self, n: int) -> str:
        return f"{self.oid}: сообщение {n}"


async def send_from(pupil: Pupil, client: Client, until: int, acks: asyncio.Event) -> None:
    """Send messages ``pupil.sent`` .. ``until - 1``; stops quietly when the node dies."""
    while pupil.sent < until:
        n = pupil.sent
        reply = await client.request(Send(chat=CLASS_5A, text=pupil.text(n), key=pupil.key(n)))
        assert isinstance(reply, AckMsg)
        pupil.acked[pupil.key(n)] = reply.seq
        pupil.sent += 1
        acks.set()


async def connect(node: ServerProcess, token: str, http: aiohttp.ClientSession) -> Client:
    return await Client.connect(node.ws_url, token, session=http)


@pytest.mark.both_engines
async def test_a_killed_nodes_senders_carry_on_through_another_with_nothing_lost_or_doubled(
    tmp_path: Path, database: Database
) -> None:
    with running_redis(tmp_path) as redis_server:
        env = {**LIMITS, "ZVONOK_BUS_URL": redis_server.url}
        if database.engine == "postgresql":  # else: the nodes' SQLite file in one directory
            env["ZVONOK_STORAGE_DATABASE"] = database.dsn
        node_a = ServerProcess(tmp_path / "nodes", env=env)
        node_b = ServerProcess(tmp_path / "nodes", port=free_port(), env=env)
        await node_a.start()
        await node_b.start()
        pupils = [Pupil(oid) for oid in PUPILS]
        try:
            async with aiohttp.ClientSession() as http, asyncio.timeout(TEST_TIMEOUT):
                idp = node_a.identity_provider()
                tokens = {oid: idp.issue(oid) for oid in [TEACHER, *PUPILS]}
                teacher = await Client.connect(node_b.ws_url, tokens[TEACHER], session=http)
                on_a = [
                    await Client.connect(node_a.ws_url, tokens[p.oid], session=http) for p in pupils
                ]

                acks = asyncio.Event()
                load = [
                    asyncio.create_task(send_from(p, c, PER_PUPIL, acks))
                    for p, c in zip(pupils, on_a, strict=True)
                ]
                while sum(len(p.acked) for p in pupils) < KILL_AFTER:
                    acks.clear()
                    await acks.wait()
                await node_a.kill()
                for task in load:  # each stops at its send the kill cut off
                    with contextlib.suppress(ConnectionClosed, RequestError, ConnectionError):
                        await task
                acked_before = {k: s for p in pupils for k, s in p.acked.items()}
                assert len(acked_before) < len(pupils) * PER_PUPIL, "the kill came too late"

                # To node B: the message whose ack never came is sent again, same key.
                on_b = [
                    await Client.connect(node_b.ws_url, tokens[p.oid], session=http) for p in pupils
                ]
                await asyncio.gather(
                    *(send_from(p, c, PER_PUPIL, acks) for p, c in zip(pupils, on_b, strict=True))
                )

                expected = {p.text(n) for p in pupils for n in range(PER_PUPIL)}
                texts: list[str] = []
                seqs: list[int] = []
                while len(texts) < len(expected):
                    event = await teacher.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)
                    if event.kind == "message":
                        texts.append(event.data["text"])
                        seqs.append(event.seq)
                assert sorted(texts) == sorted(expected)  # each once: nothing lost, nothing doubled
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
                stored = {k: s for p in pupils for k, s in p.acked.items()}
                assert all(stored[k] == s for k, s in acked_before.items())  # acks held
                assert set(stored.values()) == set(seqs)
                for client in [teacher, *on_b]:
                    await client.close()
        finally:
            await node_a.stop()
            await node_b.stop()
