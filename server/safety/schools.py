"""What a school's admins do beyond moderating chats: the school's safety
settings, its audit log, and roster imports into the running server.

An import through the server changes the roster and the roster chats in
one transaction, like ``zvonok roster import``; the server then announces
the membership changes (:class:`~server.chats.roster_watch.RosterWatch`),
so a student who left a class loses its chat on every open connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.chats import errors as ce
from server.clock import Clock
from server.errors import ZvonokError
from server.roster.authority import school_admin
from server.roster.diff import ImportReport
from server.roster.document import RosterDocument, parse_roster_bytes
from server.roster.errors import RosterError, RosterIssue, RosterOutsideSchool
from server.roster.model import Profile
from server.store.base import Store
from signaling.errors import ROSTER_INVALID, ROSTER_OUTSIDE_SCHOOL

from . import errors as se
from .filter import ContentFilter, has_link
from .guard import Guard
from .model import AuditEntry, AuditRecord
from .policy import Action, may_in_school
from .settings import SchoolSettings, parse_settings, strictest

MAX_AUDIT_PAGE = 500
MAX_ISSUES = 100


class RosterRefused(ZvonokError):
    """A roster upload that cannot be imported; ``issues`` name record and field."""

    def __init__(
        self,
        error: RosterError,
        code: str = ROSTER_INVALID,
        message: str = "the roster was refused; nothing was written",
    ) -> None:
        super().__init__(code, message)
        self.issues = [str(issue) for issue in error.issues[:MAX_ISSUES]]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "issues": self.issues}


class RosterOutside(RosterRefused):
    """An upload that would change facts of other schools: refused whole."""

    def __init__(self, error: RosterOutsideSchool) -> None:
        super().__init__(
            error,
            ROSTER_OUTSIDE_SCHOOL,
            "the roster reaches past the schools you administer; nothing was written",
        )


def screen_roster_texts(document: RosterDocument, content: ContentFilter) -> list[RosterIssue]:
    """The names an admin's upload shows to the school's children.

    No name holds a link.  The school's, classes' and subjects' names pass
    the content filter as a post does; people's names do not, because real
    surnames hold the roots it blocks («Сукин», «Блядов») and a child must
    not be refused for their name: who renamed whom is in the audit log.
    """
    people: list[tuple[str, str]] = []
    for index, person in enumerate(document.people):
        people.append((f"people[{index}].last_name", person.last_name))
        people.append((f"people[{index}].first_name", person.first_name))
        if person.middle_name is not None:
            people.append((f"people[{index}].middle_name", person.middle_name))
    named: list[tuple[str, str]] = []
    for s, school in enumerate(document.schools):
        named.append((f"schools[{s}].name", school.name))
        for c, record in enumerate(school.classes):
            named.append((f"schools[{s}].classes[{c}].name", record.name))
            for t, teacher in enumerate(record.subject_teachers):
                path = f"schools[{s}].classes[{c}].subject_teachers[{t}].subject"
                named.append((path, teacher.subject))
    issues: list[RosterIssue] = []
    for path, text in [*people, *named]:
        if has_link(text):
            issues.append(RosterIssue(path, "a name cannot hold a link"))
    for path, text in named:
        if not has_link(text) and content.blocks(text):
            issues.append(RosterIssue(path, "the content filter blocks this name"))
    return issues


class Schools:
    def __init__(
        self,
        store: Store,
        guard: Guard,
        clock: Clock,
        *,
        on_roster_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._guard = guard
        self._clock = clock
        self._on_roster_change = on_roster_change

    async def _admin(self, oid: int, school_id: str) -> Profile:
        if not await self._store.school_exists(school_id):
            raise ce.NotFound(se.SCHOOL_NOT_FOUND, f"no school {school_id[:64]!r}")
        actor = await self._guard.profile(oid)
        if actor is None or not may_in_school(actor, Action.MODERATE_SCHOOL, school_id):
            raise ce.forbidden("only the school's admins may do this")
        return actor

    async def settings(self, oid: int, school_id: str) -> SchoolSettings:
        await self._admin(oid, school_id)
        return await self._guard.settings(school_id)

    async def change_settings(
        self, oid: int, school_id: str, changes: dict[str, Any]
    ) -> SchoolSettings:
        await self._admin(oid, school_id)
        current = await self._guard.settings(school_id)
        updated = parse_settings(changes, base=current, change=True)
        audit = AuditRecord(
            school_id=school_id,
            actor=oid,
            action="settings.change",
            details={"before": current.changes(), "after": updated.changes()},
        )
        await self._store.set_school_settings(
            school_id, updated.changes(), self._clock.time(), audit
        )
        self._guard.forget_settings(school_id)
        return updated

    async def audit_log(
        self, oid: int, school_id: str, *, after: int, limit: int
    ) -> list[AuditEntry]:
        await self._admin(oid, school_id)
        limit = max(1, min(limit, MAX_AUDIT_PAGE))
        return await self._store.audit_log(school_id, after=after, limit=limit)

    async def import_roster(self, oid: int, raw: bytes) -> ImportReport:
        """Import a roster file uploaded by an admin of every school it names.

        The file may change only what belongs to the schools the uploader
        administers (:mod:`server.roster.authority`); anything else refuses
        it whole, with every refused record named.  The store writes an
        audit row for every change in every school it touches, in the
        import's transaction.
        """
        try:
            document = parse_roster_bytes(raw)
        except RosterError as exc:
            raise RosterRefused(exc) from exc
        if not document.schools:
            raise ZvonokError(ROSTER_INVALID, "an upload names the schools it is for")
        actor = await self._guard.profile(oid)
        for school in document.schools:
            if actor is None or not may_in_school(actor, Action.MODERATE_SCHOOL, school.id):
                raise ce.forbidden(f"only admins of school {school.id} may import its roster")
        words = [await self._guard.settings(school.id) for school in document.schools]
        issues = screen_roster_texts(document, ContentFilter(strictest(words).words))
        if issues:
            raise RosterRefused(RosterError(issues))
        try:
            report = await self._store.import_roster(document, school_admin(oid))
        except RosterOutsideSchool as exc:
            raise RosterOutside(exc) from exc
        except RosterError as exc:
            raise RosterRefused(exc) from exc
        finally:
            self._guard.forget_roster()
        if report.chats:
            self._on_roster_change()
        return report
