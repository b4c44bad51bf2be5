"""The little a store's SQL needs from a database connection.

Every query and transaction function of the store (``*_sql.py``, the roster
import, the migration runner) is written once, in portable SQL with ``?``
placeholders, against :class:`SqlConnection`.  An engine
(:mod:`server.store.sqlite`, :mod:`server.store.postgres`) hands them a
connection inside a transaction it manages; the PostgreSQL one rewrites
``?`` to ``$1, $2, ...``.  What the SQL cannot say portably, the
connection's :class:`Dialect` says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

SqlValue = int | float | str | bytes | None
"""A value bound to a placeholder; dates travel as ISO strings."""

Params = Sequence[SqlValue]

# SQLite allows 32766 bound values per statement and PostgreSQL 65535; lists
# longer than this are sent in several statements.
MAX_IN_LIST = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the engines where portable SQL cannot say it.

    ``for_update`` ends a ``SELECT`` that must lock the rows it reads until
    the transaction ends: PostgreSQL's ``FOR UPDATE``; nothing on SQLite,
    whose write transaction already excludes every other writer.
    ``tables`` lists the schema's tables (one column, the name).
    """

    name: str
    for_update: str
    tables: str
    columns: str  # a table's columns in order, the table's name bound to ``?``
    # Takes a lock named by one BIGINT until the transaction ends; None where
    # a write transaction excludes every other already.
    exclusive: str | None
    # Several writers at once: a transaction must lock what it reads before
    # it decides (the chat row before a chat's state, the room row before an
    # attendance number), and the engine may retry it.
    concurrent_writers: bool


SQLITE = Dialect(
    name="sqlite",
    for_update="",
    tables="SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    columns="SELECT name FROM pragma_table_info(?) ORDER BY cid",
    exclusive=None,
    concurrent_writers=False,
)

POSTGRESQL = Dialect(
    name="postgresql",
    for_update=" FOR UPDATE",
    tables=(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
        "ORDER BY tablename"
    ),
    columns=(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
    ),
    exclusive="SELECT pg_advisory_xact_lock(?)",
    concurrent_writers=True,
)


class SqlConnection(Protocol):
    """A connection inside a transaction the caller does not manage."""

    @property
    def dialect(self) -> Dialect:
        """The engine's differences from portable SQL."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement that returns no rows."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row."""
        ...

    async def executescript(self, script: str) -> None:
        """Run several ``;``-separated statements within the current transaction."""
        ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Run one query and return all its rows as tuples."""
        ...


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values."""
    if count < 1:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * count)


def chunked(values: Iterable[T], size: int = MAX_IN_LIST) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def fetch_in(
    db: SqlConnection, sql: str, values: Iterable[SqlValue], params: Params = ()
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` for every value, where ``sql`` has one ``IN ({})`` list.

    ``params`` are bound before the list.  Only placeholders are formatted
    into the statement, never values.
    """
    rows: list[tuple[Any, ...]] = []
    for chunk in chunked(values):
        statement = sql.format(placeholders(len(chunk)))
        rows.extend(await db.fetchall(statement, (*params, *chunk)))
    return rows


async def table_names(db: SqlConnection) -> list[str]:
    """The tables of the store's schema, by name."""
    return [str(name) for (name,) in await db.fetchall(db.dialect.tables)]


def lock_key(name: str) -> int:
    """The BIGINT that names the lock ``name`` (stable across processes)."""
    digest = hashlib.sha256(f"zvonok:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def exclusive(db: SqlConnection, name: str) -> None:
    """Hold the lock ``name`` until the transaction ends: one such
    transaction at a time, on every node (a no-op where writers are one)."""
    if db.dialect.exclusive is not None:
        await db.fetchall(db.dialect.exclusive, (lock_key(name),))
