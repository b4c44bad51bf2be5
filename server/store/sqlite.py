"""The SQLite engine: one file in WAL mode, through aiosqlite.

The embedded default.  Three connections.  The *writer* is shared by all
writes, one transaction at a time: an :class:`asyncio.Lock` serialises them within the process and
``BEGIN IMMEDIATE`` (with a busy timeout) against other processes.  The
*reader* is opened read-only and runs every query inside its own read
transaction, so a query sees one committed snapshot and never half of a
transaction the writer is in the middle of.  The *batch writer*
(:mod:`server.store.batch_writer`) commits batches of chat posts on a
thread of its own, under the same lock.  With one writer at a time nothing
can lose a race, so nothing is retried.

sqlite errors are translated where they enter: a database that cannot be
used becomes :class:`server.errors.StoreUnavailable` (``raise ... from``),
details go to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from server.errors import ConfigError, StoreUnavailable

from .batch_writer import BatchWriter
from .engine import Job, Outcome
from .errors import IntegrityViolation
from .migrate import Migration, bundled_migrations, migrate
from .sql import SQLITE, Dialect, Params, SqlConnection
from .sqlstore import SqlStore

T = TypeVar("T")

_log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_MS = 5000


class SqliteSession:
    """A connection inside a transaction (implements ``SqlConnection``).

    sqlite errors pass through unchanged: the store method that opened the
    transaction decides what they mean.
    """

    dialect: Dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._connection.execute_fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)
        if batch:
            cursor = await self._connection.executemany(sql, batch)
            await cursor.close()

    async def executescript(self, script: str) -> None:
        # sqlite3's own executescript() commits first, which would break the
        # transaction a migration runs in; run the statements one by one.
        for statement in split_statements(script):
            await self._connection.execute_fetchall(statement, ())

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        rows = await self._connection.execute_fetchall(sql, params)
        return [tuple(row) for row in rows]


def split_statements(script: str) -> list[str]:
    """The statements of ``script``, split where SQLite says one is complete.

    ``sqlite3.complete_statement`` knows about quotes, comments and trigger
    bodies, so a ``;`` inside any of them does not split.  Pieces that hold
    nothing but comments and blanks are dropped.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                statements.append(pending.strip())
            pending = ""
    if _has_code(pending):
        raise ValueError(f"incomplete SQL statement at the end of the script: {pending.strip()!r}")
    return statements


