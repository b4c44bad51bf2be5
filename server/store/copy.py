"""Copying a whole store into another: a school that started on the embedded
SQLite file moves to the district's PostgreSQL (``zvonok db copy``).

Both stores are brought to the current schema first (opening them
migrates).  The target must hold no data.  Every table is copied in one
target transaction, read from one snapshot of the source, in an order the
foreign keys accept; then the target's identity columns are moved past the
copied ids, and the copy is checked: every table's row count, and every
chat's ``last_seq``, number of events and highest seq, must be the same on
both sides, or the transaction is rolled back and nothing is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from server.errors import ZvonokError

from .sql import SqlConnection, table_names
from .sqlstore import SqlStore

_log = logging.getLogger(__name__)

COPY_FAILED = "store.copy_failed"

# Referenced tables before the tables that refer to them.
ORDER = (
    "people",
    "schools",
    "staff",
    "classes",
    "class_members",
    "subject_teachers",
    "guardians",
    "chats",
    "chat_members",
    "chat_events",
    "messages",
    "message_versions",
    "reactions",
    "idempotency_keys",
    "chat_removals",
    "last_seen",
    "audit_log",
    "reports",
    "report_recipients",
    "school_settings",
    "roster_changes",
    "rooms",
    "room_attendance",
    "room_removals",
)
NOT_COPIED = frozenset(
    {
        "schema_migrations",  # each side's own record of its files
        # Sign-ins under way and browser sessions stay behind: after a move
        # everyone signs in again, and the old server's ESIA tokens go nowhere.
        "sign_ins",
        "web_sessions",
    }
)
IDENTITIES = (("audit_log", "id"), ("reports", "id"), ("roster_changes", "generation"))
CHUNK = 1000

_CHAT_SEQS = (
    "SELECT c.id, c.last_seq, COUNT(e.seq), COALESCE(MAX(e.seq), 0) FROM chats c "
    "LEFT JOIN chat_events e ON e.chat_id = c.id GROUP BY c.id, c.last_seq ORDER BY c.id"
)


class CopyRefused(ZvonokError):
    def __init__(self, message: str) -> None:
        super().__init__(COPY_FAILED, message)


@dataclass
class CopyReport:
    """What was copied: rows per table, and the chats whose seqs were checked."""

    rows: dict[str, int] = field(default_factory=dict)
    chats: int = 0

    def summary(self) -> str:
        total = sum(self.rows.values())
        return f"{total} rows in {len(self.rows)} tables; {self.chats} chats' seqs checked"


async def copy_store(source: SqlStore, target: SqlStore) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` (both open), and check it."""
    report = CopyReport()

    async def from_snapshot(src: SqlConnection) -> None:
        async def into(dst: SqlConnection) -> None:
            await _copy(src, dst, report)

        await target.engine.write(into)

    await source.engine.read(from_snapshot)
    _log.info("copied %s into %r: %s", source, target, report.summary())
    return report


async def _copy(src: SqlConnection, dst: SqlConnection, report: CopyReport) -> None:
    tables = set(await table_names(src)) - NOT_COPIED
    target_tables = set(await table_names(dst)) - NOT_COPIED
    if tables != target_tables or tables != set(ORDER):
        raise CopyRefused(
            "the two schemas differ: "
            f"source {sorted(tables)}, target {sorted(target_tables)}, known {sorted(ORDER)}"
        )
    for table in ORDER:
        ((count,),) = await dst.fetchall(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        if count:
            raise CopyRefused(f"the target is not empty: {table} has {count} rows")
    # The roster lock keeps a node from importing into the target meanwhile.
    for table in ORDER:
        columns = [str(name) for (name,) in await src.fetchall(src.dialect.columns, (table,))]
        theirs = {str(name) for (name,) in await dst.fetchall(dst.dialect.columns, (table,))}
        if set(columns) != theirs:
            raise CopyRefused(f"the columns of {table} differ: {columns} and {sorted(theirs)}")
        names = ", ".join(columns)
        rows = await src.fetchall(f"SELECT {names} FROM {table}")  # noqa: S608 - names from the schema
        insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        for start in range(0, len(rows), CHUNK):
            await dst.executemany(insert, rows[start : start + CHUNK])
        report.rows[table] = len(rows)
    if dst.dialect.name == "postgresql":
        for table, column in IDENTITIES:
            await dst.fetchall(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )
    await _check(src, dst, report)


async def _check(src: SqlConnection, dst: SqlConnection, report: CopyReport) -> None:
    """Counts and seqs the same on both sides, or the copy is refused (rolled back)."""
    for table, copied in report.rows.items():
        ((there,),) = await dst.fetchall(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        if int(there) != copied:
            raise CopyRefused(f"{table}: {copied} rows read, {there} in the target")
    source_seqs = [tuple(row) for row in await src.fetchall(_CHAT_SEQS)]
    target_seqs = [tuple(row) for row in await dst.fetchall(_CHAT_SEQS)]
    if [tuple(map(str, r)) for r in source_seqs] != [tuple(map(str, r)) for r in target_seqs]:
        raise CopyRefused("the chats' seqs differ between the source and the copy")
    for chat_id, last_seq, events, highest in source_seqs:
        if not int(last_seq) == int(events) == int(highest):
            raise CopyRefused(f"the source's chat {chat_id!r} has holes in its log")
    report.chats = len(source_seqs)
