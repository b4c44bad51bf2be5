"""The storage interface the server codes against.

One :class:`Store` protocol, with a SQLite implementation for the embedded
default (:class:`server.store.sqlite.SqliteStore`) and, later, a PostgreSQL
one.  Which one runs is chosen at start-up from the DSN
(:func:`server.store.create_store`); the store is opened and closed in the
application's ``cleanup_ctx``.

Failures of the database itself surface as
:class:`server.errors.StoreUnavailable`; a refused roster file as
:class:`server.roster.errors.RosterError`.
"""

from __future__ import annotations

from typing import Protocol

from server.roster.diff import ImportReport
from server.roster.document import RosterDocument
from server.roster.model import DirectoryEntry, Person, Profile


class Store(Protocol):
    """Persistent state: the roster now, chats and their messages later."""

    async def open(self) -> None:
        """Connect and apply pending migrations.

        Raises ``StoreUnavailable`` if the database cannot be reached and
        ``MigrationError`` if its schema does not fit this server.
        """
        ...

    async def close(self) -> None:
        """Let running transactions finish, then disconnect.  Idempotent."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the database answers a query."""
        ...

    async def person(self, oid: int) -> Person | None:
        """The person with this ESIA OID, or ``None`` if the roster lacks them."""
        ...

    async def profile(self, oid: int) -> Profile | None:
        """The person's roles, classes and children; ``None`` if not in the roster."""
        ...

    async def import_roster(self, doc: RosterDocument) -> ImportReport:
        """Make the roster match ``doc`` within its scope, in one transaction.

        All or nothing: on any error (``RosterError`` for a file that
        conflicts with stored rows, ``StoreUnavailable``) nothing is written.
        """
        ...

    async def has_roster(self) -> bool:
        """Whether any roster (a person or a school) has been imported."""
        ...

    async def directory(self) -> list[DirectoryEntry]:
        """Everyone in the roster, sorted by school, role, class and name."""
        ...
