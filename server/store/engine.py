"""The seam between the one store and a database engine, as Synapse has it.

The store (:class:`server.store.sqlstore.SqlStore`) and its SQL (the
``*_sql.py`` modules) are written once.  An :class:`Engine` supplies the
rest: connections, the transactions they run in, how a batch of chat posts
shares one commit, the dialect the SQL is given, and what happens when the
database says a transaction lost a race (a serialisation failure or a
deadlock: the engine runs it again, which is why a transaction function may
be run more than once and must do nothing but its SQL).

An engine translates its driver's errors where they enter: a database that
cannot be used is :class:`server.errors.StoreUnavailable`, a broken
constraint :class:`server.store.errors.IntegrityViolation`; the store never
sees a driver's exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from server.errors import ZvonokError

from .migrate import Migration
from .sql import Dialect, SqlConnection

T = TypeVar("T")

Job = Callable[[SqlConnection], Awaitable[Any]]
"""One chat post of a batch: a transaction function over the batch's connection."""

Outcome = tuple[Any, ZvonokError | None]
"""A job's result, or the refusal it raised (and nothing of it was kept)."""

MAX_ATTEMPTS = 8
"""How many times an engine runs a transaction that keeps losing races."""


class Engine(Protocol):
    """Connections, transactions and dialect of one database."""

    @property
    def dialect(self) -> Dialect: ...

    async def open(self, migrations: tuple[Migration, ...] | None) -> None:
        """Connect and bring the schema up to ``migrations`` (the bundled
        ones for ``None``), serialised with every other server doing so."""
        ...

    async def close(self) -> None:
        """Let running transactions finish, then disconnect.  Idempotent."""
        ...

    async def read(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        """Run ``function`` in a read-only transaction: one committed snapshot."""
        ...

    async def write(self, function: Callable[[SqlConnection], Awaitable[T]]) -> T:
        """Run ``function`` in a write transaction and commit; run it again
        if the database made it lose a race."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[SqlConnection]:
        """A write transaction as a block (committed at its end, rolled back
        if it raises), run once: for tests and tools."""
        ...

    async def run_batch(self, jobs: list[Job]) -> list[Outcome]:
        """Run ``jobs`` in one transaction, each in a savepoint of its own,
        and commit: each job's result or refusal.

        A job that raises a :class:`ZvonokError` is rolled back to its
        savepoint and gets the error; the others keep their writes.  Any
        other error rolls the whole batch back and is raised (after the
        retries a lost race gets).
        """
        ...
