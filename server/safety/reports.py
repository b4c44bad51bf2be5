"""Reports: a member flags a message, the chat's moderators resolve it.

A report keeps the message's text as it was when reported, so deleting the
message later does not destroy the evidence.  It is pushed at once to the
moderators' open connections (``report.new``) and stays listed until
resolved; the reporter is told the outcome (``report.resolved``).
"""

from __future__ import annotations

from server.bus import Bus, person_topic
from server.clock import Clock
from server.errors import safety as se
from server.model.safety import AuditRecord, Outcome, Report
from server.policy.guard import Guard, schools_of
from server.roster.model import Role
from server.store.base import Store
from signaling.codec import encode
from signaling.safety import Report as ReportJson
from signaling.safety import ReportNew, ReportResolved

MAX_LISTED = 200
MAX_PAGES = 10  # reports read for one listing: at most MAX_LISTED * MAX_PAGES


class Reports:
    def __init__(self, store: Store, bus: Bus, guard: Guard, clock: Clock) -> None:
        self._store = store
        self._bus = bus
        self._guard = guard
        self._clock = clock

    async def create(self, oid: int, chat_id: str, message_id: int, reason: str) -> Report:
        reason = reason.strip()
        if not reason:
            raise se.invalid("say what is wrong with the message")
        facts = await self._guard.facts(chat_id)
        recipients = await self._guard.moderators(facts)
        report, new = await self._store.create_report(
            chat_id=chat_id,
            message_id=message_id,
            reporter=oid,
            reason=reason,
            recipients=sorted(recipients),
            now=self._clock.time(),
        )
        if new:
            frame = encode(ReportNew(report=report.to_json()))
            for moderator in sorted(recipients):
                await self._bus.publish(person_topic(moderator), {"frame": frame, "durable": True})
        return report

    async def resolve(self, oid: int, report_id: int, outcome: Outcome, note: str | None) -> Report:
        report = await self._store.report(report_id)
        if report is None or not await self._may_resolve(oid, report):
            raise se.ReportNotFound(report_id)
        facts = await self._guard.facts(report.chat_id)
        actor = await self._guard.person(oid)
        school_id = await self._guard.audit_school(actor, facts)
        if note and school_id is not None:  # the reporter, perhaps a child, reads it
            note = await self._guard.check_text(actor, school_id, note)
        audit = AuditRecord(
            school_id=school_id,
            actor=oid,
            action="report.resolve",
            chat_id=report.chat_id,
            target=report.author,
            message_id=report.message_id,
            details={"report": report_id, "outcome": outcome.value, "note": note},
        )
        resolved, changed = await self._store.resolve_report(
            report_id=report_id,
            actor=oid,
            outcome=outcome,
            note=note,
            now=self._clock.time(),
            audit=audit,
        )
        if changed:
            frame = encode(ReportResolved(report=resolved.to_json(with_text=False)))
            await self._bus.publish(
                person_topic(resolved.reporter), {"frame": frame, "durable": True}
            )
        return resolved

    async def _may_resolve(self, oid: int, report: Report) -> bool:
        """Whether ``oid`` moderates the report's chat now.  Having been sent
        the report is no right: the roster may have changed since."""
        facts = await self._store.chat_facts(report.chat_id)
        if facts is None:
            return False
        return await self._guard.is_moderator(await self._guard.profile(oid), facts)

    async def listed(self, oid: int, *, mine: bool, status: str | None) -> list[ReportJson]:
        """The caller's own reports (``mine``, without the kept text), or the
        reports of the chats she moderates now, with it: sent to her or not
        (a class teacher named in the autumn sees the open reports of her
        class from before), newest first, at most ``MAX_LISTED``."""
        if mine:
            own = await self._store.reports_by(oid, limit=MAX_LISTED)
            return [r.to_json(with_text=False) for r in own if status in (None, r.status)]
        profile = await self._guard.profile(oid)
        schools = sorted(schools_of(profile, Role.TEACHER, Role.ADMIN))
        moderates: dict[str, bool] = {}
        listed: list[ReportJson] = []
        before: int | None = None
        for _ in range(MAX_PAGES):  # rights are kept after the read, so page on
            page = await self._store.reports_for(
                oid, schools=schools, status=status, before=before, limit=MAX_LISTED
            )
            for report in page:
                if report.chat_id not in moderates:
                    facts = await self._store.chat_facts(report.chat_id)
                    moderates[report.chat_id] = facts is not None and (
                        await self._guard.is_moderator(profile, facts)
                    )
                if moderates[report.chat_id]:
                    listed.append(report.to_json())
                    if len(listed) == MAX_LISTED:
                        return listed
            if len(page) < MAX_LISTED:
                break
            before = page[-1].id
        return listed
