"""What only the PostgreSQL engine has: several writers, lost races, credentials.

Two stores on one database are two nodes: each its own pool, its own
group commit.  Everything here runs against the test run's own server.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.errors import StoreUnavailable
from server.model.chats import class_chat_id, staff_chat_id
from server.roster.demo import seed_demo
from server.store import PostgresStore, SqlStore, create_store
from server.store.migrate import bundled_migrations
from server.store.postgres import parse_dsn
from server.store.sql import POSTGRESQL, SqlConnection
from tests.pgserver import SECRET, SECRET_USER, PostgresServer

CHATS = [class_chat_id("sosh-1-5a"), class_chat_id("sosh-1-5b"), staff_chat_id("sosh-1")]
TEACHERS = [1000100003, 1000100005]  # class teachers of 5А and 5Б, both staff
POSTS_PER_WRITER = 150


@pytest.fixture
async def dsn(postgres: PostgresServer) -> AsyncIterator[str]:
    name = await postgres.create_database()
    yield postgres.dsn(name)
    await postgres.drop_database(name)


@pytest.fixture
async def nodes(dsn: str) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    a, b = create_store(dsn), create_store(dsn)
    await a.open()
    await seed_demo(a)
    await b.open()
    yield a, b
    await a.close()
    await b.close()


async def seqs(store: SqlStore, chat_id: str) -> tuple[int, list[int]]:
    async def read(db: SqlConnection) -> tuple[int, list[int]]:
        ((last,),) = await db.fetchall("SELECT last_seq FROM chats WHERE id = ?", (chat_id,))
        rows = await db.fetchall(
            "SELECT seq FROM chat_events WHERE chat_id = ? ORDER BY seq", (chat_id,)
        )
        return int(last), [int(seq) for (seq,) in rows]

    return await store.engine.read(read)


async def test_two_nodes_posting_to_the_same_chats_keep_every_seq_whole(
    nodes: tuple[SqlStore, SqlStore],
) -> None:
    """Each node's batches lock several chats; together they must neither
    deadlock for good nor give one seq twice or skip one."""
    before = {chat: (await seqs(nodes[0], chat))[0] for chat in CHATS}

    async def writer(store: SqlStore, author: int, n: int) -> tuple[str, int]:
        # Each teacher's class chat and the staff chat both share.
        chat = CHATS[2] if n % 2 else CHATS[TEACHERS.index(author)]
        ack = await store.post(
            chat_id=chat, author=author, text=f"{n}", reply_to=None, key=uuid.uuid4().hex, now=1.0
        )
        return chat, ack.event.seq

    async with asyncio.timeout(60):
        acks = await asyncio.gather(
            *(
                writer(store, author, n)
                for n in range(POSTS_PER_WRITER)
                for store in nodes
                for author in TEACHERS
            )
        )

    assert len(set(acks)) == len(acks), "two posts were acknowledged with one seq"
    for chat in CHATS:
        last, logged = await seqs(nodes[1], chat)
        assert logged == list(range(1, last + 1)), f"holes in {chat}"
        mine = sorted(seq for c, seq in acks if c == chat)
        assert mine == list(range(before[chat] + 1, last + 1))


async def test_a_deadlock_is_run_again_and_both_transactions_commit(
    nodes: tuple[SqlStore, SqlStore],
) -> None:
    """Two transactions that lock two chats in opposite orders: PostgreSQL
    kills one, the engine runs it again, and both commit once."""
    first, second = CHATS[0], CHATS[1]
    attempts = {first: 0, second: 0}
    holding = {first: asyncio.Event(), second: asyncio.Event()}

    def crossing(mine: str, theirs: str):  # type: ignore[no-untyped-def]
        async def run(db: SqlConnection) -> None:
            attempts[mine] += 1
            await db.execute("UPDATE chats SET title = title WHERE id = ?", (mine,))
            if attempts[mine] == 1:
                holding[mine].set()
                await holding[theirs].wait()  # both hold one lock: now each wants the other's
            await db.execute("UPDATE chats SET title = title WHERE id = ?", (theirs,))

        return run

    async with asyncio.timeout(30):
        await asyncio.gather(
            nodes[0].engine.write(crossing(first, second)),
            nodes[1].engine.write(crossing(second, first)),
        )

    # One was the deadlock's victim, once.
    assert sorted(attempts.values()) == [1, 2], attempts


async def test_two_nodes_migrating_at_once_apply_each_migration_once(
    postgres: PostgresServer,
) -> None:
    name = await postgres.create_database(migrated=False)
    try:
        stores = [create_store(postgres.dsn(name)) for _ in range(3)]
        async with asyncio.timeout(60):
            await asyncio.gather(*(store.open() for store in stores))
        rows = await stores[0].engine.read(
            lambda db: db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        )
        assert [v for (v,) in rows] == [m.version for m in bundled_migrations(POSTGRESQL)]
        for store in stores:
            await store.close()
    finally:
        await postgres.drop_database(name)


async def test_ids_come_from_identity_columns(nodes: tuple[SqlStore, SqlStore]) -> None:
    from server.model.safety import AuditRecord

    record = AuditRecord(school_id="sosh-1", actor=TEACHERS[0], action="test")
    entries = await asyncio.gather(
        *(store.write_audit(record, 1.0) for store in nodes for _ in range(20))
    )
    ids = [entry.id for entry in entries]
    assert len(set(ids)) == len(ids) == 40
    generation = await nodes[0].roster_generation()
    assert generation >= 1  # the demo import's, numbered by the table


async def test_the_password_comes_from_the_environment_or_a_file(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = await postgres.create_database(migrated=False, owner=SECRET_USER)
    try:
        dsn = postgres.dsn(name, user=SECRET_USER)
        monkeypatch.delenv("PGPASSWORD", raising=False)
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
        with pytest.raises(StoreUnavailable):
            await create_store(dsn).open()  # no password anywhere

        passfile = tmp_path / "pgpass"
        passfile.write_text(f"127.0.0.1:{postgres.port}:{name}:{SECRET_USER}:{SECRET}\n")
        passfile.chmod(0o600)
        from_file = create_store(f"{dsn}?passfile={passfile}")
        await from_file.open()
        await from_file.ping()
        await from_file.close()

        monkeypatch.setenv("PGPASSWORD", SECRET)
        from_env = create_store(dsn)
        await from_env.open()
        await from_env.ping()
        assert SECRET not in repr(from_env)
        await from_env.close()
    finally:
        await postgres.drop_database(name)


async def test_an_unreachable_server_is_unavailable_and_logs_no_password(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.serverproc import free_port

    monkeypatch.setenv("PGPASSWORD", SECRET)
    store = PostgresStore(parse_dsn(f"postgresql://zvonok@127.0.0.1:{free_port()}/zvonok"))
    with caplog.at_level(logging.DEBUG), pytest.raises(StoreUnavailable):
        await store.open()
    assert SECRET not in caplog.text
    assert "127.0.0.1" in repr(store) and SECRET not in repr(store)


async def test_one_key_through_two_nodes_at_once_is_stored_once(
    nodes: tuple[SqlStore, SqlStore],
) -> None:
    """A client that retries through another node while its first request is
    still in flight: both get the one ack, one of them as a duplicate."""
    first = await nodes[0].post(
        chat_id=CHATS[0], author=TEACHERS[0], text="x", reply_to=None, key="m", now=1.0
    )
    for round_no in range(30):
        key = f"edit-{round_no}"
        async with asyncio.timeout(30):
            acks = await asyncio.gather(
                *(
                    store.edit(
                        chat_id=CHATS[0],
                        author=TEACHERS[0],
                        message_id=first.event.seq,
                        text=f"правка {round_no}",
                        key=key,
                        now=2.0,
                    )
                    for store in nodes
                )
            )
        assert sorted(ack.duplicate for ack in acks) == [False, True], acks
        assert acks[0].event == acks[1].event


async def test_one_post_key_through_two_nodes_at_once_is_one_message(
    nodes: tuple[SqlStore, SqlStore],
) -> None:
    for round_no in range(30):
        key = f"post-{round_no}"
        async with asyncio.timeout(30):
            acks = await asyncio.gather(
                *(
                    store.post(
                        chat_id=CHATS[2],
                        author=TEACHERS[1],
                        text="раз",
                        reply_to=None,
                        key=key,
                        now=3.0,
                    )
                    for store in nodes
                )
            )
        assert sorted(ack.duplicate for ack in acks) == [False, True], acks
        assert acks[0].event == acks[1].event
