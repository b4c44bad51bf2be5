"""A roster import's write transaction, in portable SQL.

Inside one transaction: read the stored rows of the file's scope, diff them
with the file, check an admin's upload against the schools they administer
(:mod:`server.roster.authority`), write the rows, bring the roster chats
along, and write an audit row for every change in every school it touches.
A refusal raises before the first write, so nothing of it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.chats.model import MembershipChange
from server.roster.authority import (
    Importer,
    Presence,
    RowChange,
    check_upload,
    people_named,
    row_changes,
    touched_schools,
)
from server.roster.diff import RosterChanges, diff_roster
from server.roster.document import RosterDocument
from server.roster.errors import RosterOutsideSchool
from server.roster.model import OID, Person, SchoolId
from server.roster.rows import RosterRows, RosterScope
from server.safety.model import AuditRecord

from . import chat_sql, roster_sql, safety_sql
from .sql import SqlConnection

IMPORT_ACTION = "roster.import"
CHANGE_ACTION = "roster.change"
REFUSED_ACTION = "roster.refused"
MAX_AUDITED_ISSUES = 100


def refusal_audit(error: RosterOutsideSchool, importer: Importer) -> list[AuditRecord]:
    """The audit rows of a refused upload, written after its transaction was
    rolled back: every school whose facts it reached for hears of it."""
    issues = [str(issue) for issue in error.issues[:MAX_AUDITED_ISSUES]]
    return [
        AuditRecord(
            school_id=school,
            actor=importer.actor,
            action=REFUSED_ACTION,
            details={"issues": issues, "count": len(error.issues)},
        )
        for school in sorted(error.schools)
    ]


async def import_document(
    db: SqlConnection, doc: RosterDocument, importer: Importer | None, now: float
) -> tuple[RosterChanges, list[MembershipChange]]:
    """Make the stored roster match ``doc`` within its scope, as ``importer``.

    ``importer`` ``None`` is the demo seed, which writes no audit rows.
    Returns the table changes and the roster chats' membership changes.
    """
    current = await roster_sql.load_scope(db, RosterScope.of(doc))
    changes = diff_roster(doc, current)
    named = people_named(changes)
    before = await roster_sql.load_presence(db, named)
    if importer is not None and importer.admin:
        admin_of = await roster_sql.admin_schools(db, importer.actor)
        check_upload(doc, changes, current, before, admin_of)
    await roster_sql.apply_changes(db, changes)
    chats = await chat_sql.sync_roster_chats(db, now)
    if changes.report.changed or chats:
        await chat_sql.record_roster_changes(db, chats, now)
    if importer is not None:
        after = await roster_sql.load_presence(db, named)
        records = _audit(doc, changes, current, before, after, importer.actor, len(chats))
        await safety_sql.write_audits(db, records, now)
    return changes, chats


def _audit(
    doc: RosterDocument,
    changes: RosterChanges,
    current: RosterRows,
    before: Presence,
    after: Presence,
    actor: int,
    chats: int,
) -> Sequence[AuditRecord]:
    """A summary row for every school the file names or a change touches,
    then a row per change in every school it touches."""
    class_schools: dict[str, SchoolId] = {
        class_id: row.school_id for class_id, row in current.classes.items()
    }
    class_schools.update(
        (record.id, school.id) for school in doc.schools for record in school.classes
    )
    stored: Mapping[OID, Person] = current.people
    rows: list[tuple[SchoolId, RowChange]] = []
    for change in row_changes(changes, stored):
        for school in sorted(touched_schools(change, before, after, class_schools)):
            rows.append((school, change))
    summary = changes.report.summary()
    schools = sorted({school.id for school in doc.schools} | {school for school, _ in rows})
    records = [
        AuditRecord(
            school_id=school,
            actor=actor,
            action=IMPORT_ACTION,
            details={"summary": summary, "chats": chats},
        )
        for school in schools
    ]
    records.extend(
        AuditRecord(
            school_id=school,
            actor=actor,
            action=CHANGE_ACTION,
            target=change.people[0] if change.people else None,
            details=change.details(),
        )
        for school, change in rows
    )
    return records
