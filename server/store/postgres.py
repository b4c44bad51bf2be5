"""The PostgreSQL engine: the store several nodes share, through asyncpg.

asyncpg rather than psycopg 3 (docs/architecture.md, "Storage"): it is
asyncio through and through, with no thread or libpq underneath, it speaks
the binary protocol and keeps every statement prepared per connection, and
its ``executemany`` pipelines, which is what a batch of posts and a roster
import are made of.  What it lacks, types, ``asyncpg-stubs`` gives mypy.

A pool of connections, each transaction on one of them: reads in a
``REPEATABLE READ READ ONLY`` transaction (one snapshot, as on SQLite);
writes in ``READ COMMITTED``, where each statement sees what committed
before it, so a transaction function that locks what it decides on first
(the chat row, ``Dialect.for_update``) decides on the latest state.  A
write that loses a race anyway (a serialisation failure, a deadlock) is
rolled back and run again, at most :data:`~server.store.engine.MAX_ATTEMPTS`
times.  Migrations run under a session-level advisory lock, so two nodes
starting at once apply each migration once.

The password never travels in the DSN: it comes from ``PGPASSWORD`` or a
password file (``passfile=`` in the DSN, ``PGPASSFILE``, ``~/.pgpass``),
which asyncpg reads as libpq does, and the store's ``repr`` (what reaches a
log) names user, host and database only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar, get_args
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from server.errors import ConfigError, StoreUnavailable, ZvonokError

from .engine import MAX_ATTEMPTS, Job, Outcome
from .errors import IntegrityViolation
from .migrate import Migration, bundled_migrations, migrate
from .sql import POSTGRESQL, Dialect, Params, SqlConnection, lock_key
from .sqlstore import SqlStore

_log = logging.getLogger(__name__)

T = TypeVar("T")
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
SslMode = Literal["disable", "prefer", "allow", "require", "verify-ca", "verify-full"]
SSL_MODES: tuple[SslMode, ...] = get_args(SslMode)

MIGRATION_LOCK = "migrations"
_SAVEPOINT = "SAVEPOINT post"
_RELEASE = "RELEASE SAVEPOINT post"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT post"
DEFAULT_POOL = 10
CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0
STATEMENT_CACHE = 512
_OPTIONS = frozenset({"pool", "passfile", "sslmode"})

# The driver's errors that say the database cannot be used now.
_UNAVAILABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
# A transaction that lost a race: run it again.
_LOST_RACE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)


@dataclass(frozen=True, slots=True)
class PostgresConfig:
    """Where the database is; never a password (see the module's docstring)."""

    dsn: str  # postgresql://user@host:port/database, without options
    pool: int = DEFAULT_POOL
    passfile: Path | None = None
    sslmode: SslMode | None = None

    def __str__(self) -> str:
        return self.dsn


def parse_dsn(dsn: str) -> PostgresConfig:
    """A ``postgresql://`` DSN, checked: no password in it, known options only.

    Options: ``pool`` (connections, default 10), ``passfile`` (a libpq
    password file), ``sslmode`` (libpq's).  Raises :class:`ConfigError`.
    """
    parts = urlsplit(dsn)
    if parts.password is not None:
        raise ConfigError(
            "the database DSN must not hold a password: give it in PGPASSWORD or a password "
            "file (passfile=, PGPASSFILE, ~/.pgpass)"
        )
    if not parts.path.strip("/"):
        raise ConfigError("the PostgreSQL DSN must name a database: postgresql://user@host/db")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ConfigError(f"unknown PostgreSQL DSN option(s): {', '.join(unknown)}")
    pool = DEFAULT_POOL
    if "pool" in options:
        try:
            pool = int(options["pool"][-1])
        except ValueError:
            pool = 0
        if pool < 2:
            raise ConfigError("pool must be a whole number of connections, at least 2")
    passfile = Path(options["passfile"][-1]) if "passfile" in options else None
    sslmode: SslMode | None = None
    if "sslmode" in options:
        asked = options["sslmode"][-1]
        for mode in SSL_MODES:
            if mode == asked:
                sslmode = mode
        if sslmode is None:
            raise ConfigError(f"sslmode must be one of {', '.join(SSL_MODES)}")
    bare = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    return PostgresConfig(bare, pool=pool, passfile=passfile, sslmode=sslmode)


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as PostgreSQL's ``$1, $2, ...``
    (a ``?`` inside a quoted literal stays)."""
    out: list[str] = []
    count = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            count += 1
            out.append(f"${count}")
        else:
            out.append(char)
    return "".join(out)


class PostgresSession:
    """A pooled connection inside a transaction (implements ``SqlConnection``)."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Params = ()) -> None:
        if params:
            await self.connection.execute(numbered(sql), *params)
        else:
            await self.connection.execute(sql)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)
        if batch:
            await self.connection.executemany(numbered(sql), batch)

    async def executescript(self, script: str) -> None:
        await self.connection.execute(script)  # the simple protocol runs every statement

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        rows = await self.connection.fetch(numbered(sql), *params)
        return [tuple(row) for row in rows]


