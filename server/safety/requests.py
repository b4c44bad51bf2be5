"""Moderation, report and people requests arriving on a WebSocket session.

Like :class:`~server.chats.requests.ChatRequests`: one marked handler per
request, one reply each, refusals raised as :class:`~server.errors.ZvonokError`.
"""

from __future__ import annotations

from server.chats.requests import ack_message
from server.dispatch import handles
from server.model.safety import Outcome
from signaling import safety as wire
from signaling.chat import AckMsg
from signaling.codec import RequestId
from signaling.schema import given

from .moderation import Moderation
from .people import People
from .reports import Reports


class SafetyRequests:
    """The moderation side of one person's session."""

    def __init__(
        self, oid: int, *, moderation: Moderation, reports: Reports, people: People
    ) -> None:
        self._oid = oid
        self._moderation = moderation
        self._reports = reports
        self._people = people

    @handles(wire.ModDelete)
    async def delete(self, m: wire.ModDelete, rid: RequestId | None) -> AckMsg:
        return ack_message(
            await self._moderation.delete(self._oid, m.chat, m.message_id, key=m.key)
        )

    @handles(wire.Mute)
    async def mute(self, m: wire.Mute, rid: RequestId | None) -> AckMsg:
        return ack_message(await self._moderation.mute(self._oid, m.chat, m.person, m.seconds))

    @handles(wire.Unmute)
    async def unmute(self, m: wire.Unmute, rid: RequestId | None) -> AckMsg:
        return ack_message(await self._moderation.unmute(self._oid, m.chat, m.person))

    @handles(wire.SetAnnouncements)
    async def announcements(self, m: wire.SetAnnouncements, rid: RequestId | None) -> AckMsg:
        return ack_message(await self._moderation.announcements(self._oid, m.chat, m.on))

    @handles(wire.Pin)
    async def pin(self, m: wire.Pin, rid: RequestId | None) -> AckMsg:
        return ack_message(await self._moderation.pin(self._oid, m.chat, m.message_id))

    @handles(wire.Remove)
    async def remove(self, m: wire.Remove, rid: RequestId | None) -> AckMsg:
        return ack_message(await self._moderation.remove(self._oid, m.chat, m.person))

    @handles(wire.CreateReport)
    async def create_report(self, m: wire.CreateReport, rid: RequestId | None) -> wire.ReportInfo:
        report = await self._reports.create(self._oid, m.chat, m.message_id, m.reason)
        return wire.ReportInfo(report=report.to_json(with_text=False))

    @handles(wire.ResolveReport)
    async def resolve_report(self, m: wire.ResolveReport, rid: RequestId | None) -> wire.ReportInfo:
        resolved = await self._reports.resolve(self._oid, m.report, Outcome(m.outcome), m.note)
        return wire.ReportInfo(report=resolved.to_json())

    @handles(wire.ListReports)
    async def list_reports(self, m: wire.ListReports, rid: RequestId | None) -> wire.ReportList:
        listed = await self._reports.listed(self._oid, mine=m.mine, status=given(m.status))
        return wire.ReportList(reports=listed)

    @handles(wire.FindPeople)
    async def find_people(self, m: wire.FindPeople, rid: RequestId | None) -> wire.PeopleList:
        return wire.PeopleList(people=await self._people.find(self._oid, m.query))
