"""The storage interface the server codes against.

One :class:`Store` protocol, implemented once
(:class:`server.store.sqlstore.SqlStore`) over two engines: SQLite for the
embedded default, PostgreSQL for several nodes.  Which one runs is chosen at start-up from the DSN
(:func:`server.store.create_store`); the store is opened and closed in the
application's ``cleanup_ctx``.

Failures of the database itself surface as
:class:`server.errors.StoreUnavailable`; a refused roster file as
:class:`server.roster.errors.RosterError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from server.model.chats import Ack, ChatEvent, ChatMember, ChatSummary, MembershipChange, Retry
from server.model.rooms import AttendanceRow, RoomKind, RoomRecord, RoomRole
from server.model.safety import AuditEntry, AuditRecord, ChatFacts, Outcome, Report
from server.roster.authority import Importer
from server.roster.diff import ImportReport
from server.roster.document import RosterDocument
from server.roster.errors import RosterError
from server.roster.model import DirectoryEntry, Person, Profile
from server.roster.rows import RosterRows
from server.store.retention import Swept

from .web_sql import SignIn, WebSession


class ChatStore(Protocol):
    """Chats, their members and their event logs (see server/model/chats.py).

    Every mutating method runs in one write transaction: it checks what it
    must (membership, authorship, the idempotency key), takes the chat's
    next sequence number, stores the event and commits before returning.
    A refusal raises a :class:`~server.errors.ZvonokError` from
    :mod:`server.errors.chats` and stores nothing.

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

    async def chat_members(self, chat_id: str) -> list[ChatMember]:
        """The chat's members with their names and mutes, by OID; empty for no such chat."""
        ...

    async def replayed(self, retry: Retry) -> Ack | None:
        """The first ack of a refused request if its key stored it already."""
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
        No membership check: for moderators' reads, whose right the caller
        checks; a member's reads go through :meth:`member_events` and
        :meth:`events_for`.
        """
        ...

    async def member_events(
        self,
        chat_id: str,
        reader: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 100,
    ) -> list[ChatEvent] | None:
        """:meth:`events` if ``reader`` is a member of the chat, ``None`` if
        not, decided in the same snapshot as the read (so a removal cannot
        fall between the check and the page)."""
        ...

    async def events_for(
        self, chat_id: str, reader: int, *, after: int, limit: int
    ) -> tuple[list[ChatEvent], bool]:
        """The first ``limit`` events after ``after`` that ``reader`` may
        receive (a catch-up), and whether they end at the reader's removal.

        A member receives every event (one added again sees the chat as
        any member added later does); anyone else the events up to and
        including the ``members`` event that next removed them, and nothing
        after it.  Decided in one snapshot with the read.
        """
        ...

    async def removal_after(self, chat_id: str, oid: int, after: int) -> int | None:
        """The seq of the first event after ``after`` that removed ``oid``
        from the chat; ``None`` if there is none or ``oid`` is a member now."""
        ...

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
        """Post a message (``chat.not_found``, ``message.not_found`` for reply_to,
        ``moderation.muted``, ``moderation.announcements_only`` unless ``moderator``)."""
        ...

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


class SafetyStore(Protocol):
    """Moderation, reports, the audit log and school settings (docs/safety.md).

    Who may act was decided by the caller (``server/safety``); each change
    writes its audit row in its own transaction.
    """

    async def chat_facts(self, chat_id: str) -> ChatFacts | None: ...

    async def school_admins(self, school_ids: Sequence[str]) -> set[int]: ...

    async def class_teachers(self, class_id: str) -> set[int]: ...

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
        """Delete anyone's message as the chat's moderator."""
        ...

    async def moderate(
        self, *, chat_id: str, actor: int, data: dict[str, Any], now: float, audit: AuditRecord
    ) -> Ack:
        """Append a ``moderation`` event and apply it (mute, announcements, pin...)."""
        ...

    async def moderator_remove(
        self, *, chat_id: str, actor: int, person: int, now: float, audit: AuditRecord
    ) -> MembershipChange | None:
        """Remove a member of a group as its moderator."""
        ...

    async def write_audit(self, record: AuditRecord, now: float) -> AuditEntry: ...

    async def audit_log(self, school_id: str, *, after: int, limit: int) -> list[AuditEntry]: ...

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
        """A member's report, keeping the text; ``(first report, False)`` on a repeat."""
        ...

    async def report(self, report_id: int) -> Report | None: ...

    async def report_recipients(self, report_id: int) -> set[int]: ...

    async def reports_for(
        self,
        oid: int,
        *,
        schools: Sequence[str],
        status: str | None,
        before: int | None,
        limit: int,
    ) -> list[Report]:
        """Reports ``oid`` may moderate (sent to her, or of a chat of ``schools``), newest first."""
        ...

    async def reports_by(self, oid: int, *, limit: int) -> list[Report]: ...

    async def resolve_report(
        self,
        *,
        report_id: int,
        actor: int,
        outcome: Outcome,
        note: str | None,
        now: float,
        audit: AuditRecord,
    ) -> tuple[Report, bool]: ...

    async def school_exists(self, school_id: str) -> bool: ...

    async def school_settings(self, school_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def set_school_settings(
        self, school_id: str, data: dict[str, Any], now: float, audit: AuditRecord
    ) -> None: ...

    async def school_people(self, school_ids: Sequence[str]) -> list[Person]: ...

    async def chat_list_of(self, oid: int) -> list[tuple[str, str, str, list[int]]]: ...

    async def roster_generation(self) -> int: ...

    async def roster_changes_after(
        self, generation: int
    ) -> list[tuple[int, list[MembershipChange]]]: ...


class RoomStore(Protocol):
    """Rooms (lessons and meetings), their attendance and removals.

    What a room is doing now lives in memory (``server/rooms``); this keeps
    what outlives a restart.  A room's chat is a group owned by its host:
    entering a room adds the person to it, and a removal takes them out, in
    the same transaction as the attendance row.  A room that does not exist
    raises ``room.not_found``.
    """

    async def class_school(self, class_id: str) -> str | None:
        """The school of a roster class; ``None`` for no such class."""
        ...

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
        """A new room and its chat, whose one member is the host; with
        ``key``, the room that key's start made, and no change.  ``title`` is
        stored (as the content filter left it); ``asked_title``, as the start
        asked it, is what a retry with the key is compared by."""
        ...

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
        """The room a start with ``key`` made already (``idempotency.conflict``
        if the key was used for another request)."""
        ...

    async def room(self, room_id: str) -> RoomRecord | None: ...

    async def rooms_of_classes(self, class_ids: Sequence[str], *, limit: int) -> list[RoomRecord]:
        """The rooms of these classes, newest first."""
        ...

    async def open_room(self, room_id: str, now: float) -> RoomRecord:
        """Mark a scheduled room as started (the first time only)."""
        ...

    async def set_cohost(self, room_id: str, cohost: int | None) -> RoomRecord: ...

    async def end_room(self, room_id: str, now: float) -> RoomRecord:
        """End the room (the first time only) and close every open interval."""
        ...

    async def enter_room(
        self, room_id: str, oid: int, role: RoomRole, now: float, node: str = ""
    ) -> MembershipChange | None:
        """Open an attendance interval (``node``: the room's) and add the
        person to the room's chat."""
        ...

    async def exit_room(self, room_id: str, oid: int, at: float) -> None:
        """Close the person's open interval at ``at``."""
        ...

    async def remove_from_room(
        self, room_id: str, oid: int, by: int, now: float
    ) -> MembershipChange | None:
        """Close the interval, keep the person out for good, take them out of the chat."""
        ...

    async def room_removals(self, room_id: str) -> set[int]: ...

    async def room_attendance(self, room_id: str) -> list[AttendanceRow]:
        """Every interval, in the order people came."""
        ...

    async def close_attendance(self, now: float, nodes: Sequence[str] | None = None) -> int:
        """Close the open intervals these nodes opened, or all (nobody is
        present after the only node restarts)."""
        ...

    async def open_attendance_nodes(self) -> list[str]:
        """The nodes that opened an interval still open."""
        ...


class WebSessionStore(Protocol):
    """Browser sign-ins under way and signed-in browsers (``server/signin/session.py``).

    Secrets arrive as SHA-256 digests, except the ESIA tokens kept for renewal.
    """

    async def put_sign_in(self, state_digest: str, sign_in: SignIn, now: float) -> None: ...

    async def take_sign_in(self, state_digest: str) -> SignIn | None:
        """The sign-in of this state, deleted in the same transaction (good once)."""
        ...

    async def create_web_session(self, session: WebSession) -> None: ...

    async def web_session(self, id_digest: str) -> WebSession | None: ...

    async def renew_web_session(
        self,
        id_digest: str,
        *,
        old_refresh_token: str,
        access_token: str,
        refresh_token: str,
        access_expires_at: float,
    ) -> bool:
        """Swap the tokens if the refresh token is still the old one (compare and set)."""
        ...

    async def end_web_session(self, id_digest: str) -> bool: ...


class Store(ChatStore, SafetyStore, RoomStore, WebSessionStore, Protocol):
    """Persistent state: the roster, the chats and the rooms."""

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

    async def import_roster(
        self, doc: RosterDocument, importer: Importer | None = None
    ) -> ImportReport:
        """Make the roster match ``doc`` within its scope, in one transaction,
        as ``importer`` (``None``: the demo seed, with no audit rows).

        All or nothing: on any error (``RosterError`` for a file that
        conflicts with stored rows, ``RosterOutsideSchool`` for an admin's
        upload that reaches past their schools, ``StoreUnavailable``)
        nothing is written.  An admin's refused upload is audited
        (:meth:`audit_roster_refusal`).
        """
        ...

    async def audit_roster_refusal(self, error: RosterError, importer: Importer) -> None:
        """Write the ``roster.refused`` audit rows of an admin's refused
        upload: in the uploader's schools, the stored schools ``error`` names
        and the schools the people it names belong to."""
        ...

    async def has_roster(self) -> bool:
        """Whether any roster (a person or a school) has been imported."""
        ...

    async def directory(self) -> list[DirectoryEntry]:
        """Everyone in the roster, sorted by school, role, class and name."""
        ...

    async def roster_rows(self) -> RosterRows:
        """Every row of every roster table, from one snapshot."""
        ...

    async def sweep(self, *, now: float, idempotency_keys: float) -> Swept:
        """Delete what the retention settings let go: idempotency keys older
        than ``idempotency_keys`` seconds (docs/chats.md, "Retention")."""
        ...
