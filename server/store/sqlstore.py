"""The one store: every method of :class:`~server.store.base.Store` written
once, over an :class:`~server.store.engine.Engine`.

Most methods are a transaction function of the ``*_sql.py`` modules run by
the engine, and are declared as such in one line (:class:`_Read`,
:class:`_Write`): the function's own signature, less its connection, is the
method's, and mypy checks it against the protocol.  The few that do more
(chat posts, which share commits; the roster import, whose errors mean
something to its caller) are written out below them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from server.errors import StoreUnavailable
from server.model.chats import Ack, MembershipChange
from server.roster.authority import Importer
from server.roster.diff import ImportReport, RosterChanges
from server.roster.document import MAX_OID, RosterDocument
from server.roster.errors import RosterError, RosterIssue
from server.roster.model import OID, DirectoryEntry, Person, Profile
from server.roster.views import build_directory, build_profile

from . import chat_sql, retention, rooms_sql, roster_import, roster_sql, safety_sql, web_sql
from .engine import Engine, Job, Outcome
from .errors import IntegrityViolation
from .group_commit import GroupCommit
from .migrate import Migration
from .sql import Dialect, SqlConnection, exclusive, table_names

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

TxnFunction = Callable[Concatenate[SqlConnection, P], Awaitable[T]]

Imported = tuple[RosterChanges, list[MembershipChange], tuple[str, ...]]
"""What an import wrote: the table changes, the roster chats' changes, what was kept."""

ROSTER_LOCK = "roster"
"""The lock a roster import holds: one import at a time across all nodes."""


class _Read(Generic[P, T]):
    """A store method that runs ``function`` in a read snapshot."""

    def __init__(self, function: TxnFunction[P, T]) -> None:
        self.function = function

    @overload
    def __get__(self, store: None, owner: type[Any]) -> _Read[P, T]: ...

    @overload
    def __get__(self, store: SqlStore, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, store: SqlStore | None, owner: type[Any]) -> Any:
        if store is None:
            return self
        function = self.function
        engine = store.engine

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await engine.read(lambda db: function(db, *args, **kwargs))

        method.__doc__ = function.__doc__
        return method


class _Write(Generic[P, T]):
    """A store method that runs ``function`` in a write transaction.

    The checks come before the writes, so a broken constraint means a bug or
    a damaged database, not a request to refuse: it is logged and reported as
    ``StoreUnavailable``.  Either way nothing is written.
    """

    def __init__(self, function: TxnFunction[P, T]) -> None:
        self.function = function

    @overload
    def __get__(self, store: None, owner: type[Any]) -> _Write[P, T]: ...

    @overload
    def __get__(self, store: SqlStore, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, store: SqlStore | None, owner: type[Any]) -> Any:
        if store is None:
            return self
        function = self.function
        engine = store.engine

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await engine.write(lambda db: function(db, *args, **kwargs))
            except IntegrityViolation as exc:
                _log.error("the database refused a change: %s", exc, exc_info=True)
                raise StoreUnavailable() from exc

        method.__doc__ = function.__doc__
        return method


@dataclasses.dataclass(frozen=True, slots=True)
class _Post:
    """A chat post waiting for its batch; batches run their posts in chat
    order, so two nodes' batches lock chats in one order and cannot deadlock."""

    chat_id: str
    run: Job

    def __call__(self, db: SqlConnection) -> Awaitable[Any]:
        return self.run(db)


