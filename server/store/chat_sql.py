"""Reading and writing chats, in portable SQL.

Every function takes a :class:`~server.store.sql.SqlConnection` already in a
transaction, as :mod:`server.store.roster_sql` does: the store decides where
transactions begin and end.  The tables are created by
``server/store/migrations/0002_chats.sql``; what events mean is written in
:mod:`server.model.chats`.

A change to a chat takes the chat's next sequence number with one
``UPDATE chats SET last_seq = last_seq + 1 ... RETURNING last_seq``, which
also checks membership, then inserts its event and the state it leaves
behind.  Run inside one write transaction this gives every chat the
sequence 1, 2, 3... without holes, and a refusal (an exception) rolls all of
it back.

With several writers (PostgreSQL, several nodes) a change first locks its
chat's row (:func:`lock_chat`) and only then reads what it decides on, so
two changes of one chat, on whichever nodes, take their turns; a
transaction that locks several chats locks them in id order, so two of
them cannot wait for each other.  On SQLite the write transaction already
excludes every other writer and the lock is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.errors import ForbiddenError, ZvonokError
from server.errors.chats import (
    CHAT_INVALID,
    IDEMPOTENCY_CONFLICT,
    MESSAGE_DELETED,
    MESSAGE_NOT_AUTHOR,
    PERSON_NOT_FOUND,
    Conflict,
    NotFound,
    chat_not_found,
    members_fixed,
    message_not_found,
    not_owner,
)
from server.errors.safety import Muted, announcements_only
from server.model.chats import (
    ROSTER_KINDS,
    Ack,
    ChatEvent,
    ChatKind,
    ChatMember,
    ChatSummary,
    EventKind,
    MembershipChange,
    Retry,
    class_chat_id,
    direct_chat_id,
    parents_chat_id,
    staff_chat_id,
)

from .sql import SqlConnection, fetch_in

MAX_INT64 = 2**63 - 1
"""OIDs and sequence numbers are BIGINT; larger values cannot name a row."""

_ROSTER_KINDS = sorted(kind.value for kind in ROSTER_KINDS)

_EVENT = "SELECT chat_id, seq, kind, author_oid, at, data FROM chat_events"

# Takes the chat's next seq if ``person`` is a member; no row otherwise.
_NEXT_SEQ = (
    "UPDATE chats SET last_seq = last_seq + 1 WHERE id = ? AND EXISTS "
    "(SELECT 1 FROM chat_members WHERE chat_id = ? AND person_oid = ?) RETURNING last_seq"
)

# The seq of a post, taken only if the author may post: a member, not muted,
# and the chat open to all (or the author a moderator).  One statement on the
# hot path; when it takes nothing, _check_may_post says why.
_POST_SEQ = (
    "UPDATE chats SET last_seq = last_seq + 1 WHERE id = ? AND (announcements = 0 OR ? = 1) "
    "AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = ? AND person_oid = ? "
    "AND (muted_until IS NULL OR muted_until <= ?)) RETURNING last_seq"
)

# A member's view of their chats.  One row per membership: the chat, the
# member's read position, the member count, the unread count, the time of
# the latest event (for the order), the latest undeleted message and, for a
# direct chat, the other person's name.
_SUMMARIES = """
SELECT c.id, c.kind, c.title, c.school_id, c.class_id, c.last_seq, m.read_seq,
    (SELECT COUNT(*) FROM chat_members n WHERE n.chat_id = c.id) AS member_count,
    (SELECT COUNT(*) FROM messages u
        WHERE u.chat_id = c.id AND u.id > m.read_seq AND u.deleted = 0
        AND u.author_oid <> m.person_oid) AS unread,
    COALESCE(le.at, c.created_at) AS active_at,
    lm.id, lm.author_oid, lm.text, lm.reply_to, lme.at,
    p.last_name, p.first_name, p.middle_name, om.person_oid
FROM chat_members m
JOIN chats c ON c.id = m.chat_id
LEFT JOIN chat_events le ON le.chat_id = c.id AND le.seq = c.last_seq
LEFT JOIN messages lm ON lm.chat_id = c.id AND lm.id = (
    SELECT x.id FROM messages x WHERE x.chat_id = c.id AND x.deleted = 0
    ORDER BY x.id DESC LIMIT 1)
LEFT JOIN chat_events lme ON lme.chat_id = lm.chat_id AND lme.seq = lm.id
LEFT JOIN chat_members om
    ON c.kind = 'direct' AND om.chat_id = c.id AND om.person_oid <> m.person_oid
LEFT JOIN people p ON p.oid = om.person_oid
WHERE m.person_oid = ?
"""


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def valid_oid(oid: int) -> bool:
    """Whether ``oid`` could name a stored person (else sqlite would overflow)."""
    return 0 < oid <= MAX_INT64


def clamp(value: int) -> int:
    return max(-MAX_INT64, min(value, MAX_INT64))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def request_fingerprint(operation: str, *args: Any) -> str:
    """What a request asks for, so that a reused key can be told apart."""
    return hashlib.sha256(_dumps([operation, *args]).encode("utf-8")).hexdigest()


def _event(row: Sequence[Any]) -> ChatEvent:
    chat_id, seq, kind, author, at, data = row
    return ChatEvent(
        chat=str(chat_id),
        seq=int(seq),
        kind=EventKind(kind),
        author=None if author is None else int(author),
        at=float(at),
        data=json.loads(data),
    )


def _full_name(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)


async def lock_chat(db: SqlConnection, chat_id: str) -> None:
    """Hold the chat's row until the transaction ends (where writers are
    several): what this transaction reads of the chat from now on, no other
    can change before it commits."""
    if db.dialect.concurrent_writers:
        # Only the dialect's constant is formatted in.
        sql = f"SELECT 1 FROM chats WHERE id = ?{db.dialect.for_update}"  # noqa: S608
        await db.fetchall(sql, (chat_id,))


async def _next_seq(db: SqlConnection, chat_id: str, member: int) -> int:
    rows = await db.fetchall(_NEXT_SEQ, (chat_id, chat_id, member))
    if not rows:
        raise chat_not_found(chat_id)
    return int(rows[0][0])


async def next_seq_any(db: SqlConnection, chat_id: str) -> int:
    """The chat's next seq whoever asks (a moderator need not be a member)."""
    rows = await db.fetchall(
        "UPDATE chats SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", (chat_id,)
    )
    if not rows:
        raise chat_not_found(chat_id)
    return int(rows[0][0])


