"""What a school's admins do beyond moderating chats: the school's safety
settings, its audit log, and roster imports into the running server.

An import through the server changes the roster and the roster chats in
one transaction, like ``zvonok roster import``; the server then announces
the membership changes (:class:`~server.chats.roster_watch.RosterWatch`),
so a student who left a class loses its chat on every open connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from server.clock import Clock
from server.config import SafetyConfig
from server.errors import ZvonokError
from server.errors import chats as ce
from server.errors import safety as se
from server.model.safety import AuditEntry, AuditRecord
from server.policy.filter import ContentFilter, has_link
from server.policy.guard import Guard
from server.policy.policy import Action, may_in_school
from server.policy.settings import SchoolSettings, parse_settings, strictest
from server.ratelimit import TokenBucket
from server.roster.authority import Importer, school_admin
from server.roster.diff import ImportReport
from server.roster.document import RosterDocument, decode_roster_bytes, parse_roster
from server.roster.errors import (
    ROSTER_INVALID,
    ROSTER_OUTSIDE_SCHOOL,
    RosterError,
    RosterIssue,
    RosterOutsideSchool,
)
from server.roster.model import Profile
from server.roster.reach import reach_of
from server.store.base import Store

MAX_AUDIT_PAGE = 500
MAX_ISSUES = 100
MAX_UPLOADERS = 10_000  # rate buckets kept; forgetting one only grants a fresh burst


class RosterRefused(ZvonokError):
    """A roster upload that cannot be imported; ``issues`` name record and field.

    422 ``roster.invalid``, or 403 ``roster.outside_school`` for a file that
    reaches past the schools the uploader administers.
    """

    def __init__(self, error: RosterError) -> None:
        if isinstance(error, RosterOutsideSchool):
            message = "the roster reaches past the schools you administer; nothing was written"
            super().__init__(ROSTER_OUTSIDE_SCHOOL, message)
        else:
            super().__init__(ROSTER_INVALID, "the roster was refused; nothing was written")
        self.issues = [str(issue) for issue in error.issues[:MAX_ISSUES]]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "issues": self.issues}


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
        config: SafetyConfig | None = None,
        *,
        on_roster_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._guard = guard
        self._clock = clock
        self._config = config or SafetyConfig()
        self._uploads: dict[int, TokenBucket] = {}
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

    async def import_roster(self, oid: int, read: Callable[[], Awaitable[bytes]]) -> ImportReport:
        """Import a roster file uploaded by an admin of every school it names.

        ``read`` gives the file's bytes; it is called only once the upload is
        within the person's rate (``rate.limited`` otherwise), so a flood
        costs neither the reading nor audit rows.  The file may change only
        what belongs to the schools the uploader administers
        (:mod:`server.roster.authority`); anything else refuses it whole,
        with every refused record named.  Every refusal is audited in the
        uploader's schools and in every school it reached for (the schools
        the file names, those of the people its issues point at); every
        change, in every school it touches, in the import's transaction.
        """
        self._take_upload(oid)
        importer = school_admin(oid)
        raw = await read()
        try:
            data = decode_roster_bytes(raw)
        except RosterError as exc:
            raise await self._refuse(importer, exc) from exc
        try:
            document = parse_roster(data)
        except RosterError as exc:
            raise await self._refuse(importer, exc, data) from exc
        if not document.schools:
            problem = RosterError([RosterIssue("schools", "an upload names the schools it is for")])
            raise await self._refuse(importer, problem, data)
        actor = await self._guard.profile(oid)
        foreign = [
            RosterIssue(f"schools[{index}].id", f"you are not an admin of school {school.id}")
            for index, school in enumerate(document.schools)
            if actor is None or not may_in_school(actor, Action.MODERATE_SCHOOL, school.id)
        ]
        if foreign:
            raise await self._refuse(importer, RosterOutsideSchool(foreign, ()), data)
        words = [await self._guard.settings(school.id) for school in document.schools]
        issues = screen_roster_texts(document, ContentFilter(strictest(words).words))
        if issues:
            raise await self._refuse(importer, RosterError(issues), data)
        try:
            # The store checks the file again in its transaction and audits
            # its own refusals.
            report = await self._store.import_roster(document, importer)
        except RosterError as exc:
            raise RosterRefused(exc) from exc
        finally:
            self._guard.forget_roster()
        if report.chats:
            self._on_roster_change()
        return report

    def _take_upload(self, oid: int) -> None:
        bucket = self._uploads.get(oid)
        if bucket is None:
            if len(self._uploads) >= MAX_UPLOADERS:
                self._uploads.clear()
            rate = self._config.roster_uploads_per_hour / 3600.0
            bucket = TokenBucket(rate, self._config.roster_upload_burst, self._clock)
            self._uploads[oid] = bucket
        wait = bucket.take()
        if wait:
            raise ce.RateLimited(round(wait, 3), "too many roster uploads; try again later")

    async def _refuse(
        self, importer: Importer, error: RosterError, data: object = None
    ) -> RosterRefused:
        """Audit a refusal made before the store's transaction; the client's error.

        ``data``, the decoded file, says which schools and people the issues
        point at (schools the file names included)."""
        reach = reach_of(data, error.issues)
        located = type(error)(
            error.issues, error.schools | reach.schools, error.people | reach.people
        )
        await self._store.audit_roster_refusal(located, importer)
        return RosterRefused(error)
