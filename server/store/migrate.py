"""Versioned schema migrations, applied in order and recorded.

Migrations are the files ``server/store/migrations/NNNN_name.sql``, numbered
from ``0001`` without gaps.  Each runs in its own transaction together with
the row that records it in ``schema_migrations`` (version, name, SHA-256 of
the file), so a migration is applied entirely or not at all, and applying
twice is impossible even when two servers start at once (the engine keeps
them apart: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL).

The SQL should be portable, run as it is by both engines: ``BIGINT`` for
OIDs, ``TEXT`` for strings and dates, no ``AUTOINCREMENT`` and no
SQLite-only syntax.  What cannot be said portably (an identity column) is a
pair of files of one version, ``NNNN_name.sqlite.sql`` and
``NNNN_name.postgresql.sql``, as Synapse keeps its per-engine deltas; each
engine runs and records its own.  An applied migration is never edited: a
change is a new file.  :func:`migrate` refuses to start if an applied file changed or if the
database knows versions this server does not.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from .errors import MigrationError
from .sql import Dialect, SqlConnection

_log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"([0-9]{4})_([a-z0-9_]+?)(?:\.(sqlite|postgresql))?\.sql")
ENGINES = ("sqlite", "postgresql")

SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""

TransactionFactory = Callable[[], AbstractAsyncContextManager[SqlConnection]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def bundled_migrations(dialect: Dialect) -> tuple[Migration, ...]:
    """The migrations shipped in ``server/store/migrations`` for this engine,
    in version order."""
    folder = importlib.resources.files(__package__ or "server.store").joinpath("migrations")
    return select_migrations(
        dialect.name,
        [(entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir()],
    )


def select_migrations(engine: str, files: list[tuple[str, str]]) -> tuple[Migration, ...]:
    """The migrations of ``engine`` among ``(file name, SQL)``: the portable
    files and that engine's own, checked to leave no engine without one."""
    portable: dict[int, Migration] = {}
    own: dict[int, dict[str, Migration]] = {}
    for file_name, sql in files:
        if not file_name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(file_name)
        if match is None:
            raise MigrationError(
                f"migration file name {file_name!r} is not NNNN_name.sql or NNNN_name.ENGINE.sql"
            )
        migration = Migration(int(match[1]), match[2], sql)
        if match[3] is None:
            portable[migration.version] = migration
        else:
            own.setdefault(migration.version, {})[match[3]] = migration
    for version, variants in own.items():
        if version in portable or set(variants) != set(ENGINES):
            raise MigrationError(
                f"migration {version:04d} needs one portable file or one file per engine "
                f"({', '.join(ENGINES)})"
            )
    chosen = [*portable.values(), *(variants[engine] for variants in own.values())]
    return check_sequence(chosen)


def check_sequence(migrations: list[Migration]) -> tuple[Migration, ...]:
    """Sort migrations and check that they are numbered 1, 2, 3... without gaps."""
    ordered = tuple(sorted(migrations, key=lambda migration: migration.version))
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered from 0001 without gaps or repeats: "
                f"expected {expected:04d}, found {migration.version:04d}_{migration.name}"
            )
    return ordered


async def migrate(transaction: TransactionFactory, migrations: tuple[Migration, ...]) -> list[int]:
    """Apply the pending ``migrations``; return the versions applied now.

    ``transaction`` opens a write transaction (``BEGIN IMMEDIATE`` on
    SQLite), which also serialises servers starting at the same time.
    """
    async with transaction() as db:
        await db.execute(SCHEMA_MIGRATIONS)
        applied = await _applied(db)
    _check_applied(applied, migrations)
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        async with transaction() as db:
            if migration.version in await _applied(db):  # another server was quicker
                continue
            await db.executescript(migration.sql)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                (migration.version, migration.name, migration.checksum),
            )
        _log.info("applied migration %04d_%s", migration.version, migration.name)
        done.append(migration.version)
    return done


async def _applied(db: SqlConnection) -> dict[int, tuple[str, str]]:
    rows = await db.fetchall("SELECT version, name, checksum FROM schema_migrations")
    return {int(version): (str(name), str(checksum)) for version, name, checksum in rows}


def _check_applied(applied: dict[int, tuple[str, str]], migrations: tuple[Migration, ...]) -> None:
    known = {migration.version: migration for migration in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{name}, which this server does not "
                "know: it was migrated by a newer version"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{migration.name} was changed after it was applied; "
                "write a new migration instead of editing an applied one"
            )