async def _append(
    db: SqlConnection,
    chat_id: str,
    seq: int,
    kind: EventKind,
    author: int | None,
    now: float,
    message_id: int | None,
    data: dict[str, Any],
) -> ChatEvent:
    await db.execute(
        "INSERT INTO chat_events (chat_id, seq, kind, author_oid, at, message_id, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (chat_id, seq, kind.value, author, now, message_id, _dumps(data)),
    )
    return ChatEvent(chat_id, seq, kind, author, now, data)


async def _load_event(db: SqlConnection, chat_id: str, seq: int) -> ChatEvent:
    rows = await db.fetchall(f"{_EVENT} WHERE chat_id = ? AND seq = ?", (chat_id, seq))
    return _event(rows[0])


async def _keyed(db: SqlConnection, person: int, key: str) -> tuple[str, ChatEvent] | None:
    """The fingerprint of the request a used key made and its event."""
    rows = await db.fetchall(
        "SELECT k.fingerprint, e.chat_id, e.seq, e.kind, e.author_oid, e.at, e.data "
        "FROM idempotency_keys k "
        "JOIN chat_events e ON e.chat_id = k.chat_id AND e.seq = k.seq "
        "WHERE k.person_oid = ? AND k.key = ?",
        (person, key),
    )
    if not rows:
        return None
    return str(rows[0][0]), _event(rows[0][1:])


async def replay(
    db: SqlConnection, person: int, key: str | None, fingerprint: str
) -> ChatEvent | None:
    """The event a used key made, or ``None`` for a new key.

    A key used for another request raises ``idempotency.conflict``.
    """
    if key is None:
        return None
    found = await _keyed(db, person, key)
    if found is None:
        return None
    if found[0] != fingerprint:
        raise Conflict(
            IDEMPOTENCY_CONFLICT, "this idempotency key was already used for another request"
        )
    return found[1]


def _masking_of(stored: str, text: str) -> bool:
    """Whether ``stored`` is ``text`` with some characters masked (``*``)."""
    if len(stored) != len(text):
        return False
    return all(s in (t, "*") for s, t in zip(stored, text, strict=True))


async def replayed(db: SqlConnection, retry: Retry) -> Ack | None:
    """The first acknowledgement of the retried request if its key stored it, else ``None``.

    For a retry that the checks before the store refuse (the author lost
    the right to post, or is over the rate): it must get the first ack
    back, as a retry that reaches the store does.  Read only when a request
    was refused, so the hot path does not pay for it.  The stored text may
    be the request's text masked by the content filter; a key used for
    another request returns ``None`` and the refusal stands.
    """
    found = await _keyed(db, retry.person, retry.key)
    if found is None:
        return None
    fingerprint, event = found
    if event.kind is not retry.kind or event.chat != retry.chat_id or event.author != retry.person:
        return None
    candidates: list[tuple[object, ...]] = [retry.args]
    if retry.text_at is not None:
        at = retry.text_at
        text, stored = retry.args[at], event.data.get("text")
        if isinstance(text, str) and isinstance(stored, str) and _masking_of(stored, text):
            candidates.append((*retry.args[:at], stored, *retry.args[at + 1 :]))
    for candidate in candidates:
        if fingerprint == request_fingerprint(retry.operation, retry.chat_id, *candidate):
            return Ack(event, duplicate=True, masked=candidate != retry.args)
    return None


async def remember(
    db: SqlConnection,
    person: int,
    key: str | None,
    fingerprint: str,
    event: ChatEvent,
    now: float,
) -> None:
    if key is None:
        return
    await db.execute(
        "INSERT INTO idempotency_keys (person_oid, key, fingerprint, chat_id, seq, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (person, key, fingerprint, event.chat, event.seq, now),
    )


async def _missing_people(db: SqlConnection, oids: Iterable[int]) -> list[int]:
    """Those of ``oids`` that are not in the roster, ascending."""
    wanted = set(oids)
    valid = {oid for oid in wanted if valid_oid(oid)}
    rows = await fetch_in(db, "SELECT oid FROM people WHERE oid IN ({})", sorted(valid))
    return sorted(wanted - {int(oid) for (oid,) in rows})


def _person_not_found(missing: Sequence[int]) -> NotFound:
    shown = ", ".join(str(oid) for oid in missing[:10])
    return NotFound(PERSON_NOT_FOUND, f"no person {shown} in the roster")


async def _require_people(db: SqlConnection, oids: Iterable[int]) -> None:
    missing = await _missing_people(db, oids)
    if missing:
        raise _person_not_found(missing)


@dataclass(frozen=True, slots=True)
class _Message:
    author: int
    text: str | None
    version: int
    text_at: float
    deleted: bool


async def _member_message(
    db: SqlConnection, chat_id: str, member: int, message_id: int
) -> _Message:
    """A message of a chat ``member`` is in: ``chat.not_found``, ``message.not_found``."""
    if not valid_oid(message_id):
        # Still tell a non-member only that the chat is not theirs.
        if not await is_member(db, chat_id, member):
            raise chat_not_found(chat_id)
        raise message_not_found(chat_id, message_id)
    rows = await db.fetchall(
        "SELECT m.author_oid, m.text, m.version, m.text_at, m.deleted FROM chat_members c "
        "LEFT JOIN messages m ON m.chat_id = c.chat_id AND m.id = ? "
        "WHERE c.chat_id = ? AND c.person_oid = ?",
        (message_id, chat_id, member),
    )
    if not rows:
        raise chat_not_found(chat_id)
    author, text, version, text_at, deleted = rows[0]
    if author is None:
        raise message_not_found(chat_id, message_id)
    return _Message(int(author), text, int(version), float(text_at), bool(deleted))


