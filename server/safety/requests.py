"""Moderation, report and people requests arriving on a WebSocket session.

Like :class:`~server.chats.requests.ChatRequests`: one reply per request,
refusals raised as :class:`~server.errors.ZvonokError`.
"""

from __future__ import annotations

from server.chats.requests import ack_message
from server.errors import ZvonokError
from signaling import safety as wire
from signaling.messages import Message

from .model import Outcome
from .moderation import Moderation
from .people import People
from .reports import Reports

SAFETY_REQUESTS: tuple[type[Message], ...] = (
    wire.ModDelete,
    wire.Mute,
    wire.Unmute,
    wire.SetAnnouncements,
    wire.Pin,
    wire.Remove,
    wire.CreateReport,
    wire.ResolveReport,
    wire.ListReports,
    wire.FindPeople,
)


class SafetyRequests:
    """The moderation side of one person's session."""

    def __init__(
        self, oid: int, *, moderation: Moderation, reports: Reports, people: People
    ) -> None:
        self._oid = oid
        self._moderation = moderation
        self._reports = reports
        self._people = people

    async def handle(self, message: Message) -> Message:
        oid, mod = self._oid, self._moderation
        match message:
            case wire.ModDelete(chat=chat, message_id=message_id, key=key):
                return ack_message(await mod.delete(oid, chat, message_id, key=key))
            case wire.Mute(chat=chat, person=person, seconds=seconds):
                return ack_message(await mod.mute(oid, chat, person, seconds))
            case wire.Unmute(chat=chat, person=person):
                return ack_message(await mod.unmute(oid, chat, person))
            case wire.SetAnnouncements(chat=chat, on=on):
                return ack_message(await mod.announcements(oid, chat, on))
            case wire.Pin(chat=chat, message_id=message_id):
                return ack_message(await mod.pin(oid, chat, message_id))
            case wire.Remove(chat=chat, person=person):
                return ack_message(await mod.remove(oid, chat, person))
            case wire.CreateReport(chat=chat, message_id=message_id, reason=reason):
                report = await self._reports.create(oid, chat, message_id, reason)
                return wire.ReportInfo(report=report.to_json(with_text=False))
            case wire.ResolveReport(report=report_id, outcome=outcome, note=note):
                resolved = await self._reports.resolve(oid, report_id, Outcome(outcome), note)
                return wire.ReportInfo(report=resolved.to_json())
            case wire.ListReports(mine=mine, status=status):
                listed = await self._reports.listed(oid, mine=mine, status=status)
                return wire.ReportList(reports=listed)
            case wire.FindPeople(query=query):
                return wire.PeopleList(people=await self._people.find(oid, query))
            case other:
                raise ZvonokError("message.unknown_type", f"{other.TYPE} is not a safety request")
