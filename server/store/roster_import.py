"""A roster import's write transaction, in portable SQL.

Inside one transaction: read the stored rows of the file's scope, diff them
with the file, decide what an admin's upload may write
(:mod:`server.roster.authority`), write it, bring the roster chats along,
and write an audit row for every change in every school it touches.  A
refusal raises before the first write, so nothing of it is kept; its
``roster.refused`` rows are written by :func:`record_refusal` once the
import's transaction has been rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.model.chats import MembershipChange
from server.model.safety import AuditRecord
from server.roster.authority import (
    Importer,
    Presence,
    RowChange,
    decide_upload,
    people_named,
    row_changes,
    touched_schools,
)
from server.roster.diff import RosterChanges, diff_roster
from server.roster.document import RosterDocument
from server.roster.errors import RosterError
from server.roster.model import OID, Person, SchoolId
from server.roster.rows import RosterRows, RosterScope

from . import chat_sql, roster_sql, safety_sql
from .sql import SqlConnection

IMPORT_ACTION = "roster.import"
CHANGE_ACTION = "roster.change"
REFUSED_ACTION = "roster.refused"
MAX_AUDITED_ISSUES = 100


async def record_refusal(
    db: SqlConnection, error: RosterError, importer: Importer, now: float
) -> list[AuditRecord]:
    """Write the ``roster.refused`` rows of an admin's refused upload: one in
    each of the uploader's schools, of the stored schools the error names,
    and of the schools the people it names belong to (their guardians'
    included).  Returns the rows written."""
    schools: set[str] = set(await roster_sql.admin_schools(db, importer.actor)) | error.schools
    if error.people:
        presence = await roster_sql.load_presence(db, (OID(oid) for oid in error.people))
        for oid in error.people:
            schools |= presence.schools_of(OID(oid))
    issues = [str(issue) for issue in error.issues[:MAX_AUDITED_ISSUES]]
    records = [
        AuditRecord(
            school_id=school,
            actor=importer.actor,
            action=REFUSED_ACTION,
            details={"code": error.code, "issues": issues, "count": len(error.issues)},
        )
        for school in sorted(await roster_sql.existing_schools(db, schools))
    ]
    await safety_sql.write_audits(db, records, now)
    return records


async def import_document(
    db: SqlConnection, doc: RosterDocument, importer: Importer | None, now: float
) -> tuple[RosterChanges, list[MembershipChange], tuple[str, ...]]:
    """Make the stored roster match ``doc`` within its scope, as ``importer``.

    ``importer`` ``None`` is the demo seed, which writes no audit rows.
    Returns the table changes written, the roster chats' membership changes,
    and where an admin's file said what was kept (not read).
    """
    admin = importer is not None and importer.admin
    current = await roster_sql.load_scope(db, RosterScope.of(doc))
    changes = diff_roster(doc, current, name_owners=not admin)
    named = people_named(changes) | {person.oid for person in doc.people}
    before = await roster_sql.load_presence(db, named)
    kept: tuple[str, ...] = ()
    if importer is not None and importer.admin:
        admin_of = await roster_sql.admin_schools(db, importer.actor)
        upload = decide_upload(doc, changes, current, before, admin_of)
        changes, kept = upload.changes, upload.kept
    await roster_sql.apply_changes(db, changes)
    chats = await chat_sql.sync_roster_chats(db, now)
    if changes.report.changed or chats:
        await chat_sql.record_roster_changes(db, chats, now)
    if importer is not None:
        after = await roster_sql.load_presence(db, named)
        records = _audit(doc, changes, current, before, after, importer.actor, len(chats), kept)
        await safety_sql.write_audits(db, records, now)
    return changes, chats, kept


def _audit(
    doc: RosterDocument,
    changes: RosterChanges,
    current: RosterRows,
    before: Presence,
    after: Presence,
    actor: int,
    chats: int,
    kept: tuple[str, ...],
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
    summary: dict[str, object] = {"summary": changes.report.summary(), "chats": chats}
    if kept:
        summary["kept"] = [note.split(":", 1)[0] for note in kept[:MAX_AUDITED_ISSUES]]
    schools = sorted({school.id for school in doc.schools} | {school for school, _ in rows})
    records = [
        AuditRecord(school_id=school, actor=actor, action=IMPORT_ACTION, details=summary)
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