async def any_message(db: SqlConnection, chat_id: str, message_id: int) -> _Message:
    """A message of a chat, for someone who need not be a member (a moderator)."""
    rows = []
    if valid_oid(message_id):
        rows = await db.fetchall(
            "SELECT author_oid, text, version, text_at, deleted FROM messages "
            "WHERE chat_id = ? AND id = ?",
            (chat_id, message_id),
        )
    if not rows:
        raise message_not_found(chat_id, message_id)
    author, text, version, text_at, deleted = rows[0]
    return _Message(int(author), text, int(version), float(text_at), bool(deleted))


def _check_own(message: _Message, actor: int, chat_id: str, message_id: int) -> None:
    if message.author != actor:
        raise ForbiddenError(MESSAGE_NOT_AUTHOR, "only the author may change a message")
    if message.deleted:
        raise deleted_conflict(chat_id, message_id)


def deleted_conflict(chat_id: str, message_id: int) -> Conflict:
    return Conflict(MESSAGE_DELETED, f"message {message_id} in chat {chat_id[:80]!r} was deleted")


# --------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------


async def chat_positions(db: SqlConnection, oid: int) -> dict[str, int]:
    if not valid_oid(oid):
        return {}
    rows = await db.fetchall(
        "SELECT c.id, c.last_seq FROM chat_members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.person_oid = ?",
        (oid,),
    )
    return {str(chat_id): int(seq) for chat_id, seq in rows}


async def is_member(db: SqlConnection, chat_id: str, oid: int) -> bool:
    if not valid_oid(oid):
        return False
    rows = await db.fetchall(
        "SELECT 1 FROM chat_members WHERE chat_id = ? AND person_oid = ?", (chat_id, oid)
    )
    return bool(rows)


async def members(db: SqlConnection, chat_id: str) -> list[int]:
    rows = await db.fetchall(
        "SELECT person_oid FROM chat_members WHERE chat_id = ? ORDER BY person_oid", (chat_id,)
    )
    return [int(oid) for (oid,) in rows]


async def chat_members(db: SqlConnection, chat_id: str) -> list[ChatMember]:
    rows = await db.fetchall(
        "SELECT m.person_oid, p.last_name, p.first_name, p.middle_name, m.muted_until "
        "FROM chat_members m LEFT JOIN people p ON p.oid = m.person_oid "
        "WHERE m.chat_id = ? ORDER BY m.person_oid",
        (chat_id,),
    )
    return [
        ChatMember(
            oid=int(oid),
            full_name=_full_name(last, first, middle),
            muted_until=None if until is None else float(until),
        )
        for oid, last, first, middle, until in rows
    ]


async def contacts(db: SqlConnection, oid: int) -> set[int]:
    if not valid_oid(oid):
        return set()
    rows = await db.fetchall(
        "SELECT DISTINCT o.person_oid FROM chat_members m "
        "JOIN chat_members o ON o.chat_id = m.chat_id "
        "WHERE m.person_oid = ? AND o.person_oid <> ?",
        (oid, oid),
    )
    return {int(other) for (other,) in rows}


async def summaries(db: SqlConnection, oid: int, chat_id: str | None = None) -> list[ChatSummary]:
    """``oid``'s chats (or the one ``chat_id``), the most recently active first."""
    if not valid_oid(oid):
        return []
    if chat_id is None:
        rows = await db.fetchall(f"{_SUMMARIES} ORDER BY active_at DESC, c.id", (oid,))
    else:
        rows = await db.fetchall(f"{_SUMMARIES} AND c.id = ?", (oid, chat_id))
    return [_summary(row) for row in rows]


def _summary(row: Sequence[Any]) -> ChatSummary:
    (chat_id, kind, title, school_id, class_id, last_seq, read_seq, member_count, unread) = row[:9]
    message_id, author, text, reply_to, at = row[10:15]
    last_name, first_name, middle_name, peer = row[15:19]
    chat_kind = ChatKind(kind)
    if chat_kind is ChatKind.DIRECT and last_name is not None:
        title = _full_name(last_name, first_name, middle_name)
    last_message = None
    if message_id is not None:
        last_message = ChatEvent(
            chat=str(chat_id),
            seq=int(message_id),
            kind=EventKind.MESSAGE,
            author=int(author),
            at=float(at),
            data={
                "id": int(message_id),
                "text": text,
                "reply_to": None if reply_to is None else int(reply_to),
            },
        )
    return ChatSummary(
        id=str(chat_id),
        kind=chat_kind,
        title=str(title),
        school_id=school_id,
        class_id=class_id,
        members=int(member_count),
        last_seq=int(last_seq),
        read_seq=int(read_seq),
        unread=int(unread),
        last_message=last_message,
        peer=None if peer is None else int(peer),
    )


async def summary(db: SqlConnection, oid: int, chat_id: str) -> ChatSummary:
    """One chat as ``oid`` sees it; ``chat.not_found`` unless a member."""
    found = await summaries(db, oid, chat_id)
    if not found:
        raise chat_not_found(chat_id)
    return found[0]


async def events(
    db: SqlConnection, chat_id: str, *, after: int = 0, before: int | None = None, limit: int = 100
) -> list[ChatEvent]:
    """See :meth:`server.store.base.ChatStore.events`."""
    if limit <= 0:
        return []
    after, limit = clamp(after), clamp(limit)
    if before is None:
        rows = await db.fetchall(
            f"{_EVENT} WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (chat_id, after, limit),
        )
        return [_event(row) for row in rows]
    rows = await db.fetchall(
        f"{_EVENT} WHERE chat_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (chat_id, after, clamp(before), limit),
    )
    return [_event(row) for row in reversed(rows)]


