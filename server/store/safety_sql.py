"""Moderation, reports, the audit log and school settings, in portable SQL.

Like :mod:`server.store.chat_sql`, every function runs inside a transaction
the store opened.  Who may do what was decided before these run
(``server/safety``); what they check is that the thing acted on exists and
is in the state the action needs, and they write the audit row in the same
transaction as the action, so the log never misses a committed action nor
records one that was rolled back.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Sequence
from typing import Any

from server.errors import safety as se
from server.errors.chats import chat_not_found, message_not_found
from server.model.chats import Ack, ChatEvent, ChatKind, EventKind, MembershipChange
from server.model.safety import AuditEntry, AuditRecord, ChatFacts, Outcome, Report
from server.roster.model import Person

from . import chat_sql
from .chat_sql import valid_oid
from .roster_sql import person_from_row
from .sql import SqlConnection, fetch_in, placeholders

_REPORT = (
    "SELECT id, chat_id, message_id, reporter_oid, author_oid, text, reason, created_at, "
    "status, outcome, resolved_by, resolved_at, note FROM reports"
)


# Everyone with a role in the schools of the IN list ({0}, bound three times).
_SCHOOL_PEOPLE = (
    "SELECT oid, last_name, first_name, middle_name, birth_date FROM people WHERE oid IN ("
    "SELECT person_oid FROM staff WHERE school_id IN ({0}) "
    "UNION SELECT person_oid FROM class_members WHERE school_id IN ({0}) "
    "UNION SELECT g.parent_oid FROM guardians g JOIN class_members cm "
    "ON cm.person_oid = g.child_oid WHERE cm.school_id IN ({0}))"
)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------
# Chats as the checks see them
# --------------------------------------------------------------------------


async def chat_facts(db: SqlConnection, chat_id: str) -> ChatFacts | None:
    rows = await db.fetchall(
        "SELECT kind, school_id, class_id, owner_oid, announcements, pinned FROM chats "
        "WHERE id = ?",
        (chat_id,),
    )
    if not rows:
        return None
    kind, school_id, class_id, owner, announcements, pinned = rows[0]
    members = await db.fetchall(
        "SELECT m.person_oid, p.birth_date FROM chat_members m "
        "LEFT JOIN people p ON p.oid = m.person_oid WHERE m.chat_id = ? ORDER BY m.person_oid",
        (chat_id,),
    )
    births = [str(b) for _, b in members if b is not None]
    return ChatFacts(
        id=chat_id,
        kind=ChatKind(kind),
        school_id=school_id,
        class_id=class_id,
        owner=None if owner is None else int(owner),
        announcements=bool(announcements),
        pinned=None if pinned is None else int(pinned),
        members=tuple(int(oid) for oid, _ in members),
        youngest=datetime.date.fromisoformat(max(births)) if births else None,
    )


async def school_admins(db: SqlConnection, school_ids: Iterable[str]) -> set[int]:
    rows = await fetch_in(
        db,
        "SELECT person_oid FROM staff WHERE role = 'admin' AND school_id IN ({})",
        sorted(set(school_ids)),
    )
    return {int(oid) for (oid,) in rows}


async def class_teachers(db: SqlConnection, class_id: str) -> set[int]:
    rows = await db.fetchall(
        "SELECT class_teacher_oid FROM classes WHERE id = ? AND class_teacher_oid IS NOT NULL "
        "UNION SELECT person_oid FROM subject_teachers WHERE class_id = ?",
        (class_id, class_id),
    )
    return {int(oid) for (oid,) in rows}


# --------------------------------------------------------------------------
# Moderation
# --------------------------------------------------------------------------


# The id is the table's identity (0006_identities): ascending in the order
# rows are written.
_INSERT_AUDIT = (
    "INSERT INTO audit_log (at, school_id, actor_oid, action, chat_id, target_oid, "
    "message_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _audit_values(record: AuditRecord, now: float) -> tuple[Any, ...]:
    return (
        now,
        record.school_id,
        record.actor,
        record.action,
        record.chat_id,
        record.target,
        record.message_id,
        _dumps(record.details),
    )


async def write_audit(db: SqlConnection, record: AuditRecord, now: float) -> AuditEntry:
    rows = await db.fetchall(f"{_INSERT_AUDIT} RETURNING id", _audit_values(record, now))
    return AuditEntry(int(rows[0][0]), now, record)


async def write_audits(db: SqlConnection, records: Sequence[AuditRecord], now: float) -> None:
    """Many audit rows at once, in order (a roster import's changes)."""
    await db.executemany(_INSERT_AUDIT, [_audit_values(record, now) for record in records])


async def audit_log(
    db: SqlConnection, school_id: str, *, after: int, limit: int
) -> list[AuditEntry]:
    rows = await db.fetchall(
        "SELECT id, at, school_id, actor_oid, action, chat_id, target_oid, message_id, details "
        "FROM audit_log WHERE school_id = ? AND id > ? ORDER BY id LIMIT ?",
        (school_id, chat_sql.clamp(after), chat_sql.clamp(limit)),
    )
    return [
        AuditEntry(
            int(entry_id),
            float(at),
            AuditRecord(
                school_id=school,
                actor=int(actor),
                action=str(action),
                chat_id=chat,
                target=None if target is None else int(target),
                message_id=None if message_id is None else int(message_id),
                details=json.loads(details),
            ),
        )
        for entry_id, at, school, actor, action, chat, target, message_id, details in rows
    ]


async def moderate(
    db: SqlConnection,
    *,
    chat_id: str,
    actor: int,
    data: dict[str, Any],
    now: float,
    audit: AuditRecord,
) -> Ack:
    """Apply one ``moderation`` event (mute, unmute, announcements, pin,
    unpin) to the chat's state, append it, and audit it."""
    await chat_sql.lock_chat(db, chat_id)
    action = data["action"]
    if action in ("mute", "unmute"):
        person = int(data["person"])
        if not await chat_sql.is_member(db, chat_id, person):
            raise se.invalid(f"person {person} is not a member of this chat")
        until = data.get("until") if action == "mute" else None
        await db.execute(
            "UPDATE chat_members SET muted_until = ? WHERE chat_id = ? AND person_oid = ?",
            (until, chat_id, person),
        )
    elif action == "announcements":
        await db.execute(
            "UPDATE chats SET announcements = ? WHERE id = ?", (int(bool(data["on"])), chat_id)
        )
    elif action == "pin":
        message = await chat_sql.any_message(db, chat_id, int(data["id"]))
        if message.deleted:
            raise message_not_found(chat_id, int(data["id"]))
        await db.execute("UPDATE chats SET pinned = ? WHERE id = ?", (int(data["id"]), chat_id))
    elif action == "unpin":
        await db.execute("UPDATE chats SET pinned = NULL WHERE id = ?", (chat_id,))
    else:  # pragma: no cover - the service only builds the actions above
        raise se.invalid(f"unknown moderation action {action!r}")
    seq = await chat_sql.next_seq_any(db, chat_id)
    message_id = int(data["id"]) if "id" in data else None
    await db.execute(
        "INSERT INTO chat_events (chat_id, seq, kind, author_oid, at, message_id, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (chat_id, seq, EventKind.MODERATION.value, actor, now, message_id, _dumps(data)),
    )
    await write_audit(db, audit, now)
    event = ChatEvent(chat_id, seq, EventKind.MODERATION, actor, now, data)
    return Ack(event)


async def moderator_delete(
    db: SqlConnection,
    *,
    chat_id: str,
    actor: int,
    message_id: int,
    key: str | None,
    now: float,
    audit: AuditRecord,
) -> Ack:
    """Delete anyone's message as the chat's moderator, audited (a retry
    with the key is not audited again)."""
    ack = await chat_sql.delete(
        db, chat_id=chat_id, actor=actor, message_id=message_id, key=key, now=now, moderator=True
    )
    if not ack.duplicate:
        await write_audit(db, audit, now)
    return ack


async def moderator_remove(
    db: SqlConnection, *, chat_id: str, actor: int, person: int, now: float, audit: AuditRecord
) -> MembershipChange | None:
    """Remove a member of a group as its moderator, audited if it changed anything."""
    change = await chat_sql.change_members(
        db, chat_id=chat_id, actor=actor, add=(), remove=(person,), now=now, moderator=True
    )
    if change is not None:
        await write_audit(db, audit, now)
    return change


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------


def _report(row: Sequence[Any]) -> Report:
    (rid, chat_id, message_id, reporter, author, text, reason, created_at, status) = row[:9]
    outcome, resolved_by, resolved_at, note = row[9:]
    return Report(
        id=int(rid),
        chat_id=str(chat_id),
        message_id=int(message_id),
        reporter=int(reporter),
        author=int(author),
        text=str(text),
        reason=str(reason),
        created_at=float(created_at),
        status=str(status),
        outcome=None if outcome is None else Outcome(outcome),
        resolved_by=None if resolved_by is None else int(resolved_by),
        resolved_at=None if resolved_at is None else float(resolved_at),
        note=note,
    )


async def create_report(
    db: SqlConnection,
    *,
    chat_id: str,
    message_id: int,
    reporter: int,
    reason: str,
    recipients: Iterable[int],
    now: float,
) -> tuple[Report, bool]:
    """A report of a message by a member; ``(report, False)`` if this member
    had reported it before.  The message's current text is kept with it."""
    if not await chat_sql.is_member(db, chat_id, reporter):
        raise chat_not_found(chat_id)
    if not valid_oid(message_id):
        raise message_not_found(chat_id, message_id)
    existing = await db.fetchall(
        f"{_REPORT} WHERE chat_id = ? AND message_id = ? AND reporter_oid = ?",
        (chat_id, message_id, reporter),
    )
    if existing:
        return _report(existing[0]), False
    message = await chat_sql.any_message(db, chat_id, message_id)
    if message.deleted or message.text is None:
        raise chat_sql.deleted_conflict(chat_id, message_id)
    made = await db.fetchall(
        "INSERT INTO reports (chat_id, message_id, reporter_oid, author_oid, text, reason, "
        "created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'open') "
        "ON CONFLICT (chat_id, message_id, reporter_oid) DO NOTHING RETURNING id",
        (chat_id, message_id, reporter, message.author, message.text, reason, now),
    )
    if not made:  # the same report, sent at the same moment through another node
        existing = await db.fetchall(
            f"{_REPORT} WHERE chat_id = ? AND message_id = ? AND reporter_oid = ?",
            (chat_id, message_id, reporter),
        )
        return _report(existing[0]), False
    report_id = int(made[0][0])
    await db.executemany(
        "INSERT INTO report_recipients (report_id, person_oid) VALUES (?, ?)",
        [(report_id, oid) for oid in sorted(set(recipients))],
    )
    rows = await db.fetchall(f"{_REPORT} WHERE id = ?", (report_id,))
    return _report(rows[0]), True


async def report(db: SqlConnection, report_id: int) -> Report | None:
    if not valid_oid(report_id):
        return None
    rows = await db.fetchall(f"{_REPORT} WHERE id = ?", (report_id,))
    return _report(rows[0]) if rows else None


async def report_recipients(db: SqlConnection, report_id: int) -> set[int]:
    rows = await db.fetchall(
        "SELECT person_oid FROM report_recipients WHERE report_id = ?", (report_id,)
    )
    return {int(oid) for (oid,) in rows}


async def reports_for(
    db: SqlConnection,
    oid: int,
    *,
    schools: Sequence[str],
    status: str | None,
    before: int | None,
    limit: int,
) -> list[Report]:
    """Reports that ``oid`` may moderate, newest first: those sent to her,
    and those of every chat of ``schools`` (where she is staff now, so a
    moderator named later finds what came before her).  A superset: the
    caller keeps those of the chats she moderates now."""
    sql = f"{_REPORT} WHERE (id IN (SELECT report_id FROM report_recipients WHERE person_oid = ?)"  # noqa: S608
    params: list[Any] = [oid]
    if schools:
        marks = ", ".join("?" for _ in schools)
        sql += f" OR chat_id IN (SELECT id FROM chats WHERE school_id IN ({marks}))"  # noqa: S608 (placeholders only)
        params += list(schools)
    sql += ")"
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    rows = await db.fetchall(f"{sql} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [_report(row) for row in rows]


async def reports_by(db: SqlConnection, oid: int, *, limit: int) -> list[Report]:
    rows = await db.fetchall(
        f"{_REPORT} WHERE reporter_oid = ? ORDER BY id DESC LIMIT ?", (oid, limit)
    )
    return [_report(row) for row in rows]


async def resolve_report(
    db: SqlConnection,
    *,
    report_id: int,
    actor: int,
    outcome: Outcome,
    note: str | None,
    now: float,
    audit: AuditRecord,
) -> tuple[Report, bool]:
    """Resolve an open report; ``(report, False)`` if it was resolved already
    with the same outcome (a retry).  Another outcome for a resolved report
    is refused with ``report.resolved``."""
    current = None
    if valid_oid(report_id):
        rows = await db.fetchall(f"{_REPORT} WHERE id = ?{db.dialect.for_update}", (report_id,))
        current = _report(rows[0]) if rows else None
    if current is None:
        raise se.ReportNotFound(report_id)
    if current.status == "resolved":
        if current.outcome is outcome and current.resolved_by == actor:
            return current, False
        raise se.ReportAlreadyResolved(report_id)
    await db.execute(
        "UPDATE reports SET status = 'resolved', outcome = ?, resolved_by = ?, resolved_at = ?, "
        "note = ? WHERE id = ?",
        (outcome.value, actor, now, note, report_id),
    )
    await write_audit(db, audit, now)
    resolved = dataclasses.replace(
        current,
        status="resolved",
        outcome=outcome,
        resolved_by=actor,
        resolved_at=now,
        note=note,
    )
    return resolved, True


# --------------------------------------------------------------------------
# School settings
# --------------------------------------------------------------------------


async def school_exists(db: SqlConnection, school_id: str) -> bool:
    return bool(await db.fetchall("SELECT 1 FROM schools WHERE id = ?", (school_id,)))


async def school_settings(
    db: SqlConnection, school_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    rows = await fetch_in(
        db,
        "SELECT school_id, data FROM school_settings WHERE school_id IN ({})",
        sorted(set(school_ids)),
    )
    return {str(school): json.loads(data) for school, data in rows}


async def set_school_settings(
    db: SqlConnection, school_id: str, data: dict[str, Any], now: float, audit: AuditRecord
) -> None:
    await db.execute(
        "INSERT INTO school_settings (school_id, data, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (school_id) DO UPDATE SET data = excluded.data, "
        "updated_at = excluded.updated_at",
        (school_id, _dumps(data), now),
    )
    await write_audit(db, audit, now)


# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------


async def school_people(db: SqlConnection, school_ids: Iterable[str]) -> list[Person]:
    """Everyone holding a role in one of the schools: staff, students and
    the guardians of students."""
    schools = sorted(set(school_ids))
    if not schools:
        return []
    sql = _SCHOOL_PEOPLE.format(placeholders(len(schools)))
    rows = await db.fetchall(sql, (*schools, *schools, *schools))
    return [person_from_row(row) for row in rows]


async def chat_list_of(db: SqlConnection, oid: int) -> list[tuple[str, str, str, list[int]]]:
    """``(chat id, kind, title, members)`` of each of ``oid``'s chats: the
    list a parent oversees, without any content."""
    rows = await db.fetchall(
        "SELECT c.id, c.kind, c.title, o.person_oid FROM chat_members m "
        "JOIN chats c ON c.id = m.chat_id JOIN chat_members o ON o.chat_id = c.id "
        "WHERE m.person_oid = ? ORDER BY c.id, o.person_oid",
        (oid,),
    )
    chats: dict[str, tuple[str, str, str, list[int]]] = {}
    for chat_id, kind, title, member in rows:
        entry = chats.setdefault(str(chat_id), (str(chat_id), str(kind), str(title), []))
        entry[3].append(int(member))
    return list(chats.values())
