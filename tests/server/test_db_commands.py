"""``zvonok db migrate`` and ``zvonok db copy`` as an operator runs them.

The copy moves a school's embedded SQLite database, with something in
every kind of table, into the test run's PostgreSQL; afterwards the two
hold the same rows, and the copy goes on where the school left off (the
next seq, the next audit id).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.model.chats import class_chat_id
from server.model.rooms import RoomKind, RoomRole
from server.model.safety import AuditRecord
from server.roster.demo import seed_demo
from server.store import SqliteStore, SqlStore, create_store, migrate
from server.store.copy import NOT_COPIED
from server.store.web_sql import SignIn, WebSession
from tests.pgserver import PostgresServer
from tests.storedump import dump

CHAT = class_chat_id("sosh-1-5a")
TEACHER, KID, KID2 = 1000100003, 1000100101, 1000100102
NOW = 1_800_000_000.0


def zvonok(cwd: Path, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZVONOK_STORAGE_DATABASE": database}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def school_on_sqlite(path: Path) -> None:
    """A school that has used everything: posts, edits, reactions, a report,
    moderation, a room with attendance."""
    store = SqliteStore(path)
    await store.open()
    try:
        await seed_demo(store)
        first = await store.post(
            chat_id=CHAT, author=TEACHER, text="Здравствуйте", reply_to=None, key="a", now=NOW
        )
        reply = await store.post(
            chat_id=CHAT, author=KID, text="Привет", reply_to=first.event.seq, key="b", now=NOW
        )
        await store.edit(
            chat_id=CHAT,
            author=KID,
            message_id=reply.event.seq,
            text="Добрый день",
            key="c",
            now=NOW + 1,
        )
        await store.react(
            chat_id=CHAT,
            actor=KID2,
            message_id=first.event.seq,
            emoji="👍",
            on=True,
            key="d",
            now=NOW + 2,
        )
        await store.create_report(
            chat_id=CHAT,
            message_id=reply.event.seq,
            reporter=KID2,
            reason="spam",
            recipients=[TEACHER],
            now=NOW + 3,
        )
        audit = AuditRecord(school_id="sosh-1", actor=TEACHER, action="chat.mute", chat_id=CHAT)
        await store.moderate(
            chat_id=CHAT,
            actor=TEACHER,
            data={"action": "mute", "person": KID2, "until": NOW + 60},
            now=NOW + 4,
            audit=audit,
        )
        room, _ = await store.create_room(
            room_id="room-1",
            kind=RoomKind.LESSON,
            class_id="sosh-1-5a",
            school_id="sosh-1",
            host=TEACHER,
            title="Урок",
            asked_title="Урок",
            starts_at=None,
            started_at=NOW,
            key="e",
            now=NOW + 5,
        )
        await store.enter_room(room.id, KID, RoomRole.STUDENT, NOW + 6)
        await store.exit_room(room.id, KID, NOW + 7)
        await store.enter_room(room.id, KID2, RoomRole.STUDENT, NOW + 7)
        await store.remove_from_room(room.id, KID2, TEACHER, NOW + 8)  # both kinds of removal
        await store.set_school_settings("sosh-1", {"links": "staff"}, NOW + 8, audit)
        await store.set_last_seen(KID, NOW + 8)
        # A browser signing in and one signed in: these stay behind.
        await store.put_sign_in("s" * 64, SignIn("b" * 64, "/", NOW + 600), NOW + 9)
        session = WebSession("i" * 64, KID, "access", "refresh", NOW + 3600, NOW + 9, NOW + 9000)
        await store.create_web_session(session)
    finally:
        await store.close()


LATEST = max(
    path.name.split("_", 1)[0]
    for path in (Path(migrate.__file__).parent / "migrations").glob("*.sql")
)


def without_migrations(
    rows: dict[str, list[tuple[object, ...]]],
) -> dict[str, list[tuple[object, ...]]]:
    return {table: content for table, content in rows.items() if table != "schema_migrations"}


async def test_migrate_brings_a_database_to_the_schema_once(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    name = await postgres.create_database(migrated=False)
    try:
        for database in (f"sqlite:{tmp_path / 'z.db'}", postgres.dsn(name)):
            first = zvonok(tmp_path, database, "db", "migrate")
            assert first.returncode == 0, first.stderr
            assert f"schema at version {LATEST}" in first.stdout
            again = zvonok(tmp_path, database, "db", "migrate")
            assert again.returncode == 0 and "applied migration" not in again.stderr
            assert "applied migration 0001_roster" in first.stderr
    finally:
        await postgres.drop_database(name)


async def test_copy_moves_a_school_from_sqlite_to_postgresql(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    path = tmp_path / "school.db"
    await school_on_sqlite(path)
    name = await postgres.create_database(migrated=False)
    target_dsn = postgres.dsn(name)
    try:
        result = zvonok(tmp_path, target_dsn, "db", "copy", f"sqlite:{path}")
        assert result.returncode == 0, result.stderr
        assert "chats' seqs checked" in result.stdout

        source, target = SqliteStore(path), create_store(target_dsn)
        await source.open()
        await target.open()
        try:
            copied = without_migrations(await dump(target))
            original = without_migrations(await dump(source))
            assert set(copied) == set(original)
            for table, rows in original.items():
                assert rows, f"the school has nothing in {table}: the test copies too little"
                assert copied[table] == ([] if table in NOT_COPIED else rows), table
            await goes_on_where_it_left_off(source, target)
        finally:
            await source.close()
            await target.close()

        refused = zvonok(tmp_path, target_dsn, "db", "copy", f"sqlite:{path}")
        assert refused.returncode == 1
        assert "the target is not empty" in refused.stderr
    finally:
        await postgres.drop_database(name)


async def goes_on_where_it_left_off(source: SqlStore, target: SqlStore) -> None:
    """The next seq, audit id and roster generation are the same on both sides."""
    nexts = []
    for store in (source, target):
        ack = await store.post(
            chat_id=CHAT, author=TEACHER, text="дальше", reply_to=None, key="z", now=NOW + 9
        )
        entry = await store.write_audit(
            AuditRecord(school_id="sosh-1", actor=TEACHER, action="test"), NOW + 9
        )
        report, _ = await store.create_report(
            chat_id=CHAT,
            message_id=ack.event.seq,
            reporter=KID,
            reason="x",
            recipients=[TEACHER],
            now=NOW + 9,
        )
        nexts.append((ack.event.seq, entry.id, report.id))
    assert nexts[0] == nexts[1]
    assert nexts[0][1] > 1 and nexts[0][2] == 2


@pytest.mark.parametrize("source", ["sqlite:{tmp}/missing-dir/x.db?journal=1", "mysql://x/y"])
def test_copy_refuses_what_it_cannot_read(tmp_path: Path, source: str) -> None:
    result = zvonok(
        tmp_path, f"sqlite:{tmp_path / 't.db'}", "db", "copy", source.format(tmp=tmp_path)
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
