"""The little a store's SQL needs from a database connection.

The roster queries and the migration runner are written once, in portable
SQL with ``?`` placeholders, against :class:`SqlConnection`.  The SQLite store
hands them its connection inside a transaction; a PostgreSQL store will hand
them an adapter that rewrites ``?`` to ``$1, $2, ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

SqlValue = int | float | str | bytes | None
"""A value bound to a placeholder; dates travel as ISO strings."""

Params = Sequence[SqlValue]

# SQLite allows 32766 bound values per statement and PostgreSQL 65535; lists
# longer than this are sent in several statements.
MAX_IN_LIST = 500

T = TypeVar("T")


class SqlConnection(Protocol):
    """A connection inside a transaction the caller does not manage."""

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
