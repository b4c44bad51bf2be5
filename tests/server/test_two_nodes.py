"""Two server processes writing to one PostgreSQL keep every chat's seqs whole.

Two real ``python -m server serve`` nodes on one database (the district's
set-up), people posting through both at once into the same chats over the
HTTP API.  Afterwards every chat's log is 1, 2, 3... to its ``last_seq``
without a hole, no two acks name one seq, and every ack is stored at its
seq with its key: what the row lock on the chat, the chat order of each
node's batches and the retry of a lost race are for.  On SQLite the two
processes take turns at the file's one writer, and the same checks hold.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from server.auth import DevIdentityProvider
from server.clock import SystemClock
from server.config import DEV_ISSUER
from tests.conftest import Database
from tests.server.test_chat_durability import LIMITS
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.both_engines

CLASS_5A, CLASS_5B = "class:sosh-1-5a", "class:sosh-1-5b"
STUDENTS = {
    CLASS_5A: [1000100101 + n for n in range(4)],
    CLASS_5B: [1000100126 + n for n in range(4)],
}
POSTS = 60  # per student
TIMEOUT = 90.0


async def test_two_nodes_on_one_database_keep_every_chats_seqs_whole(
    tmp_path: Path, database: Database
) -> None:
    env = {**LIMITS, "ZVONOK_STORAGE_DATABASE": database.dsn}
    idp = tmp_path / "dev-idp"  # one key: a token is good on both nodes
    nodes = [
        ServerProcess(tmp_path / f"node-{n}", env={**env, "ZVONOK_DEV_IDP_DIRECTORY": str(idp)})
        for n in (1, 2)
    ]
    acks: list[tuple[str, int, int, str]] = []  # chat, seq, author, key
    try:
        async with asyncio.timeout(TIMEOUT):
            for node in nodes:  # one at a time: the first seeds the demo roster
                await node.start()
            issuer = DevIdentityProvider.load_or_create(
                idp, issuer=DEV_ISSUER, client_id="ZVONOK", clock=SystemClock()
            )
            tokens = {
                oid: issuer.issue(oid, lifetime=3600) for oids in STUDENTS.values() for oid in oids
            }
            async with aiohttp.ClientSession() as http:

                async def student(chat: str, oid: int, number: int) -> None:
                    url_path = f"/api/v1/chats/{quote(chat, safe='')}/messages"
                    for n in range(POSTS):
                        node = nodes[(n + number) % 2]  # every other post through the other
                        key = f"{oid}-{n}"
                        headers = {"Authorization": f"Bearer {tokens[oid]}", "Idempotency-Key": key}
                        async with http.post(
                            node.base + url_path, json={"text": f"{n}"}, headers=headers
                        ) as response:
                            body = await response.json()
                            assert response.status == 201, body
                        acks.append((chat, int(body["seq"]), oid, key))

                counter = itertools.count()
                await asyncio.gather(
                    *(
                        student(chat, oid, next(counter))
                        for chat, oids in STUDENTS.items()
                        for oid in oids
                    )
                )
            for node in nodes:
                assert await node.stop() == 0, node.stderr()
                assert "Traceback" not in node.stderr(), node.stderr()
    finally:
        for node in nodes:
            await node.stop()

    assert len(acks) == POSTS * sum(len(oids) for oids in STUDENTS.values())
    assert len({(chat, seq) for chat, seq, _, _ in acks}) == len(acks), "one seq acked twice"
    store = database.store()
    await store.open()
    try:
        for chat in STUDENTS:
            events = await store.events(chat, limit=10_000)
            (summary,) = [c for c in await store.chats(STUDENTS[chat][0]) if c.id == chat]
            assert [e.seq for e in events] == list(range(1, summary.last_seq + 1)), chat
            by_seq = {e.seq: e for e in events}
            for acked_chat, seq, author, _ in acks:
                if acked_chat == chat:
                    assert by_seq[seq].author == author and by_seq[seq].kind.value == "message"
            posted = [e for e in events if e.kind.value == "message"]
            assert len(posted) == POSTS * len(STUDENTS[chat])
    finally:
        await store.close()
