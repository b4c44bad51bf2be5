"""The safety part of the HTTP API (docs/api.md, docs/safety.md).

The same services as the WebSocket's serve it: people search, a parent's
oversight of a young child's chat list, moderation, reports, and for a
school's admins its settings, its audit log and roster uploads.
"""

from __future__ import annotations

from aiohttp import web

from server.chats.http import ack_json
from server.errors import ZvonokError
from server.http_api import (
    caller,
    invalid,
    json_object,
    json_response,
    optional_key,
    read_body,
    read_query,
)
from server.model.chats import Ack
from server.model.safety import Outcome
from signaling import http as bodies
from signaling.errors import ROSTER_TOO_LARGE

from .keys import MODERATION, PEOPLE, REPORTS, SCHOOLS

routes = web.RouteTableDef()

MAX_ROSTER_UPLOAD = 16 * 1024 * 1024


class UploadTooLarge(ZvonokError):
    """A body over the endpoint's limit (413); ``limit`` says how many bytes fit."""

    def __init__(self, limit: int) -> None:
        super().__init__(ROSTER_TOO_LARGE, f"a roster file is at most {limit} bytes")
        self.limit = limit

    def to_json(self) -> dict[str, str | float]:
        return {**super().to_json(), "limit": self.limit}


async def read_upload(request: web.Request, limit: int) -> bytes:
    """The whole body, however many chunks it comes in, or :class:`UploadTooLarge`.

    The app's ``client_max_size`` is sized for JSON requests; a roster file
    may be larger, so the request is read under its own limit.  A declared
    length over it is refused before a byte is read.
    """
    if request.content_length is not None and request.content_length > limit:
        raise UploadTooLarge(limit)
    try:
        return await request.clone(client_max_size=limit).read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise UploadTooLarge(limit) from exc


@routes.get("/api/v1/people")
async def find_people(request: web.Request) -> web.Response:
    """``?q=name``: people the caller may write to, by name."""
    oid = await caller(request)
    query = read_query(request, bodies.PeopleQuery, strip=True)
    return json_response({"people": await request.app[PEOPLE].find(oid, query.q)})


@routes.get("/api/v1/children/{oid}/chats")
async def child_chats(request: web.Request) -> web.Response:
    """A young child's chats and their members, for the child's parent; no content."""
    oid = await caller(request)
    raw = request.match_info["oid"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise invalid("oid: a person's OID")
    chats = await request.app[PEOPLE].child_chats(oid, int(raw))
    return json_response({"child": int(raw), "chats": chats})


@routes.post("/api/v1/chats/{chat}/moderation")
async def moderate(request: web.Request) -> web.Response:
    """One moderator action: ``{"action": "delete", "message_id"}``, ``"mute"``
    (``person``, ``seconds``), ``"unmute"`` (``person``), ``"announcements"``
    (``on``), ``"pin"`` (``message_id``), ``"unpin"``, ``"remove"`` (``person``)."""
    oid = await caller(request)
    chat = request.match_info["chat"]
    action: bodies.ModerationAction = await read_body(request, bodies.ModerationAction)
    mod = request.app[MODERATION]
    ack: Ack
    match action:
        case bodies.DeleteAction(message_id=message_id):
            ack = await mod.delete(oid, chat, message_id, key=optional_key(request))
        case bodies.MuteAction(person=person, seconds=seconds):
            ack = await mod.mute(oid, chat, person, seconds)
        case bodies.UnmuteAction(person=person):
            ack = await mod.unmute(oid, chat, person)
        case bodies.AnnouncementsAction(on=on):
            ack = await mod.announcements(oid, chat, on)
        case bodies.PinAction(message_id=message_id):
            ack = await mod.pin(oid, chat, message_id)
        case bodies.UnpinAction():
            ack = await mod.pin(oid, chat, None)
        case bodies.RemoveAction(person=person):
            ack = await mod.remove(oid, chat, person)
    return json_response(ack_json(ack), status=200 if ack.duplicate else 201)


@routes.post("/api/v1/chats/{chat}/reports")
async def create_report(request: web.Request) -> web.Response:
    """Report ``{"message_id", "reason"}`` to the chat's moderators."""
    oid = await caller(request)
    body = await read_body(request, bodies.CreateReportBody)
    chat = request.match_info["chat"]
    report = await request.app[REPORTS].create(oid, chat, body.message_id, body.reason)
    return json_response({"report": report.to_json(with_text=False)}, status=201)


@routes.get("/api/v1/reports")
async def list_reports(request: web.Request) -> web.Response:
    """Reports sent to the caller as a moderator; ``?mine=1`` the caller's own;
    ``?status=open|resolved``."""
    oid = await caller(request)
    query = read_query(request, bodies.ReportsQuery)
    mine = request.query.get("mine", "") in ("1", "true")
    reports = await request.app[REPORTS].listed(oid, mine=mine, status=query.status)
    return json_response({"reports": reports})


@routes.post("/api/v1/reports/{report}/resolve")
async def resolve_report(request: web.Request) -> web.Response:
    """``{"outcome": "removed" | "warned" | "dismissed", "note": "..."?}``"""
    oid = await caller(request)
    raw = request.match_info["report"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**53:
        raise invalid("report: a report id")
    body = await read_body(request, bodies.ResolveReportBody)
    report = await request.app[REPORTS].resolve(oid, int(raw), Outcome(body.outcome), body.note)
    return json_response({"report": report.to_json()})


@routes.get("/api/v1/schools/{school}/settings")
async def get_settings(request: web.Request) -> web.Response:
    oid = await caller(request)
    settings = await request.app[SCHOOLS].settings(oid, request.match_info["school"])
    return json_response({"settings": settings.to_json()})


@routes.put("/api/v1/schools/{school}/settings")
async def put_settings(request: web.Request) -> web.Response:
    """Change some settings: the keys given replace the current values."""
    oid = await caller(request)
    body = await json_object(request)
    settings = await request.app[SCHOOLS].change_settings(oid, request.match_info["school"], body)
    return json_response({"settings": settings.to_json()})


@routes.get("/api/v1/schools/{school}/audit")
async def audit_log(request: web.Request) -> web.Response:
    """The school's audit log, oldest first: ``?after=<id>&limit=<n>``."""
    oid = await caller(request)
    school = request.match_info["school"]
    query = read_query(request, bodies.AuditQuery)
    after, limit = query.after or 0, query.limit or 100
    entries = await request.app[SCHOOLS].audit_log(oid, school, after=after, limit=limit)
    return json_response({"school": school, "entries": [e.to_json() for e in entries]})


@routes.post("/api/v1/admin/roster")
async def import_roster(request: web.Request) -> web.Response:
    """Import a roster file (docs/roster.md) for schools the caller administers."""
    oid = await caller(request)
    report = await request.app[SCHOOLS].import_roster(
        oid, lambda: read_upload(request, MAX_ROSTER_UPLOAD)
    )
    return json_response(
        {
            "changed": report.changed,
            "summary": report.summary(),
            "tables": report.to_json(),
            "kept": list(report.kept),
        }
    )