async def removal_after(db: SqlConnection, chat_id: str, oid: int, after: int) -> int | None:
    """See :meth:`server.store.base.ChatStore.removal_after`."""
    if await is_member(db, chat_id, oid):
        return None
    rows = await db.fetchall(
        "SELECT MIN(seq) FROM chat_removals WHERE chat_id = ? AND person_oid = ? AND seq > ?",
        (chat_id, oid, clamp(after)),
    )
    return None if rows[0][0] is None else int(rows[0][0])


async def events_for(
    db: SqlConnection, chat_id: str, reader: int, *, after: int, limit: int
) -> tuple[list[ChatEvent], bool]:
    """See :meth:`server.store.base.ChatStore.events_for`."""
    if limit <= 0 or not valid_oid(reader):
        return [], False
    after, limit = clamp(after), clamp(limit)
    removal = await removal_after(db, chat_id, reader, after)
    rows = await db.fetchall(
        f"{_EVENT} WHERE chat_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        (chat_id, after, MAX_INT64 if removal is None else removal, limit),
    )
    events = [_event(row) for row in rows]
    return events, bool(events) and events[-1].seq == removal


async def member_events(
    db: SqlConnection,
    chat_id: str,
    reader: int,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int = 100,
) -> list[ChatEvent] | None:
    """See :meth:`server.store.base.ChatStore.member_events`."""
    if not await is_member(db, chat_id, reader):
        return None
    return await events(db, chat_id, after=after, before=before, limit=limit)


async def message_versions(
    db: SqlConnection, chat_id: str, message_id: int
) -> list[tuple[int, str, float]]:
    """Every version, the current one last; empty for a deleted or unknown message."""
    if not valid_oid(message_id):
        return []
    rows = await db.fetchall(
        "SELECT version, text, text_at, deleted FROM messages WHERE chat_id = ? AND id = ?",
        (chat_id, message_id),
    )
    if not rows or rows[0][3]:
        return []
    version, text, text_at, _ = rows[0]
    earlier = await db.fetchall(
        "SELECT version, text, at FROM message_versions WHERE chat_id = ? AND message_id = ? "
        "ORDER BY version",
        (chat_id, message_id),
    )
    return [
        *((int(v), str(t), float(at)) for v, t, at in earlier),
        (int(version), str(text), float(text_at)),
    ]


async def last_seen(db: SqlConnection, oids: Iterable[int]) -> dict[int, float]:
    wanted = sorted({oid for oid in oids if valid_oid(oid)})
    sql = "SELECT person_oid, at FROM last_seen WHERE person_oid IN ({})"
    rows = await fetch_in(db, sql, wanted)
    return {int(oid): float(at) for oid, at in rows}


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


async def post(
    db: SqlConnection,
    *,
    chat_id: str,
    author: int,
    text: str,
    reply_to: int | None,
    key: str,
    now: float,
    moderator: bool = False,
) -> Ack:
    """Post a message; its id is the seq of its event.

    The hot path: one key lookup, the seq update (which takes a seq only
    if the author is a member, is not muted and may post if the chat is
    announcements-only: checked here, in the transaction that stores the
    post, so no post slips in after a mute), and three inserts.  A reply
    checks first, as its own statements.  Refusals raise before anything
    is written.  ``moderator``
    lets the author post while the chat is announcements-only.
    """
    fingerprint = request_fingerprint("post", chat_id, text, reply_to)
    replayed = await replay(db, author, key, fingerprint)
    if replayed is not None:
        return Ack(replayed, duplicate=True)
    # Every refusal comes before the first write (the seq update refuses
    # without changing anything), so a refused post writes nothing even
    # outside the savepoint its batch gives it.
    await lock_chat(db, chat_id)
    if reply_to is None:
        seq = await _post_seq(db, chat_id, author, now, moderator=moderator)
    else:
        await _check_may_post(db, chat_id, author, now, moderator=moderator)
        if not (
            valid_oid(reply_to)
            and await db.fetchall(
                "SELECT 1 FROM messages WHERE chat_id = ? AND id = ?", (chat_id, reply_to)
            )
        ):
            raise message_not_found(chat_id, reply_to)
        seq = await _next_seq(db, chat_id, author)
    data = {"id": seq, "text": text, "reply_to": reply_to}
    event = await _append(db, chat_id, seq, EventKind.MESSAGE, author, now, seq, data)
    await db.execute(
        "INSERT INTO messages (chat_id, id, author_oid, text, reply_to, text_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, seq, author, text, reply_to, now),
    )
    await remember(db, author, key, fingerprint, event, now)
    return Ack(event)


async def _post_seq(
    db: SqlConnection, chat_id: str, author: int, now: float, *, moderator: bool
) -> int:
    """The post's seq, if the author may post now; else the refusal of
    :func:`_check_may_post`, with nothing written."""
    rows = await db.fetchall(_POST_SEQ, (chat_id, int(moderator), chat_id, author, now))
    if rows:
        return int(rows[0][0])
    await _check_may_post(db, chat_id, author, now, moderator=moderator)
    raise chat_not_found(chat_id)  # not reached: the check above says why


async def _check_may_post(
    db: SqlConnection, chat_id: str, author: int, now: float, *, moderator: bool
) -> None:
    rows = await db.fetchall(
        "SELECT c.announcements, m.muted_until FROM chat_members m "
        "JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = ? AND m.person_oid = ?",
        (chat_id, author),
    )
    if not rows:
        raise chat_not_found(chat_id)
    announcements, muted_until = rows[0]
    if muted_until is not None and float(muted_until) > now:
        raise Muted(float(muted_until) - now)
    if announcements and not moderator:
        raise announcements_only()