class SqlStore:
    """The :class:`~server.store.base.Store` over any engine."""

    def __init__(self, engine: Engine, *, migrations: tuple[Migration, ...] | None = None) -> None:
        self.engine = engine
        self._migrations = migrations
        self._posts: GroupCommit[SqlConnection] = GroupCommit(self._run_batch)
        # Told each batch's size and commit time (seconds): /metrics.
        self.batch_observer: Callable[[int, float], None] | None = None

    @property
    def dialect(self) -> Dialect:
        return self.engine.dialect

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine!r})"

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Connect, migrate, and bring the roster chats up to the roster."""
        await self.engine.open(self._migrations)
        try:
            await self._sync_roster_chats()
        except BaseException:
            await self.engine.close()
            raise

    async def close(self) -> None:
        """Wait for queued posts to be committed, then disconnect."""
        await self._posts.close()
        await self.engine.close()

    def transaction(self) -> AbstractAsyncContextManager[SqlConnection]:
        """A write transaction as a block, run once (for tests and tools)."""
        return self.engine.transaction()

    async def schema_version(self) -> int:
        """The newest migration applied to the database."""
        rows = await self.engine.read(
            lambda db: db.fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        )
        return int(rows[0][0])

    async def ping(self) -> None:
        await self.engine.read(lambda db: db.fetchall("SELECT COUNT(*) FROM schema_migrations"))

    async def _sync_roster_chats(self) -> None:
        """Give a roster imported before the chats existed its roster chats.

        A no-op when the chats already follow the roster, which is the case
        after every import; skipped for a schema without chats (a test's
        own migrations).
        """

        async def sync(db: SqlConnection) -> int:
            if "chats" not in await table_names(db):
                return 0
            await exclusive(db, ROSTER_LOCK)
            changes = await chat_sql.sync_roster_chats(db, time.time())
            if changes:
                await chat_sql.record_roster_changes(db, changes, time.time())
            return len(changes)

        changed = await self.engine.write(sync)
        if changed:
            _log.info("roster chats brought up to date: %d changed", changed)

    # -- the roster ----------------------------------------------------------

    async def person(self, oid: int) -> Person | None:
        if not 0 < oid <= MAX_OID:  # could not have been imported; the column would overflow
            return None
        return await self.engine.read(lambda db: roster_sql.load_person(db, OID(oid)))

    async def profile(self, oid: int) -> Profile | None:
        if not 0 < oid <= MAX_OID:
            return None
        rows = await self.engine.read(lambda db: roster_sql.load_around(db, OID(oid)))
        return build_profile(rows, OID(oid))

    has_roster = _Read(roster_sql.has_roster)
    roster_rows = _Read(roster_sql.load_all)

    async def directory(self) -> list[DirectoryEntry]:
        return build_directory(await self.roster_rows())

    async def import_roster(
        self, doc: RosterDocument, importer: Importer | None = None
    ) -> ImportReport:
        """Diff ``doc`` against the stored rows and apply it, in one transaction.

        The rows are read inside the write transaction, after taking the
        roster lock, so no other import can change them between the diff,
        the check of an admin's upload and the writes.  The roster chats and
        the audit rows follow in the same transaction; the chats' membership
        changes are the report's ``chats``.  An admin's refused upload leaves
        its ``roster.refused`` rows (:meth:`audit_roster_refusal`) once the
        import is rolled back.
        """

        async def run(db: SqlConnection) -> Imported:
            await exclusive(db, ROSTER_LOCK)
            return await roster_import.import_document(db, doc, importer, time.time())

        try:
            try:
                changes, chats, kept = await self.engine.write(run)
            except IntegrityViolation as exc:
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
        await self.engine.write(
            lambda db: roster_import.record_refusal(db, error, importer, time.time())
        )

    # -- ChatStore -------------------------------------------------------------

    chat_positions = _Read(chat_sql.chat_positions)
    is_member = _Read(chat_sql.is_member)
    replayed = _Read(chat_sql.replayed)
    chats = _Read(chat_sql.summaries)
    chat = _Read(chat_sql.summary)
    members = _Read(chat_sql.members)
    chat_members = _Read(chat_sql.chat_members)
    contacts = _Read(chat_sql.contacts)
    events = _Read(chat_sql.events)
    member_events = _Read(chat_sql.member_events)
    events_for = _Read(chat_sql.events_for)
    removal_after = _Read(chat_sql.removal_after)
    message_versions = _Read(chat_sql.message_versions)
    last_seen = _Read(chat_sql.last_seen)

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
        commit), each in a savepoint of its own."""

        async def job(db: SqlConnection) -> Ack:
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

        return await self._posts.run(_Post(chat_id, job))

    async def _run_batch(
        self, jobs: list[Callable[[SqlConnection], Awaitable[Any]]]
    ) -> list[Outcome]:
        """One transaction for ``jobs``, in chat order; outcomes in the jobs' order."""
        order = sorted(
            range(len(jobs)),
            key=lambda i: (job.chat_id if isinstance(job := jobs[i], _Post) else "", i),
        )
        started = time.perf_counter()
        try:
            outcomes = await self.engine.run_batch([jobs[i] for i in order])
        except IntegrityViolation as exc:
            _log.error("the database refused a chat post: %s", exc, exc_info=True)
            raise StoreUnavailable() from exc
        if self.batch_observer is not None:
            self.batch_observer(len(jobs), time.perf_counter() - started)
        result: list[Outcome] = [(None, None)] * len(jobs)
        for position, index in enumerate(order):
            result[index] = outcomes[position]
        return result

    edit = _Write(chat_sql.edit)
    delete = _Write(chat_sql.delete)
    react = _Write(chat_sql.react)
    mark_read = _Write(chat_sql.mark_read)
    open_direct = _Write(chat_sql.open_direct)
    create_group = _Write(chat_sql.create_group)
    change_members = _Write(chat_sql.change_members)
    set_last_seen = _Write(chat_sql.set_last_seen)

    # -- SafetyStore -------------------------------------------------------------

    chat_facts = _Read(safety_sql.chat_facts)
    school_admins = _Read(safety_sql.school_admins)
    class_teachers = _Read(safety_sql.class_teachers)
    moderator_delete = _Write(safety_sql.moderator_delete)
    moderate = _Write(safety_sql.moderate)
    moderator_remove = _Write(safety_sql.moderator_remove)
    write_audit = _Write(safety_sql.write_audit)
    audit_log = _Read(safety_sql.audit_log)
    create_report = _Write(safety_sql.create_report)
    report = _Read(safety_sql.report)
    report_recipients = _Read(safety_sql.report_recipients)
    reports_for = _Read(safety_sql.reports_for)
    reports_by = _Read(safety_sql.reports_by)
    resolve_report = _Write(safety_sql.resolve_report)
    school_exists = _Read(safety_sql.school_exists)
    school_settings = _Read(safety_sql.school_settings)
    set_school_settings = _Write(safety_sql.set_school_settings)
    school_people = _Read(safety_sql.school_people)
    chat_list_of = _Read(safety_sql.chat_list_of)
    roster_generation = _Read(chat_sql.roster_generation)
    roster_changes_after = _Read(chat_sql.roster_changes_after)

    # -- RoomStore -----------------------------------------------------------------

    class_school = _Read(rooms_sql.class_school)
    create_room = _Write(rooms_sql.create_room)
    started_room = _Read(rooms_sql.started_room)
    room = _Read(rooms_sql.room)
    rooms_of_classes = _Read(rooms_sql.rooms_of_classes)
    open_room = _Write(rooms_sql.open_room)
    set_cohost = _Write(rooms_sql.set_cohost)
    end_room = _Write(rooms_sql.end_room)
    enter_room = _Write(rooms_sql.enter_room)
    exit_room = _Write(rooms_sql.exit_room)
    remove_from_room = _Write(rooms_sql.remove_from_room)
    room_removals = _Read(rooms_sql.removals)
    room_attendance = _Read(rooms_sql.attendance)
    close_attendance = _Write(rooms_sql.close_attendance)
    open_attendance_nodes = _Read(rooms_sql.open_attendance_nodes)

    # -- retention -------------------------------------------------------------------

    sweep = _Write(retention.sweep)

    # -- browser sign-ins and sessions (web_sql) ---------------------------------

    put_sign_in = _Write(web_sql.put_sign_in)
    take_sign_in = _Write(web_sql.take_sign_in)
    create_web_session = _Write(web_sql.create_session)
    web_session = _Read(web_sql.session)
    renew_web_session = _Write(web_sql.renew_session)
    end_web_session = _Write(web_sql.end_session)
