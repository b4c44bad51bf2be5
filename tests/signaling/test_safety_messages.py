"""The moderation, report and people messages: golden round trips and bad bodies."""

from __future__ import annotations

import msgpack
import pytest

from signaling import safety as s
from signaling.codec import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Envelope,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from signaling.errors import MESSAGE_INVALID, ProtocolError
from signaling.messages import Message

REPORT = {
    "id": 3,
    "chat": "class:5a",
    "message_id": 17,
    "reporter": 1000100101,
    "author": 1000100102,
    "reason": "обзывается",
    "created_at": 1.8e9,
    "status": "open",
    "outcome": None,
    "resolved_at": None,
    "note": None,
}
"""A whole report: the reports of server messages are typed (signaling.safety.Report)."""

CLIENT_SAMPLES: list[Message] = [
    s.ModDelete(chat="class:5a", message_id=17),
    s.ModDelete(chat="class:5a", message_id=17, key="k1"),
    s.Mute(chat="class:5a", person=1000100101, seconds=600),
    s.Unmute(chat="class:5a", person=1000100101),
    s.SetAnnouncements(chat="class:5a", on=True),
    s.Pin(chat="class:5a", message_id=17),
    s.Pin(chat="class:5a", message_id=None),
    s.Remove(chat="group:abc", person=1000100101),
    s.CreateReport(chat="class:5a", message_id=17, reason="обзывается"),
    s.ResolveReport(report=3, outcome="warned", note="поговорили"),
    s.ResolveReport(report=3, outcome="dismissed"),
    s.ListReports(),
    s.ListReports(mine=True, status="open"),
    s.FindPeople(query="Иванова"),
]

SERVER_SAMPLES: list[Message] = [
    s.ReportInfo(report=REPORT),
    s.ReportList(reports=[REPORT]),
    s.ReportNew(report=REPORT),
    s.ReportResolved(report={**REPORT, "outcome": "warned"}),
    s.PeopleList(people=[{"oid": 1, "full_name": "Иванова Анна", "roles": []}]),
]


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=lambda m: m.TYPE)
def test_client_safety_messages_round_trip(message: Message) -> None:
    assert CLIENT_MESSAGES[message.TYPE] is type(message)
    assert decode_client_frame(encode(message, 7)) == Envelope(message, 7)


@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=lambda m: m.TYPE)
def test_server_safety_messages_round_trip(message: Message) -> None:
    assert SERVER_MESSAGES[message.TYPE] is type(message)
    assert decode_server_frame(encode(message)) == Envelope(message, None)


def _refused(body: dict[str, object], kind: str) -> ProtocolError:
    frame = msgpack.packb({"type": kind, "id": 1, "body": body})
    with pytest.raises(ProtocolError) as caught:
        decode_client_frame(frame)
    return caught.value


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("moderation.mute", {"chat": "class:5a", "person": 1, "seconds": 0}),
        ("moderation.mute", {"chat": "class:5a", "person": 1, "seconds": 31 * 24 * 3600}),
        ("moderation.mute", {"chat": "class:5a", "person": 0, "seconds": 60}),
        ("moderation.announcements", {"chat": "class:5a", "on": "yes"}),
        ("moderation.delete", {"chat": "class:5a", "message_id": -1}),
        ("report.resolve", {"report": 1, "outcome": "banned"}),
        ("report.create", {"chat": "class:5a", "message_id": 1, "reason": ""}),
        ("report.create", {"chat": "class:5a", "message_id": 1, "reason": "x" * 1001}),
        ("reports", {"status": "closed"}),
        ("people.find", {"query": "я" * 101}),
    ],
)
def test_bad_safety_bodies_are_refused_with_the_request_id(
    kind: str, body: dict[str, object]
) -> None:
    error = _refused(body, kind)
    assert (error.code, error.request_id) == (MESSAGE_INVALID, 1)