async def _check_not_muted(db: SqlConnection, chat_id: str, member: int, now: float) -> None:
    rows = await db.fetchall(
        "SELECT muted_until FROM chat_members WHERE chat_id = ? AND person_oid = ?",
        (chat_id, member),
    )
    if rows and rows[0][0] is not None and float(rows[0][0]) > now:
        raise Muted(float(rows[0][0]) - now)


async def edit(
    db: SqlConnection,
    *,
    chat_id: str,
    author: int,
    message_id: int,
    text: str,
    key: str | None,
    now: float,
    moderator: bool = False,
) -> Ack:
    """Replace the text of one's own message; the earlier text becomes a
    version.  Refused, like a post, while muted or in announcements mode."""
    fingerprint = request_fingerprint("edit", chat_id, message_id, text)
    replayed = await replay(db, author, key, fingerprint)
    if replayed is not None:
        return Ack(replayed, duplicate=True)
    await lock_chat(db, chat_id)
    await _check_may_post(db, chat_id, author, now, moderator=moderator)
    message = await _member_message(db, chat_id, author, message_id)
    _check_own(message, author, chat_id, message_id)
    seq = await _next_seq(db, chat_id, author)
    version = message.version + 1
    await db.execute(
        "INSERT INTO message_versions (chat_id, message_id, version, text, at) "
        "VALUES (?, ?, ?, ?, ?)",
        (chat_id, message_id, message.version, message.text, message.text_at),
    )
    await db.execute(
        "UPDATE messages SET text = ?, version = ?, text_at = ? WHERE chat_id = ? AND id = ?",
        (text, version, now, chat_id, message_id),
    )
    data = {"id": message_id, "text": text, "version": version}
    event = await _append(db, chat_id, seq, EventKind.EDIT, author, now, message_id, data)
    await remember(db, author, key, fingerprint, event, now)
    return Ack(event)


async def delete(
    db: SqlConnection,
    *,
    chat_id: str,
    actor: int,
    message_id: int,
    key: str | None,
    now: float,
    moderator: bool = False,
) -> Ack:
    """Delete one's own message, or, as the chat's ``moderator`` (checked by
    the caller), anyone's.

    The text, the earlier versions and the reactions go; the ``message`` and
    ``edit`` events stay, their data rewritten to ``{"id", "deleted": true}``.
    A moderator's delete event says ``"moderator": true``.
    """
    operation = "moderator_delete" if moderator else "delete"
    fingerprint = request_fingerprint(operation, chat_id, message_id)
    replayed = await replay(db, actor, key, fingerprint)
    if replayed is not None:
        return Ack(replayed, duplicate=True)
    await lock_chat(db, chat_id)
    if moderator:
        message = await any_message(db, chat_id, message_id)
        if message.deleted:
            raise deleted_conflict(chat_id, message_id)
        seq = await next_seq_any(db, chat_id)
    else:
        message = await _member_message(db, chat_id, actor, message_id)
        _check_own(message, actor, chat_id, message_id)
        seq = await _next_seq(db, chat_id, actor)
    await db.execute(
        "UPDATE messages SET deleted = 1, text = NULL WHERE chat_id = ? AND id = ?",
        (chat_id, message_id),
    )
    await db.execute(
        "DELETE FROM message_versions WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
    )
    await db.execute(
        "DELETE FROM reactions WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
    )
    # The events about a message all come after it: the seq bound keeps this
    # a range scan of the chat's log from the message on.
    await db.execute(
        "UPDATE chat_events SET data = ? "
        "WHERE chat_id = ? AND seq >= ? AND message_id = ? AND kind IN (?, ?)",
        (
            _dumps({"id": message_id, "deleted": True}),
            chat_id,
            message_id,
            message_id,
            EventKind.MESSAGE.value,
            EventKind.EDIT.value,
        ),
    )
    data: dict[str, Any] = {"id": message_id}
    if moderator:
        data["moderator"] = True
    event = await _append(db, chat_id, seq, EventKind.DELETE, actor, now, message_id, data)
    await remember(db, actor, key, fingerprint, event, now)
    return Ack(event)


async def react(
    db: SqlConnection,
    *,
    chat_id: str,
    actor: int,
    message_id: int,
    emoji: str,
    on: bool,
    key: str | None,
    now: float,
) -> Ack:
    """Set or take back ``actor``'s reaction ``emoji`` on a message.

    An event is appended only when the state changes.  When it would not
    (the reaction is already on, or already taken back), nothing new is
    stored and the ack is the event that last set this person's reaction
    with this emoji on this message, with ``duplicate=True``.  Taking back
    a reaction that was never there has no such event, so that one appends
    an ``on: false`` event anyway.
    """
    fingerprint = request_fingerprint("react", chat_id, message_id, emoji, on)
    replayed = await replay(db, actor, key, fingerprint)
    if replayed is not None:
        return Ack(replayed, duplicate=True)
    await lock_chat(db, chat_id)
    if on:  # a muted member may take a reaction back, not add one (docs/safety.md)
        await _check_not_muted(db, chat_id, actor, now)
    message = await _member_message(db, chat_id, actor, message_id)
    if message.deleted:
        raise deleted_conflict(chat_id, message_id)
    rows = await db.fetchall(
        "SELECT active, seq FROM reactions "
        "WHERE chat_id = ? AND message_id = ? AND person_oid = ? AND emoji = ?",
        (chat_id, message_id, actor, emoji),
    )
    if rows and bool(rows[0][0]) == on:
        event = await _load_event(db, chat_id, int(rows[0][1]))
        await remember(db, actor, key, fingerprint, event, now)
        return Ack(event, duplicate=True)
    seq = await _next_seq(db, chat_id, actor)
    data = {"id": message_id, "emoji": emoji, "on": on}
    event = await _append(db, chat_id, seq, EventKind.REACTION, actor, now, message_id, data)
    await db.execute(
        "INSERT INTO reactions (chat_id, message_id, person_oid, emoji, active, seq) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (chat_id, message_id, person_oid, emoji) "
        "DO UPDATE SET active = excluded.active, seq = excluded.seq",
        (chat_id, message_id, actor, emoji, int(on), seq),
    )
    await remember(db, actor, key, fingerprint, event, now)
    return Ack(event)


