"""The embedded store: one SQLite file in WAL mode, through aiosqlite.

Two connections.  The *writer* is shared by all writes, one transaction at a
time: an :class:`asyncio.Lock` serialises them within the process and
``BEGIN IMMEDIATE`` (with a busy timeout) against other processes.  The
*reader* is opened read-only and runs every query inside its own read
transaction, so a query sees one committed snapshot and never half of a
transaction the writer is in the middle of.

sqlite errors are translated where they enter: a database that cannot be
used becomes :class:`server.errors.StoreUnavailable` (``raise ... from``),
details go to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from server.chats.model import Ack, ChatEvent, ChatSummary, MembershipChange, Retry
from server.errors import ConfigError, StoreUnavailable
from server.rooms.model import AttendanceRow, RoomKind, RoomRecord, RoomRole
from server.roster.authority import Importer
from server.roster.diff import ImportReport
from server.roster.document import MAX_OID, RosterDocument
from server.roster.errors import RosterError, RosterIssue
from server.roster.model import OID, DirectoryEntry, Person, Profile
from server.roster.rows import RosterRows
from server.roster.views import build_directory, build_profile
from server.safety.model import AuditEntry, AuditRecord, ChatFacts, Report
from server.safety.model import Outcome as ReportOutcome

from . import chat_sql, rooms_sql, roster_import, roster_sql, safety_sql, web_sql
from .batch_writer import BatchWriter, Outcome, ThreadSession
from .group_commit import GroupCommit
from .migrate import Migration, bundled_migrations, migrate
from .sql import Params

_log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_MS = 5000


class SqliteSession:
    """A connection inside a transaction (implements ``SqlConnection``).

    sqlite errors pass through unchanged: the store method that opened the
    transaction decides what they mean.
    """

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


class SqliteStore:
    """The :class:`~server.store.base.Store` on a SQLite file.

    ``synchronous`` is SQLite's durability setting; ``FULL`` (the default)
    survives power loss, ``NORMAL`` may lose the last transactions then but
    never corrupts the file.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        migrations: tuple[Migration, ...] | None = None,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigError(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}"
            )
        self.path = path
        self.synchronous = synchronous.upper()
        self._migrations = migrations
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        self._batches: BatchWriter | None = None
        self._posts: GroupCommit[ThreadSession] = GroupCommit(self._run_batch)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Create the file if needed, switch to WAL, migrate, open the reader."""
        if self._writer is not None:
            return
        migrations = self._migrations if self._migrations is not None else bundled_migrations()
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
            await self._sync_roster_chats()
        except BaseException:
            await self._disconnect()
            raise

    async def _sync_roster_chats(self) -> None:
        """Give a roster imported before the chats existed its roster chats.

        A no-op when the chats already follow the roster, which is the case
        after every import; skipped for a schema without chats (a test's
        own migrations).
        """
        async with self.transaction() as db:
            if not await db.fetchall(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chats'"
            ):
                return
            changes = await chat_sql.sync_roster_chats(db, time.time())
            if changes:
                await chat_sql.record_roster_changes(db, changes, time.time())
        if changes:
            _log.info("roster chats brought up to date: %d changed", len(changes))

    @staticmethod
    async def _configure(connection: aiosqlite.Connection) -> None:
        await connection.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", ())
        await connection.execute_fetchall("PRAGMA foreign_keys = ON", ())

    async def close(self) -> None:
        """Wait for running transactions, then close both connections."""
        await self._posts.close()
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

    # -- Store -----------------------------------------------------------------

    async def ping(self) -> None:
        async with self._snapshot() as db:
            await db.fetchall("SELECT COUNT(*) FROM schema_migrations")

    async def person(self, oid: int) -> Person | None:
        if not 0 < oid <= MAX_OID:  # could not have been imported; sqlite would overflow
            return None
        async with self._snapshot() as db:
            return await roster_sql.load_person(db, OID(oid))

    async def profile(self, oid: int) -> Profile | None:
        if not 0 < oid <= MAX_OID:
            return None
        async with self._snapshot() as db:
            rows = await roster_sql.load_around(db, OID(oid))
        return build_profile(rows, OID(oid))

    async def has_roster(self) -> bool:
        async with self._snapshot() as db:
            return await roster_sql.has_roster(db)

    async def directory(self) -> list[DirectoryEntry]:
        return build_directory(await self.roster_rows())

    async def roster_rows(self) -> RosterRows:
        async with self._snapshot() as db:
            return await roster_sql.load_all(db)

    async def import_roster(
        self, doc: RosterDocument, importer: Importer | None = None
    ) -> ImportReport:
        """Diff ``doc`` against the stored rows and apply it, in one transaction.

        The rows are read inside the write transaction, so no other writer
        can change them between the diff, the check of an admin's upload and
        the writes.  The roster chats and the audit rows follow in the same
        transaction; the chats' membership changes are the report's ``chats``.
        An admin's refused upload leaves its ``roster.refused`` rows
        (:meth:`audit_roster_refusal`) once the import is rolled back.
        """
        try:
            try:
                async with self.transaction() as db:
                    changes, chats, kept = await roster_import.import_document(
                        db, doc, importer, time.time()
                    )
            except sqlite3.IntegrityError as exc:
                # The file passed validation, so this is a conflict with stored
                # rows that the diff did not foresee.  Nothing was written.
                _log.warning("roster import refused by the database: %s", exc)
                raise RosterError(
                    [RosterIssue("", "the database refused the roster; nothing was written")]
                ) from exc
        except RosterError as exc:
            if importer is not None and importer.admin:
                await self.audit_roster_refusal(exc, importer)
            raise
        report = dataclasses.replace(changes.report, chats=tuple(chats), kept=kept)
        _log.info("roster imported: %s; %d roster chats changed", report.summary(), len(chats))
        return report

    async def audit_roster_refusal(self, error: RosterError, importer: Importer) -> None:
        async with self.transaction() as db:
            await roster_import.record_refusal(db, error, importer, time.time())

    # -- ChatStore -------------------------------------------------------------

    @asynccontextmanager
    async def _chat_write(self) -> AsyncIterator[SqliteSession]:
        """A write transaction for a chat change.

        The checks come before the writes, so an integrity error means a bug
        or a damaged database, not a request to refuse: it is logged and
        reported as ``StoreUnavailable``.  Either way nothing is written.
        """
        try:
            async with self.transaction() as db:
                yield db
        except sqlite3.IntegrityError as exc:
            _log.error("sqlite refused a chat change: %s", exc, exc_info=True)
            raise StoreUnavailable() from exc

    async def chat_positions(self, oid: int) -> dict[str, int]:
        async with self._snapshot() as db:
            return await chat_sql.chat_positions(db, oid)

    async def is_member(self, chat_id: str, oid: int) -> bool:
        async with self._snapshot() as db:
            return await chat_sql.is_member(db, chat_id, oid)

    async def replayed(self, retry: Retry) -> Ack | None:
        async with self._snapshot() as db:
            return await chat_sql.replayed(db, retry)

    async def chats(self, oid: int) -> list[ChatSummary]:
        async with self._snapshot() as db:
            return await chat_sql.summaries(db, oid)

    async def chat(self, oid: int, chat_id: str) -> ChatSummary:
        async with self._snapshot() as db:
            return await chat_sql.summary(db, oid, chat_id)

    async def members(self, chat_id: str) -> list[int]:
        async with self._snapshot() as db:
            return await chat_sql.members(db, chat_id)

    async def contacts(self, oid: int) -> set[int]:
        async with self._snapshot() as db:
            return await chat_sql.contacts(db, oid)

    async def events(
        self, chat_id: str, *, after: int = 0, before: int | None = None, limit: int = 100
    ) -> list[ChatEvent]:
        async with self._snapshot() as db:
            return await chat_sql.events(db, chat_id, after=after, before=before, limit=limit)

    async def member_events(
        self,
        chat_id: str,
        reader: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 100,
    ) -> list[ChatEvent] | None:
        async with self._snapshot() as db:
            return await chat_sql.member_events(
                db, chat_id, reader, after=after, before=before, limit=limit
            )

    async def events_for(
        self, chat_id: str, reader: int, *, after: int, limit: int
    ) -> tuple[list[ChatEvent], bool]:
        async with self._snapshot() as db:
            return await chat_sql.events_for(db, chat_id, reader, after=after, limit=limit)

    async def removal_after(self, chat_id: str, oid: int, after: int) -> int | None:
        async with self._snapshot() as db:
            return await chat_sql.removal_after(db, chat_id, oid, after)

    async def message_versions(self, chat_id: str, message_id: int) -> list[tuple[int, str, float]]:
        async with self._snapshot() as db:
            return await chat_sql.message_versions(db, chat_id, message_id)

    async def last_seen(self, oids: Sequence[int]) -> dict[int, float]:
        async with self._snapshot() as db:
            return await chat_sql.last_seen(db, oids)

    async def post(
        self,
        *,
        chat_id: str,
        author: int,
        text: str,
        reply_to: int | None,
        key: str,
        now: float,
        moderator: bool = False,
    ) -> Ack:
        """Posts that arrive while a commit runs share the next one (group
        commit), run on the batch writer's thread in one hop."""

        async def job(db: ThreadSession) -> Ack:
            return await chat_sql.post(
                db,
                chat_id=chat_id,
                author=author,
                text=text,
                reply_to=reply_to,
                key=key,
                now=now,
                moderator=moderator,
            )

        return await self._posts.run(job)

    async def _run_batch(
        self, jobs: list[Callable[[ThreadSession], Awaitable[Any]]]
    ) -> list[Outcome]:
        """One transaction for ``jobs``, serialised with every other write."""
        async with self._write_lock:
            batches = self._batches
            if batches is None:
                raise StoreUnavailable("the store is not open")
            try:
                with _unavailable("commit a batch of chat posts"):
                    return await batches.run(jobs)
            except sqlite3.IntegrityError as exc:
                _log.error("sqlite refused a chat change: %s", exc, exc_info=True)
                raise StoreUnavailable() from exc

    async def edit(
        self,
        *,
        chat_id: str,
        author: int,
        message_id: int,
        text: str,
        key: str | None,
        now: float,
        moderator: bool = False,
    ) -> Ack:
        async with self._chat_write() as db:
            return await chat_sql.edit(
                db,
                chat_id=chat_id,
                author=author,
                message_id=message_id,
                text=text,
                key=key,
                now=now,
                moderator=moderator,
            )

    async def delete(
        self, *, chat_id: str, actor: int, message_id: int, key: str | None, now: float
    ) -> Ack:
        async with self._chat_write() as db:
            return await chat_sql.delete(
                db, chat_id=chat_id, actor=actor, message_id=message_id, key=key, now=now
            )

    async def react(
        self,
        *,
        chat_id: str,
        actor: int,
        message_id: int,
        emoji: str,
        on: bool,
        key: str | None,
        now: float,
    ) -> Ack:
        async with self._chat_write() as db:
            return await chat_sql.react(
                db,
                chat_id=chat_id,
                actor=actor,
                message_id=message_id,
                emoji=emoji,
                on=on,
                key=key,
                now=now,
            )

    async def mark_read(self, *, chat_id: str, oid: int, seq: int) -> int:
        async with self._chat_write() as db:
            return await chat_sql.mark_read(db, chat_id=chat_id, oid=oid, seq=seq)

    async def open_direct(
        self, *, a: int, b: int, now: float
    ) -> tuple[ChatSummary, MembershipChange | None]:
        async with self._chat_write() as db:
            return await chat_sql.open_direct(db, a=a, b=b, now=now)

    async def create_group(
        self,
        *,
        creator: int,
        school_id: str,
        title: str,
        members: Sequence[int],
        key: str | None,
        now: float,
    ) -> tuple[ChatSummary, MembershipChange]:
        async with self._chat_write() as db:
            return await chat_sql.create_group(
                db,
                creator=creator,
                school_id=school_id,
                title=title,
                members=members,
                key=key,
                now=now,
            )

    async def change_members(
        self, *, chat_id: str, actor: int, add: Sequence[int], remove: Sequence[int], now: float
    ) -> MembershipChange | None:
        async with self._chat_write() as db:
            return await chat_sql.change_members(
                db, chat_id=chat_id, actor=actor, add=add, remove=remove, now=now
            )

    async def set_last_seen(self, oid: int, at: float) -> None:
        async with self._chat_write() as db:
            await chat_sql.set_last_seen(db, oid, at)

    # -- SafetyStore -------------------------------------------------------------

    async def chat_facts(self, chat_id: str) -> ChatFacts | None:
        async with self._snapshot() as db:
            return await safety_sql.chat_facts(db, chat_id)

    async def school_admins(self, school_ids: Sequence[str]) -> set[int]:
        async with self._snapshot() as db:
            return await safety_sql.school_admins(db, school_ids)

    async def class_teachers(self, class_id: str) -> set[int]:
        async with self._snapshot() as db:
            return await safety_sql.class_teachers(db, class_id)

    async def moderator_delete(
        self,
        *,
        chat_id: str,
        actor: int,
        message_id: int,
        key: str | None,
        now: float,
        audit: AuditRecord,
    ) -> Ack:
        async with self._chat_write() as db:
            ack = await chat_sql.delete(
                db,
                chat_id=chat_id,
                actor=actor,
                message_id=message_id,
                key=key,
                now=now,
                moderator=True,
            )
            if not ack.duplicate:
                await safety_sql.write_audit(db, audit, now)
            return ack

    async def moderate(
        self, *, chat_id: str, actor: int, data: dict[str, Any], now: float, audit: AuditRecord
    ) -> Ack:
        async with self._chat_write() as db:
            return await safety_sql.moderate(
                db, chat_id=chat_id, actor=actor, data=data, now=now, audit=audit
            )

    async def moderator_remove(
        self, *, chat_id: str, actor: int, person: int, now: float, audit: AuditRecord
    ) -> MembershipChange | None:
        async with self._chat_write() as db:
            change = await chat_sql.change_members(
                db, chat_id=chat_id, actor=actor, add=(), remove=(person,), now=now, moderator=True
            )
            if change is not None:
                await safety_sql.write_audit(db, audit, now)
            return change

    async def write_audit(self, record: AuditRecord, now: float) -> AuditEntry:
        async with self._chat_write() as db:
            return await safety_sql.write_audit(db, record, now)

    async def audit_log(self, school_id: str, *, after: int, limit: int) -> list[AuditEntry]:
        async with self._snapshot() as db:
            return await safety_sql.audit_log(db, school_id, after=after, limit=limit)

    async def create_report(
        self,
        *,
        chat_id: str,
        message_id: int,
        reporter: int,
        reason: str,
        recipients: Sequence[int],
        now: float,
    ) -> tuple[Report, bool]:
        async with self._chat_write() as db:
            return await safety_sql.create_report(
                db,
                chat_id=chat_id,
                message_id=message_id,
                reporter=reporter,
                reason=reason,
                recipients=recipients,
                now=now,
            )

    async def report(self, report_id: int) -> Report | None:
        async with self._snapshot() as db:
            return await safety_sql.report(db, report_id)

    async def report_recipients(self, report_id: int) -> set[int]:
        async with self._snapshot() as db:
            return await safety_sql.report_recipients(db, report_id)

    async def reports_for(self, oid: int, *, status: str | None, limit: int) -> list[Report]:
        async with self._snapshot() as db:
            return await safety_sql.reports_for(db, oid, status=status, limit=limit)

    async def reports_by(self, oid: int, *, limit: int) -> list[Report]:
        async with self._snapshot() as db:
            return await safety_sql.reports_by(db, oid, limit=limit)

    async def resolve_report(
        self,
        *,
        report_id: int,
        actor: int,
        outcome: ReportOutcome,
        note: str | None,
        now: float,
        audit: AuditRecord,
    ) -> tuple[Report, bool]:
        async with self._chat_write() as db:
            return await safety_sql.resolve_report(
                db,
                report_id=report_id,
                actor=actor,
                outcome=outcome,
                note=note,
                now=now,
                audit=audit,
            )

    async def school_exists(self, school_id: str) -> bool:
        async with self._snapshot() as db:
            return await safety_sql.school_exists(db, school_id)

    async def school_settings(self, school_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        async with self._snapshot() as db:
            return await safety_sql.school_settings(db, school_ids)

    async def set_school_settings(
        self, school_id: str, data: dict[str, Any], now: float, audit: AuditRecord
    ) -> None:
        async with self._chat_write() as db:
            await safety_sql.set_school_settings(db, school_id, data, now, audit)

    async def school_people(self, school_ids: Sequence[str]) -> list[Person]:
        async with self._snapshot() as db:
            return await safety_sql.school_people(db, school_ids)

    async def chat_list_of(self, oid: int) -> list[tuple[str, str, str, list[int]]]:
        async with self._snapshot() as db:
            return await safety_sql.chat_list_of(db, oid)

    async def roster_generation(self) -> int:
        async with self._snapshot() as db:
            return await chat_sql.roster_generation(db)

    async def roster_changes_after(
        self, generation: int
    ) -> list[tuple[int, list[MembershipChange]]]:
        async with self._snapshot() as db:
            return await chat_sql.roster_changes_after(db, generation)

    # -- RoomStore -----------------------------------------------------------------

    async def class_school(self, class_id: str) -> str | None:
        async with self._snapshot() as db:
            return await rooms_sql.class_school(db, class_id)

    async def create_room(
        self,
        *,
        room_id: str,
        kind: RoomKind,
        class_id: str,
        school_id: str,
        host: int,
        title: str,
        asked_title: str,
        starts_at: float | None,
        started_at: float | None,
        key: str | None,
        now: float,
    ) -> tuple[RoomRecord, MembershipChange | None]:
        async with self._chat_write() as db:
            return await rooms_sql.create_room(
                db,
                room_id=room_id,
                kind=kind,
                class_id=class_id,
                school_id=school_id,
                host=host,
                title=title,
                asked_title=asked_title,
                starts_at=starts_at,
                started_at=started_at,
                key=key,
                now=now,
            )

    async def started_room(
        self,
        *,
        host: int,
        key: str,
        class_id: str,
        kind: RoomKind,
        title: str,
        starts_at: float | None,
    ) -> RoomRecord | None:
        async with self._snapshot() as db:
            return await rooms_sql.started_room(
                db,
                host=host,
                key=key,
                class_id=class_id,
                kind=kind,
                title=title,
                starts_at=starts_at,
            )

    async def room(self, room_id: str) -> RoomRecord | None:
        async with self._snapshot() as db:
            return await rooms_sql.room(db, room_id)

    async def rooms_of_classes(self, class_ids: Sequence[str], *, limit: int) -> list[RoomRecord]:
        async with self._snapshot() as db:
            return await rooms_sql.rooms_of_classes(db, class_ids, limit=limit)

    async def open_room(self, room_id: str, now: float) -> RoomRecord:
        async with self._chat_write() as db:
            return await rooms_sql.open_room(db, room_id, now)

    async def set_cohost(self, room_id: str, cohost: int | None) -> RoomRecord:
        async with self._chat_write() as db:
            return await rooms_sql.set_cohost(db, room_id, cohost)

    async def end_room(self, room_id: str, now: float) -> RoomRecord:
        async with self._chat_write() as db:
            return await rooms_sql.end_room(db, room_id, now)

    async def enter_room(
        self, room_id: str, oid: int, role: RoomRole, now: float
    ) -> MembershipChange | None:
        async with self._chat_write() as db:
            return await rooms_sql.enter_room(db, room_id, oid, role, now)

    async def exit_room(self, room_id: str, oid: int, at: float) -> None:
        async with self._chat_write() as db:
            await rooms_sql.exit_room(db, room_id, oid, at)

    async def remove_from_room(
        self, room_id: str, oid: int, by: int, now: float
    ) -> MembershipChange | None:
        async with self._chat_write() as db:
            return await rooms_sql.remove_from_room(db, room_id, oid, by, now)

    async def room_removals(self, room_id: str) -> set[int]:
        async with self._snapshot() as db:
            return await rooms_sql.removals(db, room_id)

    async def room_attendance(self, room_id: str) -> list[AttendanceRow]:
        async with self._snapshot() as db:
            return await rooms_sql.attendance(db, room_id)

    async def close_attendance(self, now: float) -> int:
        async with self._chat_write() as db:
            return await rooms_sql.close_attendance(db, now)

    # -- browser sign-ins and sessions (web_sql) ---------------------------------

    async def put_sign_in(self, state_digest: str, sign_in: web_sql.SignIn, now: float) -> None:
        async with self.transaction() as db:
            await web_sql.put_sign_in(db, state_digest, sign_in, now)

    async def take_sign_in(self, state_digest: str) -> web_sql.SignIn | None:
        async with self.transaction() as db:
            return await web_sql.take_sign_in(db, state_digest)

    async def create_web_session(self, session: web_sql.WebSession) -> None:
        async with self.transaction() as db:
            await web_sql.create_session(db, session)

    async def web_session(self, id_digest: str) -> web_sql.WebSession | None:
        async with self._snapshot() as db:
            return await web_sql.session(db, id_digest)

    async def renew_web_session(
        self,
        id_digest: str,
        *,
        old_refresh_token: str,
        access_token: str,
        refresh_token: str,
        access_expires_at: float,
    ) -> bool:
        async with self.transaction() as db:
            return await web_sql.renew_session(
                db,
                id_digest,
                old_refresh_token=old_refresh_token,
                access_token=access_token,
                refresh_token=refresh_token,
                access_expires_at=access_expires_at,
            )

    async def end_web_session(self, id_digest: str) -> bool:
        async with self.transaction() as db:
            return await web_sql.end_session(db, id_digest)