class _LostRace(Exception):
    """A transaction the database rolled back to keep concurrent ones apart."""


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """asyncpg's errors as ours, where they enter."""
    try:
        yield
    except _LOST_RACE as exc:
        raise _LostRace(str(exc)) from exc
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityViolation(str(exc)) from exc
    except _UNAVAILABLE as exc:
        _log.warning("postgresql failed to %s: %s", action, exc, exc_info=True)
        raise StoreUnavailable() from exc


class PostgresEngine:
    """The :class:`~server.store.engine.Engine` of a PostgreSQL database."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, config: PostgresConfig) -> None:
        self.config = config
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return repr(str(self.config))

    async def open(self, migrations: tuple[Migration, ...] | None) -> None:
        if self._pool is not None:
            return
        if migrations is None:
            migrations = bundled_migrations(self.dialect)
        with _translated("connect"):
            pool = await asyncpg.create_pool(
                self.config.dsn,
                min_size=1,
                max_size=self.config.pool,
                passfile=None if self.config.passfile is None else str(self.config.passfile),
                ssl=self.config.sslmode,
                timeout=CONNECT_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
                statement_cache_size=STATEMENT_CACHE,
            )
        self._pool = pool
        try:
            await self._migrate(pool, migrations)
        except BaseException:
            await self.close()
            raise

    async def _migrate(self, pool: asyncpg.Pool, migrations: tuple[Migration, ...]) -> None:
        """Apply the pending migrations holding the migration lock, which a
        node starting at the same time waits for."""
        with _translated("migrate"):
            async with pool.acquire() as connection:
                await connection.execute("SELECT pg_advisory_lock($1)", lock_key(MIGRATION_LOCK))
                try:

                    @asynccontextmanager
                    async def transaction() -> AsyncIterator[SqlConnection]:
                        async with connection.transaction():
                            yield PostgresSession(connection)

                    await migrate(transaction, migrations)
                finally:
                    await connection.execute(
                        "SELECT pg_advisory_unlock($1)", lock_key(MIGRATION_LOCK)
                    )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), COMMAND_TIMEOUT)
            except (TimeoutError, *_UNAVAILABLE) as exc:
                _log.warning("closing the database pool: %s", exc)
                pool.terminate()

    def _connected(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the store is not open")
        return self._pool

    async def read(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        pool = self._connected()
        with _translated("read"):
            async with (
                pool.acquire() as connection,
                connection.transaction(isolation="repeatable_read", readonly=True),
            ):
                return await function(PostgresSession(connection))
        raise AssertionError("unreachable")  # pragma: no cover - for mypy

    async def write(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        raced_on_a_key = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.transaction() as db:
                    return await function(db)
            except IntegrityViolation as exc:
                # A unique key another transaction took between our read and
                # our write (one idempotency key sent through two nodes):
                # once more, and the read finds it.  Twice is a real conflict.
                if raced_on_a_key or not isinstance(exc.__cause__, asyncpg.UniqueViolationError):
                    raise
                raced_on_a_key = True
                _log.info("a transaction lost a race for a unique key; running it again")
            except _LostRace as race:
                if attempt == MAX_ATTEMPTS:
                    _log.warning("a transaction lost %d races in a row: %s", attempt, race)
                    raise StoreUnavailable() from race
                _log.info("a transaction lost a race (%s); running it again", race)
                # A little apart, so the same two do not meet again at once.
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlConnection]:
        pool = self._connected()
        with _translated("run a write transaction"):
            async with pool.acquire() as connection, connection.transaction():
                yield PostgresSession(connection)

    async def run_batch(self, jobs: list[Job]) -> list[Outcome]:
        async def batch(db: SqlConnection) -> list[Outcome]:
            if not isinstance(db, PostgresSession):  # pragma: no cover
                raise TypeError("a PostgreSQL batch runs on a PostgreSQL session")
            outcomes = []
            for index, job in enumerate(jobs):
                # One round trip per savepoint: the previous job's is
                # released as this one's is made (the commit releases the last).
                await db.connection.execute(
                    _SAVEPOINT if index == 0 else f"{_RELEASE}; {_SAVEPOINT}"
                )
                outcomes.append(await self._savepointed(db, job))
            return outcomes

        return await self.write(batch)

    @staticmethod
    async def _savepointed(db: PostgresSession, job: Job) -> Outcome:
        """Run ``job`` inside the savepoint just made: a refusal undoes its
        writes alone.

        A job that breaks a unique key lost a race with another node's
        transaction (the same idempotency key sent to both): by the time
        PostgreSQL says so the other has committed, so the job runs again
        from its savepoint and finds what the other stored.
        """
        for attempt in (1, 2):
            try:
                result = await job(db)
            except ZvonokError as refusal:
                await db.connection.execute(_ROLLBACK_TO)
                return None, refusal
            except asyncpg.UniqueViolationError:
                if attempt == 2:
                    raise
                await db.connection.execute(_ROLLBACK_TO)
                continue
            return result, None
        raise AssertionError("unreachable")  # pragma: no cover


class PostgresStore(SqlStore):
    """The store on a PostgreSQL database (see :class:`PostgresEngine`)."""

    engine: PostgresEngine

    def __init__(
        self, config: PostgresConfig, *, migrations: tuple[Migration, ...] | None = None
    ) -> None:
        super().__init__(PostgresEngine(config), migrations=migrations)