async def mark_read(db: SqlConnection, *, chat_id: str, oid: int, seq: int) -> int:
    """Move ``oid``'s read position to ``seq`` (never back, never past last_seq)."""
    rows = await db.fetchall(
        "SELECT m.read_seq, c.last_seq FROM chat_members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.chat_id = ? AND m.person_oid = ?",
        (chat_id, oid),
    )
    if not rows:
        raise chat_not_found(chat_id)
    old, last = int(rows[0][0]), int(rows[0][1])
    new = max(old, min(seq, last))
    if new == old:
        return old
    # Only forward, even past another node's move made since the read.
    moved = await db.fetchall(
        "UPDATE chat_members SET read_seq = ? WHERE chat_id = ? AND person_oid = ? "
        "AND read_seq < ? RETURNING read_seq",
        (new, chat_id, oid, new),
    )
    if moved:
        return new
    rows = await db.fetchall(
        "SELECT read_seq FROM chat_members WHERE chat_id = ? AND person_oid = ?", (chat_id, oid)
    )
    return int(rows[0][0]) if rows else new


async def set_last_seen(db: SqlConnection, oid: int, at: float) -> None:
    await db.execute(
        "INSERT INTO last_seen (person_oid, at) VALUES (?, ?) "
        "ON CONFLICT (person_oid) DO UPDATE SET at = excluded.at",
        (oid, at),
    )


# --------------------------------------------------------------------------
# Chats and members
# --------------------------------------------------------------------------


async def _create_chat(
    db: SqlConnection,
    *,
    chat_id: str,
    kind: ChatKind,
    title: str,
    school_id: str | None,
    owner: int | None,
    members: Sequence[int],
    author: int,
    now: float,
) -> MembershipChange | None:
    """A new chat whose first event adds ``members`` (ascending); ``None`` if
    a chat with this id was made meanwhile (by another node)."""
    made = await db.fetchall(
        "INSERT INTO chats (id, kind, title, school_id, class_id, owner_oid, created_at, last_seq) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?, 1) ON CONFLICT (id) DO NOTHING RETURNING id",
        (chat_id, kind.value, title, school_id, owner, now),
    )
    if not made:
        return None
    await db.executemany(
        "INSERT INTO chat_members (chat_id, person_oid, read_seq) VALUES (?, ?, 1)",
        [(chat_id, oid) for oid in members],
    )
    data: dict[str, Any] = {"added": list(members), "removed": []}
    event = await _append(db, chat_id, 1, EventKind.MEMBERS, author, now, None, data)
    return MembershipChange(event, tuple(members), ())


async def open_direct(
    db: SqlConnection, *, a: int, b: int, now: float
) -> tuple[ChatSummary, MembershipChange | None]:
    """The direct chat of ``a`` and ``b`` as ``a`` sees it, made if new."""
    if a == b:
        raise ZvonokError(CHAT_INVALID, "a direct chat needs two different people")
    if not valid_oid(b):
        raise _person_not_found([b])
    chat_id = direct_chat_id(a, b)
    if await db.fetchall("SELECT 1 FROM chats WHERE id = ?", (chat_id,)):
        return await summary(db, a, chat_id), None
    await _require_people(db, (a, b))
    change = await _create_chat(
        db,
        chat_id=chat_id,
        kind=ChatKind.DIRECT,
        title="",
        school_id=None,
        owner=None,
        members=sorted((a, b)),
        author=a,
        now=now,
    )
    # None: the other side opened it at the same moment, on another node.
    return await summary(db, a, chat_id), change


async def create_group(
    db: SqlConnection,
    *,
    creator: int,
    school_id: str,
    title: str,
    members: Sequence[int],
    key: str | None,
    now: float,
) -> tuple[ChatSummary, MembershipChange]:
    """A new group owned by ``creator``; a retried key gives the same group back."""
    everyone = sorted({*members, creator})
    fingerprint = request_fingerprint("create_group", school_id, title, everyone)
    replayed = await replay(db, creator, key, fingerprint)
    if replayed is not None:
        change = MembershipChange(
            replayed,
            tuple(int(oid) for oid in replayed.data["added"]),
            tuple(int(oid) for oid in replayed.data["removed"]),
        )
        return await summary(db, creator, replayed.chat), change
    await _require_people(db, everyone)
    chat_id = f"group:{secrets.token_urlsafe(9)}"
    made = await _create_chat(
        db,
        chat_id=chat_id,
        kind=ChatKind.GROUP,
        title=title,
        school_id=school_id,
        owner=creator,
        members=everyone,
        author=creator,
        now=now,
    )
    if made is None:  # pragma: no cover - 72 random bits met an existing group's
        raise ZvonokError(CHAT_INVALID, "a group id was taken; try again")
    await remember(db, creator, key, fingerprint, made.event, now)
    return await summary(db, creator, chat_id), made


