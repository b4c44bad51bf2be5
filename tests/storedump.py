"""Every row of every table of a store, read through the store on either engine."""

from __future__ import annotations

from server.store import SqlStore
from server.store.sql import SqlConnection, table_names


async def dump(store: SqlStore) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, each table's rows sorted: equal dumps mean
    nothing was written."""

    async def read(db: SqlConnection) -> dict[str, list[tuple[object, ...]]]:
        return {
            table: sorted(await db.fetchall(f"SELECT * FROM {table}"), key=repr)  # noqa: S608
            for table in await table_names(db)
        }

    return await store.engine.read(read)
