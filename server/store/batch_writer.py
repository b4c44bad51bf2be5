"""A SQLite connection on its own thread that runs a whole batch of writes in one hop.

Through aiosqlite every statement is a round trip to its thread and back to
the event loop.  A chat post is five statements, so under load those round
trips, not SQLite, are what a send costs.  :class:`BatchWriter` instead hands
a whole batch of jobs to its thread at once: the thread opens the
transaction, runs every job, commits (one fsync) and returns all the
results in one hop.

Each job runs in a savepoint of its own: a job that refuses (a
:class:`~server.errors.ZvonokError`) is rolled back to it, so its batch
keeps the other jobs' writes whatever the refused one had written.

The jobs are the same portable ``chat_sql`` coroutines the other paths run.
On the thread they get a :class:`ThreadSession`, whose methods do their
work before returning and so never suspend: :func:`drive` runs such a
coroutine to completion with a single ``send``.  A job that did suspend
would be a bug, and is refused rather than run on the wrong thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from server.errors import ZvonokError

from .engine import Job, Outcome
from .sql import SQLITE, Dialect, Params

T = TypeVar("T")


class ThreadSession:
    """``SqlConnection`` over a plain sqlite3 connection, used on its own thread."""

    dialect: Dialect = SQLITE

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> None:
        self._connection.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._connection.executemany(sql, list(rows))

    async def executescript(self, script: str) -> None:
        raise NotImplementedError("migrations run on the main writer")

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._connection.execute(sql, params).fetchall()]


def drive(awaitable: Awaitable[T]) -> T:
    """Run an awaitable that never suspends, on this thread, to its end."""
    steps = awaitable.__await__()
    try:
        next(steps)
    except StopIteration as done:
        result: T = done.value
        return result
    steps.close()
    raise RuntimeError("a batch job suspended; only ThreadSession calls may be awaited")


class BatchWriter:
    """One sqlite3 connection, used only from one worker thread."""

    def __init__(self, path: Path, *, synchronous: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zvonok-sqlite")
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._call(self._open)

    async def close(self) -> None:
        await self._call(self._close)
        self._executor.shutdown(wait=True)

    async def run(self, jobs: list[Job]) -> list[Outcome]:
        """Run ``jobs`` in one transaction and commit; each job's result or refusal.

        A :class:`ZvonokError` is a refusal of that job alone (rolled back to
        its savepoint); any other error rolls the batch back and is raised.
        """
        return await self._call(self._run, jobs)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def _open(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA synchronous = {self._synchronous}")
        self._connection = connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _run(self, jobs: list[Job]) -> list[Outcome]:
        connection = self._connection
        if connection is None:
            raise sqlite3.OperationalError("the batch writer is not open")
        session = ThreadSession(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            outcomes: list[Outcome] = []
            for job in jobs:
                connection.execute("SAVEPOINT post")
                try:
                    result = drive(job(session))
                except ZvonokError as refusal:
                    connection.execute("ROLLBACK TO post")
                    outcomes.append((None, refusal))
                else:
                    outcomes.append((result, None))
                connection.execute("RELEASE post")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return outcomes
