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

from collections.abc import Sequence
from typing import Protocol

from server.chats.model import Ack, ChatEvent, ChatSummary, MembershipChange
from server.roster.diff import ImportReport
from server.roster.document import RosterDocument
from server.roster.model import DirectoryEntry, Person, Profile


class ChatStore(Protocol):
    """Chats, their members and their event logs (see server/chats/model.py).

    Every mutating method runs in one write transaction: it checks what it
    must (membership, authorship, the idempotency key), takes the chat's
    next sequence number, stores the event and commits before returning.
    A refusal raises a :class:`~server.errors.ZvonokError` from
    :mod:`server.chats.errors` and stores nothing.

    Idempotency keys are per person: the same ``(person, key)`` with the same
    request returns the first :class:`Ack` again with ``duplicate=True``;
    with a different request it raises ``idempotency.conflict``.
    """

    async def chat_positions(self, oid: int) -> dict[str, int]:
        """``{chat id: last_seq}`` for every chat ``oid`` is a member of."""
        ...

    async def is_member(self, chat_id: str, oid: int) -> bool: ...

    async def chats(self, oid: int) -> list[ChatSummary]:
        """The person's chats, the most recently active first."""
        ...

    async def chat(self, oid: int, chat_id: str) -> ChatSummary:
        """One chat as ``oid`` sees it; ``chat.not_found`` unless a member."""
        ...

    async def members(self, chat_id: str) -> list[int]:
        """The OIDs of the chat's members, ascending; empty for no such chat."""
        ...

    async def contacts(self, oid: int) -> set[int]:
        """Everyone who shares at least one chat with ``oid`` (not ``oid``)."""
        ...

    async def events(
        self, chat_id: str, *, after: int = 0, before: int | None = None, limit: int = 100
    ) -> list[ChatEvent]:
        """Events in ascending ``seq`` order.

        With ``before``: the last ``limit`` events with ``after < seq <
        before``; without: the first ``limit`` events with ``seq > after``.
        No membership check: callers check first.
        """
        ...

    async def post(
        self, *, chat_id: str, author: int, text: str, reply_to: int | None, key: str, now: float
    ) -> Ack:
        """Post a message (``chat.not_found``, ``message.not_found`` for reply_to)."""
        ...

    async def edit(
        self, *, chat_id: str, author: int, message_id: int, text: str, key: str | None, now: float
    ) -> Ack:
        """Edit one's own message, keeping the earlier text as a version."""
        ...

    async def delete(
        self, *, chat_id: str, actor: int, message_id: int, key: str | None, now: float
    ) -> Ack:
        """Delete one's own message: its text and versions go, its events stay."""
        ...

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
        """Add (``on``) or take back a reaction."""
        ...

    async def message_versions(self, chat_id: str, message_id: int) -> list[tuple[int, str, float]]:
        """``(version, text, at)`` of every version, oldest first; empty once deleted."""
        ...

    async def mark_read(self, *, chat_id: str, oid: int, seq: int) -> int:
        """Move the read position forward (never back, never past last_seq)."""
        ...

    async def open_direct(
        self, *, a: int, b: int, now: float
    ) -> tuple[ChatSummary, MembershipChange | None]:
        """The direct chat of ``a`` and ``b`` as ``a`` sees it, made if new."""
        ...

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
        """A new group owned by ``creator``, who is always a member."""
        ...

    async def change_members(
        self, *, chat_id: str, actor: int, add: Sequence[int], remove: Sequence[int], now: float
    ) -> MembershipChange | None:
        """Add and remove group members (owner only); ``None`` if nothing changed."""
        ...

    async def set_last_seen(self, oid: int, at: float) -> None: ...

    async def last_seen(self, oids: Sequence[int]) -> dict[int, float]: ...


class Store(ChatStore, Protocol):
    """Persistent state: the roster and the chats."""

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