async def change_members(
    db: SqlConnection,
    *,
    chat_id: str,
    actor: int,
    add: Sequence[int],
    remove: Sequence[int],
    now: float,
    moderator: bool = False,
) -> MembershipChange | None:
    """Add and remove members of a group (its owner only); ``None`` if nothing
    changed.  A ``moderator`` (checked by the caller) may remove, not add,
    without being the owner or a member."""
    await lock_chat(db, chat_id)
    if moderator:
        rows = await db.fetchall("SELECT kind, owner_oid FROM chats WHERE id = ?", (chat_id,))
    else:
        rows = await db.fetchall(
            "SELECT c.kind, c.owner_oid FROM chats c "
            "JOIN chat_members m ON m.chat_id = c.id AND m.person_oid = ? WHERE c.id = ?",
            (actor, chat_id),
        )
    if not rows:
        raise chat_not_found(chat_id)
    kind, owner = ChatKind(rows[0][0]), rows[0][1]
    if kind is not ChatKind.GROUP:
        raise members_fixed(kind.value)
    if owner != actor and not (moderator and not add):
        raise not_owner()
    to_add, to_remove = set(add), set(remove)
    if to_add & to_remove:
        raise ZvonokError(CHAT_INVALID, "a person cannot be both added and removed")
    if owner in to_remove:
        raise ZvonokError(CHAT_INVALID, "the owner cannot be removed from their group")
    current = set(await members(db, chat_id))
    added, removed = sorted(to_add - current), sorted(to_remove & current)
    await _require_people(db, added)
    if not added and not removed:
        return None
    seq = await (next_seq_any(db, chat_id) if moderator else _next_seq(db, chat_id, actor))
    await db.executemany(
        "DELETE FROM chat_members WHERE chat_id = ? AND person_oid = ?",
        [(chat_id, oid) for oid in removed],
    )
    await _record_removals(db, [(chat_id, oid, seq) for oid in removed])
    await db.executemany(
        "INSERT INTO chat_members (chat_id, person_oid, read_seq) VALUES (?, ?, ?)",
        [(chat_id, oid, seq) for oid in added],
    )
    data: dict[str, Any] = {"added": added, "removed": removed}
    event = await _append(db, chat_id, seq, EventKind.MEMBERS, actor, now, None, data)
    return MembershipChange(event, tuple(added), tuple(removed))


async def _record_removals(db: SqlConnection, removals: Sequence[tuple[str, int, int]]) -> None:
    """Note ``(chat, person, seq)`` of each removal, which bounds what the
    removed person reads of the chat (:func:`events_for`)."""
    await db.executemany(
        "INSERT INTO chat_removals (chat_id, person_oid, seq) VALUES (?, ?, ?)", removals
    )


# --------------------------------------------------------------------------
# Roster chats
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _RosterChat:
    """A roster chat as the roster tables say it should be."""

    id: str
    kind: ChatKind
    title: str
    school_id: str
    class_id: str | None
    members: set[int] = field(default_factory=set)


async def _wanted_roster_chats(db: SqlConnection) -> dict[str, _RosterChat]:
    """Every roster chat with the members the roster tables give it."""
    wanted: dict[str, _RosterChat] = {}
    for school_id, name in await db.fetchall("SELECT id, name FROM schools"):
        chat_id = staff_chat_id(school_id)
        wanted[chat_id] = _RosterChat(
            chat_id, ChatKind.STAFF, f"{name}: учителя и администрация", school_id, None
        )
    class_chats: dict[str, _RosterChat] = {}
    parent_chats: dict[str, _RosterChat] = {}
    rows = await db.fetchall("SELECT id, school_id, name, class_teacher_oid FROM classes")
    for class_id, school_id, name, teacher in rows:
        class_chats[class_id] = _RosterChat(
            class_chat_id(class_id), ChatKind.CLASS, f"{name}: класс", school_id, class_id
        )
        parent_chats[class_id] = _RosterChat(
            parents_chat_id(class_id),
            ChatKind.CLASS_PARENTS,
            f"{name}: родители",
            school_id,
            class_id,
        )
        if teacher is not None:
            class_chats[class_id].members.add(int(teacher))
            parent_chats[class_id].members.add(int(teacher))
    for school_id, oid in await db.fetchall("SELECT school_id, person_oid FROM staff"):
        wanted[staff_chat_id(school_id)].members.add(int(oid))
    for class_id, oid in await db.fetchall(
        "SELECT class_id, person_oid FROM class_members "
        "UNION SELECT class_id, person_oid FROM subject_teachers"
    ):
        class_chats[class_id].members.add(int(oid))
    for class_id, oid in await db.fetchall(
        "SELECT DISTINCT cm.class_id, g.parent_oid FROM class_members cm "
        "JOIN guardians g ON g.child_oid = cm.person_oid"
    ):
        parent_chats[class_id].members.add(int(oid))
    for chat in (*class_chats.values(), *parent_chats.values()):
        wanted[chat.id] = chat
    return wanted


# The members of groups who hold no role in the group's school any more
# (``be_added_to_group``: staff, a student of one of its classes, or a
# guardian of one), with the group's last seq.
_GROUP_LEAVERS = """
SELECT c.id, c.last_seq, m.person_oid FROM chats c JOIN chat_members m ON m.chat_id = c.id
WHERE c.kind = 'group' AND c.school_id IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM staff s
    WHERE s.school_id = c.school_id AND s.person_oid = m.person_oid)
AND NOT EXISTS (SELECT 1 FROM class_members cm
    WHERE cm.school_id = c.school_id AND cm.person_oid = m.person_oid)
AND NOT EXISTS (SELECT 1 FROM guardians g JOIN class_members cm ON cm.person_oid = g.child_oid
    WHERE cm.school_id = c.school_id AND g.parent_oid = m.person_oid)
ORDER BY c.id, m.person_oid
"""


