"""What only the SQLite engine has: WAL, pragmas, its file, its errors; and DSNs.

The machinery both engines share is tested on both in test_store_engines.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from server.errors import ConfigError, StoreUnavailable
from server.store import SqliteStore, create_store
from server.store.errors import MigrationError
from server.store.migrate import Migration, bundled_migrations, check_sequence
from server.store.sql import SQLITE
from server.store.sqlite import split_statements

INSERT_PERSON = (
    "INSERT INTO people (oid, last_name, first_name, middle_name, birth_date) "
    "VALUES (?, 'Иванов', 'Иван', NULL, '2015-01-01')"
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "var" / "zvonok.db")
    await opened.open()
    yield opened
    await opened.close()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


async def test_open_creates_the_file_in_wal_mode(store: SqliteStore) -> None:
    assert store.path.exists()
    assert query(store.path, "PRAGMA journal_mode") == [("wal",)]


async def test_synchronous_and_foreign_keys_are_set(tmp_path: Path) -> None:
    relaxed = SqliteStore(tmp_path / "z.db", synchronous="normal")
    await relaxed.open()
    try:
        async with relaxed.transaction() as db:
            assert await db.fetchall("PRAGMA synchronous") == [(1,)]  # NORMAL
            assert await db.fetchall("PRAGMA foreign_keys") == [(1,)]
            with pytest.raises(sqlite3.IntegrityError):
                await db.execute("INSERT INTO staff VALUES ('nowhere', 1, 'teacher')")
    finally:
        await relaxed.close()


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "z.db"
    migrations = (
        Migration(1, "good", "CREATE TABLE good (x INTEGER);"),
        Migration(2, "bad", "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    )

    with pytest.raises(StoreUnavailable):
        await SqliteStore(path, migrations=migrations).open()

    tables = {row[0] for row in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "good" in tables
    assert "half" not in tables
    assert query(path, "SELECT version FROM schema_migrations") == [(1,)]


def test_migrations_must_be_numbered_without_gaps() -> None:
    assert [m.version for m in bundled_migrations(SQLITE)] == list(
        range(1, len(bundled_migrations(SQLITE)) + 1)
    )
    with pytest.raises(MigrationError, match="expected 0002, found 0003_c"):
        check_sequence([Migration(1, "a", ""), Migration(3, "c", "")])


def test_split_statements_respects_quotes_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d';
    END;
    -- trailing comment
    """

    statements = split_statements(script)

    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1;")


async def test_transactions_are_serialised(store: SqliteStore) -> None:
    async def insert_next() -> None:
        async with store.transaction() as db:
            ((highest,),) = await db.fetchall("SELECT COALESCE(MAX(oid), 0) FROM people")
            await db.execute(INSERT_PERSON, (highest + 1,))

    await asyncio.gather(*(insert_next() for _ in range(10)))

    assert query(store.path, "SELECT COUNT(*), MAX(oid) FROM people") == [(10, 10)]


async def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "z.db"
    path.write_bytes(b"this is not a database, just some text " * 100)

    with pytest.raises(StoreUnavailable) as caught:
        await SqliteStore(path).open()

    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    assert caught.value.code == "store.unavailable"


async def test_a_directory_in_the_way_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "z.db").mkdir()

    with pytest.raises(StoreUnavailable):
        await SqliteStore(tmp_path / "z.db").open()


def test_create_store_accepts_absolute_and_relative_sqlite_dsns(tmp_path: Path) -> None:
    absolute = create_store(f"sqlite://{tmp_path}/a b/z.db")
    relative = create_store("sqlite:var/z.db?synchronous=normal")

    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a b" / "z.db"
    assert isinstance(relative, SqliteStore) and relative.path == Path("var/z.db")
    assert relative.synchronous == "NORMAL"
    escaped = create_store("sqlite:var/x%20y.db")
    assert isinstance(escaped, SqliteStore) and escaped.path == Path("var/x y.db")


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://zvonok:secret@localhost/zvonok",  # a password belongs elsewhere
        "postgresql://zvonok@localhost/",
        "postgresql://zvonok@localhost/zvonok?pool=0",
        "postgresql://zvonok@localhost/zvonok?password=secret",
        "postgresql://zvonok@localhost/zvonok?sslmode=sometimes",
        "mysql://zvonok@localhost/zvonok",
        "/var/lib/zvonok.db",
        "sqlite://host/z.db",
        "sqlite:",
        "sqlite:///:memory:",
        "sqlite:z.db?journal=delete",
        "sqlite:z.db?synchronous=sometimes",
    ],
)
def test_create_store_refuses_what_it_does_not_know(dsn: str) -> None:
    with pytest.raises(ConfigError):
        create_store(dsn)
