"""A read or write cancelled half-way never leaves a store connection in a transaction.

A task cancelled while its ``BEGIN`` waits for its connection's thread leaves
that ``BEGIN`` to run later; the store must end the transaction it opens
there, or every later read fails with "cannot start a transaction within a
transaction" (``store.unavailable``), as a room test once did under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.roster.demo import seed_demo
from server.store import SqlStore
from tests.conftest import Database

pytestmark = pytest.mark.both_engines

TEACHER, OTHER = 1000100003, 1000100004
ROUNDS = 200  # each round cancels one read at a random point of its snapshot


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    await seed_demo(opened)
    yield opened
    await opened.close()


async def test_reads_after_cancelled_reads_succeed(store: SqlStore) -> None:
    for _ in range(ROUNDS):
        cancelled = asyncio.get_running_loop().create_task(store.profile(TEACHER))
        await asyncio.sleep(0)  # one turn of the loop: the read is inside its snapshot
        cancelled.cancel()
        profile = await store.profile(OTHER)  # raised store.unavailable before the fix
        assert profile is not None and profile.person.oid == OTHER


async def test_writes_after_cancelled_writes_succeed(store: SqlStore) -> None:
    for n in range(ROUNDS):
        cancelled = asyncio.get_running_loop().create_task(store.set_last_seen(TEACHER, n))
        await asyncio.sleep(0)  # one turn of the loop: the write is inside its transaction
        cancelled.cancel()
        await store.set_last_seen(OTHER, float(n))  # raised store.unavailable before the fix
    assert (await store.last_seen([OTHER]))[OTHER] == ROUNDS - 1