async def sync_roster_chats(db: SqlConnection, now: float) -> list[MembershipChange]:
    """Make the roster chats' members follow the roster tables.

    Creates missing class, parents and staff chats, updates their titles,
    and writes one ``members`` event (by nobody) for each chat whose members
    change.  A roster chat whose class or school is gone loses all its
    members and keeps its log.  Groups lose, the same way, the members who
    left the group's school (its owner too: a group is its school's).  A
    roster that matches the chats writes nothing.  The changes are returned
    in chat id order.
    """
    wanted = await _wanted_roster_chats(db)
    stored: dict[str, tuple[str, int]] = {
        str(chat_id): (str(title), int(last_seq))
        for chat_id, title, last_seq in await fetch_in(
            db, "SELECT id, title, last_seq FROM chats WHERE kind IN ({})", _ROSTER_KINDS
        )
    }
    current: dict[str, set[int]] = {}
    for chat_id, oid in await fetch_in(
        db,
        "SELECT m.chat_id, m.person_oid FROM chat_members m JOIN chats c ON c.id = m.chat_id "
        "WHERE c.kind IN ({})",
        _ROSTER_KINDS,
    ):
        current.setdefault(str(chat_id), set()).add(int(oid))

    new_chats = [chat for chat_id, chat in sorted(wanted.items()) if chat_id not in stored]
    renamed = [
        (chat.title, chat_id)
        for chat_id, chat in sorted(wanted.items())
        if chat_id in stored and stored[chat_id][0] != chat.title
    ]
    planned: dict[str, tuple[list[int], list[int]]] = {}
    for chat_id in sorted(wanted.keys() | stored.keys()):
        chat = wanted.get(chat_id)
        members_now = current.get(chat_id, set())
        members_wanted = chat.members if chat is not None else set()
        added, removed = sorted(members_wanted - members_now), sorted(members_now - members_wanted)
        if added or removed:
            planned[chat_id] = (added, removed)
    groups = sorted({str(chat_id) for chat_id, _, _ in await db.fetchall(_GROUP_LEAVERS)})

    await db.executemany(
        "INSERT INTO chats (id, kind, title, school_id, class_id, owner_oid, created_at, last_seq) "
        "VALUES (?, ?, ?, ?, ?, NULL, ?, 0)",
        [
            (chat.id, chat.kind.value, chat.title, chat.school_id, chat.class_id, now)
            for chat in new_chats
        ],
    )
    await db.executemany("UPDATE chats SET title = ? WHERE id = ?", renamed)
    # Lock every chat this changes, in id order (as every transaction that
    # locks several does), then read the groups' leavers again: an owner on
    # another node may have removed one meanwhile.  The roster chats'
    # members change only here, under the roster lock the caller holds.
    if db.dialect.concurrent_writers:
        await fetch_in(
            db,
            f"SELECT id FROM chats WHERE id IN ({{}}) ORDER BY id{db.dialect.for_update}",  # noqa: S608
            sorted(planned.keys() | set(groups)),
        )
    for chat_id, _, oid in await db.fetchall(_GROUP_LEAVERS):
        if str(chat_id) in groups:
            planned.setdefault(str(chat_id), ([], []))[1].append(int(oid))

    changes: list[MembershipChange] = []
    for chat_id in sorted(planned):
        added, removed = planned[chat_id]
        # The next seq from the row itself: a post on another node may have
        # taken one since this transaction read last_seq.
        seq = await next_seq_any(db, chat_id)
        data: dict[str, Any] = {"added": added, "removed": removed}
        event = ChatEvent(chat_id, seq, EventKind.MEMBERS, None, now, data)
        changes.append(MembershipChange(event, tuple(added), tuple(removed)))

    await db.executemany(
        "INSERT INTO chat_events (chat_id, seq, kind, author_oid, at, message_id, data) "
        "VALUES (?, ?, ?, NULL, ?, NULL, ?)",
        [
            (c.event.chat, c.event.seq, EventKind.MEMBERS.value, now, _dumps(c.event.data))
            for c in changes
        ],
    )
    await db.executemany(
        "DELETE FROM chat_members WHERE chat_id = ? AND person_oid = ?",
        [(c.event.chat, oid) for c in changes for oid in c.removed],
    )
    await _record_removals(
        db, [(c.event.chat, oid, c.event.seq) for c in changes for oid in c.removed]
    )
    await db.executemany(
        "INSERT INTO chat_members (chat_id, person_oid, read_seq) VALUES (?, ?, ?)",
        [(c.event.chat, oid, c.event.seq) for c in changes for oid in c.added],
    )
    return changes


async def record_roster_changes(
    db: SqlConnection, changes: Sequence[MembershipChange], now: float
) -> None:
    """Keep a roster change in the outbox that every node follows: the roster
    chats' membership changes to announce (perhaps none), and the news that
    profiles must be read again."""
    record = [
        {"chat": c.event.chat, "seq": c.event.seq, "added": c.added, "removed": c.removed}
        for c in changes
    ]
    # The generation is the table's identity.  Its writers hold the roster
    # lock to their commit, so generations also commit in order, and a node
    # following ``generation > n`` never passes one still to commit.
    await db.execute(
        "INSERT INTO roster_changes (at, changes) VALUES (?, ?)", (now, _dumps(record))
    )


async def roster_changes_after(
    db: SqlConnection, generation: int, limit: int = 100
) -> list[tuple[int, list[MembershipChange]]]:
    """The recorded roster changes after ``generation``, oldest first, with
    their events read back from the chats' logs."""
    rows = await db.fetchall(
        "SELECT generation, changes FROM roster_changes WHERE generation > ? "
        "ORDER BY generation LIMIT ?",
        (clamp(generation), limit),
    )
    out: list[tuple[int, list[MembershipChange]]] = []
    for gen, raw in rows:
        changes = []
        for item in json.loads(raw):
            event = await _load_event(db, str(item["chat"]), int(item["seq"]))
            added = tuple(int(oid) for oid in item["added"])
            removed = tuple(int(oid) for oid in item["removed"])
            changes.append(MembershipChange(event, added, removed))
        out.append((int(gen), changes))
    return out


async def roster_generation(db: SqlConnection) -> int:
    rows = await db.fetchall("SELECT COALESCE(MAX(generation), 0) FROM roster_changes")
    return int(rows[0][0])
