"""Rooms, their attendance and their removals, in portable SQL.

Like :mod:`server.store.chat_sql`, every function runs inside a transaction
the store opened.  Who may do what was decided by the room service before
these run.  A room's chat is a group owned by its host
(``0004_rooms.sql`` says why), so entering a room and being added to its
chat, or being removed from both, happen in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.errors.rooms import RoomNotFound
from server.model.chats import MembershipChange
from server.model.rooms import AttendanceRow, RoomId, RoomKind, RoomRecord, RoomRole

from . import chat_sql
from .sql import SqlConnection, fetch_in

_ROOM = (
    "SELECT id, kind, class_id, school_id, host_oid, cohost_oid, title, starts_at, "
    "created_at, started_at, ended_at, chat_id FROM rooms"
)

# Closes an interval, never before it began (even if the wall clock stepped back).
_LEFT_AT = "left_at = CASE WHEN joined_at > ? THEN joined_at ELSE ? END"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _record(row: Sequence[Any]) -> RoomRecord:
    (room_id, kind, class_id, school_id, host, cohost, title) = row[:7]
    starts_at, created_at, started_at, ended_at, chat_id = row[7:]
    return RoomRecord(
        id=RoomId(str(room_id)),
        kind=RoomKind(kind),
        class_id=str(class_id),
        school_id=str(school_id),
        host=int(host),
        cohost=None if cohost is None else int(cohost),
        title=str(title),
        starts_at=_float(starts_at),
        created_at=float(created_at),
        started_at=_float(started_at),
        ended_at=_float(ended_at),
        chat_id=str(chat_id),
    )


async def room(db: SqlConnection, room_id: str) -> RoomRecord | None:
    rows = await db.fetchall(f"{_ROOM} WHERE id = ?", (room_id,))
    return _record(rows[0]) if rows else None


async def _room(db: SqlConnection, room_id: str) -> RoomRecord:
    found = await room(db, room_id)
    if found is None:
        raise RoomNotFound(room_id)
    return found


async def _locked_room(db: SqlConnection, room_id: str) -> RoomRecord:
    """The room, its row held until the transaction ends (where writers are
    several), so that what is numbered per room is numbered once."""
    rows = await db.fetchall(f"{_ROOM} WHERE id = ?{db.dialect.for_update}", (room_id,))
    if not rows:
        raise RoomNotFound(room_id)
    return _record(rows[0])


async def class_school(db: SqlConnection, class_id: str) -> str | None:
    """The school of a roster class, or ``None`` for no such class."""
    rows = await db.fetchall("SELECT school_id FROM classes WHERE id = ?", (class_id,))
    return str(rows[0][0]) if rows else None


async def rooms_of_classes(
    db: SqlConnection, class_ids: Sequence[str], *, limit: int
) -> list[RoomRecord]:
    """The rooms of these classes, the newest first, at most ``limit``."""
    rows = await fetch_in(db, f"{_ROOM} WHERE class_id IN ({{}})", sorted(set(class_ids)))
    records = sorted(map(_record, rows), key=lambda r: (r.created_at, r.id), reverse=True)
    return records[:limit]


def _start_fingerprint(class_id: str, kind: RoomKind, title: str, starts_at: float | None) -> str:
    return chat_sql.request_fingerprint("room_start", class_id, kind.value, title, starts_at)


async def started_room(
    db: SqlConnection,
    *,
    host: int,
    key: str,
    class_id: str,
    kind: RoomKind,
    title: str,
    starts_at: float | None,
) -> RoomRecord | None:
    """The room this very start already made with ``key``, or ``None``.

    The key is kept with the event that made the room's chat (in the chats'
    idempotency table, so one key is one request whatever it was); the same
    key for another request raises ``idempotency.conflict``.
    """
    fingerprint = _start_fingerprint(class_id, kind, title, starts_at)
    first = await chat_sql.replay(db, host, key, fingerprint)
    if first is None:
        return None
    rows = await db.fetchall("SELECT id FROM rooms WHERE chat_id = ?", (first.chat,))
    if not rows:  # pragma: no cover - a room start's key always names a room's chat
        raise RoomNotFound(first.chat)
    return await _room(db, str(rows[0][0]))


async def create_room(
    db: SqlConnection,
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
    """A new room and its chat (a group of the school owned by the host).

    With ``key``, a start that key already made returns that room and no
    change, and nothing new is stored.
    """
    if key is not None:
        first = await started_room(
            db,
            host=host,
            key=key,
            class_id=class_id,
            kind=kind,
            title=asked_title,
            starts_at=starts_at,
        )
        if first is not None:
            return first, None
    _, change = await chat_sql.create_group(
        db, creator=host, school_id=school_id, title=title, members=(host,), key=None, now=now
    )
    chat_id = change.event.chat
    if key is not None:
        fingerprint = _start_fingerprint(class_id, kind, asked_title, starts_at)
        await chat_sql.remember(db, host, key, fingerprint, change.event, now)
    await db.execute(
        "INSERT INTO rooms (id, kind, class_id, school_id, host_oid, cohost_oid, title, "
        "starts_at, created_at, started_at, ended_at, chat_id) "
        "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, ?)",
        (
            room_id,
            kind.value,
            class_id,
            school_id,
            host,
            title,
            starts_at,
            now,
            started_at,
            chat_id,
        ),
    )
    return await _room(db, room_id), change


async def open_room(db: SqlConnection, room_id: str, now: float) -> RoomRecord:
    """Mark a scheduled room as started (once)."""
    await db.execute(
        "UPDATE rooms SET started_at = ? WHERE id = ? AND started_at IS NULL", (now, room_id)
    )
    return await _room(db, room_id)


async def set_cohost(db: SqlConnection, room_id: str, cohost: int | None) -> RoomRecord:
    await db.execute("UPDATE rooms SET cohost_oid = ? WHERE id = ?", (cohost, room_id))
    return await _room(db, room_id)


async def end_room(db: SqlConnection, room_id: str, now: float) -> RoomRecord:
    """End the room (once) and close every interval still open."""
    await db.execute(
        "UPDATE rooms SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (now, room_id)
    )
    await db.execute(
        f"UPDATE room_attendance SET {_LEFT_AT} "  # noqa: S608
        "WHERE room_id = ? AND left_at IS NULL",
        (now, now, room_id),
    )
    return await _room(db, room_id)


async def _chat_change(
    db: SqlConnection, record: RoomRecord, oid: int, *, add: bool, now: float
) -> MembershipChange | None:
    """Add ``oid`` to the room's chat, or take them out, on the host's behalf."""
    if oid == record.host:
        return None  # the owner of the chat is always a member
    return await chat_sql.change_members(
        db,
        chat_id=record.chat_id,
        actor=record.host,
        add=(oid,) if add else (),
        remove=() if add else (oid,),
        now=now,
    )


async def enter_room(
    db: SqlConnection, room_id: str, oid: int, role: RoomRole, now: float, node: str = ""
) -> MembershipChange | None:
    """Open an attendance interval for ``oid`` (on ``node``, the room's) and
    make them a member of the room's chat; the chat's membership change, if any."""
    record = await _locked_room(db, room_id)
    await _close_interval(db, room_id, oid, now)  # never two open intervals
    rows = await db.fetchall(
        "SELECT COALESCE(MAX(interval_no), 0) FROM room_attendance "
        "WHERE room_id = ? AND person_oid = ?",
        (room_id, oid),
    )
    await db.execute(
        "INSERT INTO room_attendance "
        "(room_id, person_oid, interval_no, role, joined_at, left_at, node) "
        "VALUES (?, ?, ?, ?, ?, NULL, ?)",
        (room_id, oid, int(rows[0][0]) + 1, role.value, now, node),
    )
    return await _chat_change(db, record, oid, add=True, now=now)


async def _close_interval(db: SqlConnection, room_id: str, oid: int, at: float) -> None:
    await db.execute(
        f"UPDATE room_attendance SET {_LEFT_AT} "  # noqa: S608
        "WHERE room_id = ? AND person_oid = ? AND left_at IS NULL",
        (at, at, room_id, oid),
    )


async def exit_room(db: SqlConnection, room_id: str, oid: int, at: float) -> None:
    """Close ``oid``'s open attendance interval at ``at``; they stay in the chat."""
    await _close_interval(db, room_id, oid, at)


async def remove_from_room(
    db: SqlConnection, room_id: str, oid: int, by: int, now: float
) -> MembershipChange | None:
    """Close ``oid``'s interval, keep them out for good, take them out of the chat."""
    record = await _locked_room(db, room_id)
    await _close_interval(db, room_id, oid, now)
    await db.execute(
        "INSERT INTO room_removals (room_id, person_oid, removed_by, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (room_id, person_oid) DO NOTHING",
        (room_id, oid, by, now),
    )
    if not await chat_sql.is_member(db, record.chat_id, oid):
        return None
    return await _chat_change(db, record, oid, add=False, now=now)


async def removals(db: SqlConnection, room_id: str) -> set[int]:
    rows = await db.fetchall("SELECT person_oid FROM room_removals WHERE room_id = ?", (room_id,))
    return {int(oid) for (oid,) in rows}


async def attendance(db: SqlConnection, room_id: str) -> list[AttendanceRow]:
    """Every interval of the room, in the order people came; a person who has
    left the roster keeps their rows with an empty name."""
    rows = await db.fetchall(
        "SELECT a.person_oid, p.last_name, p.first_name, p.middle_name, a.role, "
        "a.joined_at, a.left_at FROM room_attendance a "
        "LEFT JOIN people p ON p.oid = a.person_oid "
        "WHERE a.room_id = ? ORDER BY a.joined_at, a.person_oid, a.interval_no",
        (room_id,),
    )
    return [
        AttendanceRow(
            person=int(oid),
            full_name=" ".join(part for part in (last, first, middle) if part),
            role=RoomRole(role),
            joined_at=float(joined_at),
            left_at=_float(left_at),
        )
        for oid, last, first, middle, role, joined_at, left_at in rows
    ]


async def close_attendance(
    db: SqlConnection, now: float, nodes: Sequence[str] | None = None
) -> int:
    """Close the open intervals these nodes opened, or every open interval
    (nobody is present after a restart of the only node); how many."""
    where, args = "left_at IS NULL", tuple[str, ...]()
    if nodes is not None:
        if not nodes:
            return 0
        where += f" AND node IN ({', '.join('?' * len(nodes))})"
        args = tuple(nodes)
    rows = await db.fetchall(f"SELECT COUNT(*) FROM room_attendance WHERE {where}", args)  # noqa: S608
    await db.execute(
        f"UPDATE room_attendance SET {_LEFT_AT} WHERE {where}",  # noqa: S608
        (now, now, *args),
    )
    return int(rows[0][0])


async def open_attendance_nodes(db: SqlConnection) -> list[str]:
    """The nodes that opened an interval still open."""
    rows = await db.fetchall(
        "SELECT DISTINCT node FROM room_attendance WHERE left_at IS NULL ORDER BY node", ()
    )
    return [str(node) for (node,) in rows]