def _has_code(sql: str) -> bool:
    lines = (line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return bool("".join(lines).strip(" \t\r\n;"))


async def _connect(target: str | Path, **options: Any) -> aiosqlite.Connection:
    """An aiosqlite connection in autocommit mode: we issue BEGIN ourselves."""
    connection = aiosqlite.connect(target, isolation_level=None, **options)
    try:
        return await connection
    except BaseException:
        # On a failed connect aiosqlite stops its worker thread without
        # waiting; wait here so the thread cannot outlive the event loop.
        worker = getattr(connection, "_thread", None)
        if isinstance(worker, threading.Thread) and worker.is_alive():
            await asyncio.to_thread(worker.join, 5.0)
        raise


@contextmanager
def _unavailable(action: str) -> Iterator[None]:
    """Turn an sqlite failure into ``StoreUnavailable`` (integrity errors pass through)."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except sqlite3.Error as exc:
        _log.warning("sqlite failed to %s: %s", action, exc, exc_info=True)
        raise StoreUnavailable() from exc


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """sqlite's errors as ours: ``IntegrityViolation``, ``StoreUnavailable``."""
    try:
        with _unavailable(action):
            yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityViolation(str(exc)) from exc


class SqliteEngine:
    """The :class:`~server.store.engine.Engine` of a SQLite file.

    ``synchronous`` is SQLite's durability setting; ``FULL`` (the default)
    survives power loss, ``NORMAL`` may lose the last transactions then but
    never corrupts the file.
    """

    dialect: Dialect = SQLITE

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigError(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}"
            )
        self.path = path
        self.synchronous = synchronous.upper()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        self._batches: BatchWriter | None = None

    def __repr__(self) -> str:
        return repr(str(self.path))

    # -- lifecycle -----------------------------------------------------------

    async def open(self, migrations: tuple[Migration, ...] | None) -> None:
        """Create the file if needed, switch to WAL, migrate, open the reader."""
        if self._writer is not None:
            return
        if migrations is None:
            migrations = bundled_migrations(self.dialect)
        try:
            with _unavailable("open the database"):
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    _log.warning("cannot create %s: %s", self.path.parent, exc)
                    raise StoreUnavailable(f"cannot create {self.path.parent}") from exc
                self._writer = await _connect(self.path)
                await self._configure(self._writer)
                rows = await self._writer.execute_fetchall("PRAGMA journal_mode = WAL", ())
                mode = next(iter(rows))[0]
                if str(mode).lower() != "wal":
                    raise StoreUnavailable(f"cannot switch {self.path} to WAL mode ({mode})")
                await self._writer.execute_fetchall(f"PRAGMA synchronous = {self.synchronous}", ())
            # BEGIN IMMEDIATE also keeps apart servers that start at once.
            await migrate(self.transaction, migrations)
            with _unavailable("open the reader"):
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._reader = await _connect(uri, uri=True)
                await self._configure(self._reader)
                await self._reader.execute_fetchall("PRAGMA query_only = ON", ())
                self._batches = BatchWriter(
                    self.path, synchronous=self.synchronous, busy_timeout_ms=BUSY_TIMEOUT_MS
                )
                await self._batches.open()
        except BaseException:
            await self._disconnect()
            raise

    @staticmethod
    async def _configure(connection: aiosqlite.Connection) -> None:
        await connection.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", ())
        await connection.execute_fetchall("PRAGMA foreign_keys = ON", ())

    async def close(self) -> None:
        """Wait for running transactions, then close every connection."""
        async with self._write_lock, self._read_lock:
            await self._disconnect()

    async def _disconnect(self) -> None:
        writer, reader, batches = self._writer, self._reader, self._batches
        self._writer = self._reader = self._batches = None
        if batches is not None:
            try:
                await batches.close()
            except sqlite3.Error as exc:
                _log.warning("error closing the batch writer of %s: %s", self.path, exc)
        for connection in (reader, writer):
            if connection is not None:
                try:
                    await connection.close()
                except sqlite3.Error as exc:
                    _log.warning("error closing %s: %s", self.path, exc)

    # -- transactions ----------------------------------------------------------

    async def read(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        async with self._snapshot() as db:
            return await function(db)

    async def write(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        with _translated("run a write transaction"):
            async with self.transaction() as db:
                return await function(db)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteSession]:
        """A write transaction: ``BEGIN IMMEDIATE``, then ``COMMIT`` or ``ROLLBACK``.

        Commits when the block ends normally and rolls back when it raises
        (cancellation included).  sqlite failures become ``StoreUnavailable``
        except ``sqlite3.IntegrityError``, which the caller interprets.  The
        lock is not re-entrant: inside the block, use only the session, never
        another writing method of the store.
        """
        async with self._write_lock:
            writer = self._connected(self._writer)
            with _unavailable("run a write transaction"):
                await self._rollback(writer)  # in case a cancelled one was left open
                try:
                    # Inside the try, as in _snapshot: a cancelled BEGIN runs later.
                    await writer.execute_fetchall("BEGIN IMMEDIATE", ())
                    yield SqliteSession(writer)
                    await writer.execute_fetchall("COMMIT", ())
                except BaseException:
                    await self._end(writer)
                    raise

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[SqliteSession]:
        """A read transaction on the reader: every query in it sees one snapshot."""
        async with self._read_lock:
            reader = self._connected(self._reader)
            with _unavailable("read"):
                await self._rollback(reader)
                try:
                    # Inside the try: a task cancelled while its BEGIN waits
                    # for the connection's thread leaves the BEGIN to run
                    # there later, and only a ROLLBACK queued behind it ends
                    # that transaction (in_transaction cannot see it yet).
                    await reader.execute_fetchall("BEGIN", ())
                    yield SqliteSession(reader)
                finally:
                    await self._end(reader)

    async def run_batch(self, jobs: list[Job]) -> list[Outcome]:
        """One transaction for ``jobs`` on the batch writer's thread, in one
        hop, serialised with every other write."""
        async with self._write_lock:
            batches = self._batches
            if batches is None:
                raise StoreUnavailable("the store is not open")
            with _translated("commit a batch of chat posts"):
                return await batches.run(jobs)

    @staticmethod
    def _connected(connection: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if connection is None:
            raise StoreUnavailable("the store is not open")
        return connection

    @staticmethod
    async def _end(connection: aiosqlite.Connection) -> None:
        """Roll back, even a transaction whose BEGIN has not run yet: the
        ROLLBACK runs after it on the connection's thread."""
        with contextlib.suppress(sqlite3.OperationalError):  # the BEGIN itself failed
            await connection.execute_fetchall("ROLLBACK", ())

    @staticmethod
    async def _rollback(connection: aiosqlite.Connection) -> None:
        if not connection.in_transaction:
            return
        try:
            await connection.execute_fetchall("ROLLBACK", ())
        except sqlite3.Error as exc:  # e.g. already rolled back by sqlite itself
            _log.warning("rollback failed: %s", exc)


class SqliteStore(SqlStore):
    """The store on a SQLite file (see :class:`SqliteEngine`)."""

    engine: SqliteEngine

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        migrations: tuple[Migration, ...] | None = None,
    ) -> None:
        super().__init__(SqliteEngine(path, synchronous=synchronous), migrations=migrations)

    @property
    def path(self) -> Path:
        return self.engine.path

    @property
    def synchronous(self) -> str:
        return self.engine.synchronous
