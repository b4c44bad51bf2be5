"""The retention sweep: idempotency keys go after a day; nothing else goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.clock import ManualClock
from server.config import StorageConfig
from server.model.chats import class_chat_id
from server.retention import RetentionSweep
from server.roster.demo import seed_demo
from server.store import SqlStore
from tests.conftest import Database
from tests.storedump import dump

pytestmark = pytest.mark.both_engines

CHAT = class_chat_id("sosh-1-5a")
TEACHER = 1000100003
DAY = 86400.0
T0 = 1_800_000_000.0


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    await seed_demo(opened)
    yield opened
    await opened.close()


async def post(store: SqlStore, key: str, now: float, text: str = "текст") -> int:
    ack = await store.post(chat_id=CHAT, author=TEACHER, text=text, reply_to=None, key=key, now=now)
    return ack.event.seq


async def test_keys_older_than_the_setting_go_and_nothing_else(store: SqlStore) -> None:
    old = await post(store, "old", T0)
    young = await post(store, "young", T0 + DAY - 60)
    before = await dump(store)

    swept = await store.sweep(now=T0 + DAY + 1, idempotency_keys=DAY)

    after = await dump(store)
    assert swept.idempotency_keys == 1
    assert [row[1] for row in after["idempotency_keys"]] == ["young"]
    assert {t: r for t, r in after.items() if t != "idempotency_keys"} == {
        t: r for t, r in before.items() if t != "idempotency_keys"
    }
    # The young key still answers its retry; the old one is a new request now.
    assert (
        await store.post(
            chat_id=CHAT, author=TEACHER, text="текст", reply_to=None, key="young", now=T0 + DAY
        )
    ).duplicate
    assert await post(store, "old", T0 + DAY + 2) == young + 1 != old
    assert (await store.sweep(now=T0 + DAY + 1, idempotency_keys=DAY)).idempotency_keys == 0


async def test_the_sweep_runs_on_its_schedule(store: SqlStore) -> None:
    clock = ManualClock(start=T0)
    config = StorageConfig(idempotency_retention=DAY, sweep_interval=3600.0)
    await post(store, "k", T0)
    sweep = RetentionSweep(store, clock, config)
    sweep.start()
    try:
        async with asyncio.timeout(10):
            await sweep.swept.wait()  # the first sweep, at start: nothing old enough
            sweep.swept.clear()
            assert len((await dump(store))["idempotency_keys"]) == 1
            clock.advance(DAY + 3600.0)
            await sweep.swept.wait()
        assert (await dump(store))["idempotency_keys"] == []
    finally:
        await sweep.stop()
    await sweep.stop()  # idempotent
