"""Browser sign-ins and sessions, in portable SQL (``0008_web_sessions.sql``).

Like the other ``*_sql`` modules, every function runs inside a transaction
the store opened; the store's methods are one line each around them.
Secrets arrive here as digests (the ``state``, the cookies), except the ESIA
tokens, which the server needs back to renew and check a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .sql import SqlConnection


@dataclass(frozen=True, slots=True)
class SignIn:
    """A sign-in under way: the browser it is bound to, and where to go back to."""

    browser_digest: str
    return_to: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser's session, as stored."""

    id_digest: str
    person_oid: int
    access_token: str
    refresh_token: str
    access_expires_at: float
    created_at: float
    expires_at: float


_SESSION = (
    "SELECT id_digest, person_oid, access_token, refresh_token, access_expires_at, "
    "created_at, expires_at FROM web_sessions"
)


def _session(row: Sequence[Any]) -> WebSession:
    return WebSession(
        id_digest=str(row[0]),
        person_oid=int(row[1]),
        access_token=str(row[2]),
        refresh_token=str(row[3]),
        access_expires_at=float(row[4]),
        created_at=float(row[5]),
        expires_at=float(row[6]),
    )


async def put_sign_in(db: SqlConnection, state_digest: str, sign_in: SignIn, now: float) -> None:
    """Remember a sign-in; expired ones are swept on the way."""
    await db.execute("DELETE FROM sign_ins WHERE expires_at <= ?", (now,))
    await db.execute(
        "INSERT INTO sign_ins (state_digest, browser_digest, return_to, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (state_digest, sign_in.browser_digest, sign_in.return_to, now, sign_in.expires_at),
    )


async def take_sign_in(db: SqlConnection, state_digest: str) -> SignIn | None:
    """The sign-in of this state, deleted as it is read: a state is good once."""
    rows = await db.fetchall(
        "SELECT browser_digest, return_to, expires_at FROM sign_ins WHERE state_digest = ?",
        (state_digest,),
    )
    if not rows:
        return None
    await db.execute("DELETE FROM sign_ins WHERE state_digest = ?", (state_digest,))
    browser, return_to, expires_at = rows[0]
    return SignIn(str(browser), str(return_to), float(expires_at))


async def create_session(db: SqlConnection, session: WebSession) -> None:
    """Store a new session; expired ones are swept on the way."""
    await db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (session.created_at,))
    await db.execute(
        "INSERT INTO web_sessions (id_digest, person_oid, access_token, refresh_token, "
        "access_expires_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            session.id_digest,
            session.person_oid,
            session.access_token,
            session.refresh_token,
            session.access_expires_at,
            session.created_at,
            session.expires_at,
        ),
    )


async def session(db: SqlConnection, id_digest: str) -> WebSession | None:
    rows = await db.fetchall(f"{_SESSION} WHERE id_digest = ?", (id_digest,))
    return _session(rows[0]) if rows else None


async def renew_session(
    db: SqlConnection,
    id_digest: str,
    *,
    old_refresh_token: str,
    access_token: str,
    refresh_token: str,
    access_expires_at: float,
) -> bool:
    """Replace the session's tokens if its refresh token is still ``old_refresh_token``.

    False when the session is gone or another renewal came first (compare
    and set: the one that lost reads the winner's tokens).
    """
    rows = await db.fetchall(
        "SELECT 1 FROM web_sessions WHERE id_digest = ? AND refresh_token = ?",
        (id_digest, old_refresh_token),
    )
    if not rows:
        return False
    await db.execute(
        "UPDATE web_sessions SET access_token = ?, refresh_token = ?, access_expires_at = ? "
        "WHERE id_digest = ?",
        (access_token, refresh_token, access_expires_at, id_digest),
    )
    return True


async def end_session(db: SqlConnection, id_digest: str) -> bool:
    """Delete the session; whether there was one."""
    found = await db.fetchall("SELECT 1 FROM web_sessions WHERE id_digest = ?", (id_digest,))
    await db.execute("DELETE FROM web_sessions WHERE id_digest = ?", (id_digest,))
    return bool(found)
