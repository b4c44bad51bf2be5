"""The safety part of the HTTP API (docs/api.md, docs/safety.md).

The same services as the WebSocket's serve it: people search, a parent's
oversight of a young child's chat list, moderation, reports, and for a
school's admins its settings, its audit log and roster uploads.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .appkeys import MODERATION, PEOPLE, REPORTS, SCHOOLS
from .chats.model import Ack
from .errors import ZvonokError
from .http_api import json_response
from .http_chats import ack_json, caller, int_field, invalid, json_body, optional_key, query_int
from .safety.model import Outcome

routes = web.RouteTableDef()

MAX_ROSTER_UPLOAD = 16 * 1024 * 1024
MAX_REASON = 1000
ROSTER_TOO_LARGE = "roster.too_large"


class UploadTooLarge(ZvonokError):
    """A body over the endpoint's limit (413); ``limit`` says how many bytes fit."""

    http_status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(ROSTER_TOO_LARGE, f"a roster file is at most {limit} bytes")
        self.limit = limit

    def to_json(self) -> dict[str, str | float]:
        return {**super().to_json(), "limit": self.limit}


async def read_body(request: web.Request, limit: int) -> bytes:
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


def _text(body: dict[str, Any], name: str, *, required: bool, max_len: int) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise invalid(f"{name}: a string of 1 to {max_len} characters")
    return value


@routes.get("/api/v1/people")
async def find_people(request: web.Request) -> web.Response:
    """``?q=name``: people the caller may write to, by name."""
    oid = await caller(request)
    query = request.query.get("q", "").strip()
    if not 0 < len(query) <= 100:
        raise invalid("q: 1 to 100 characters of a name")
    return json_response({"people": await request.app[PEOPLE].find(oid, query)})


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
    body = await json_body(request)
    mod = request.app[MODERATION]
    action = body.get("action")
    ack: Ack
    if action == "delete":
        key = optional_key(request)
        message_id = int_field(body, "message_id", required=True) or 0
        ack = await mod.delete(oid, chat, message_id, key=key)
    elif action == "mute":
        person = int_field(body, "person", required=True) or 0
        seconds = int_field(body, "seconds", required=True) or 0
        if not 1 <= seconds <= 30 * 24 * 3600:
            raise invalid("seconds: 1 to 30 days")
        ack = await mod.mute(oid, chat, person, seconds)
    elif action == "unmute":
        ack = await mod.unmute(oid, chat, int_field(body, "person", required=True) or 0)
    elif action == "announcements":
        on = body.get("on")
        if not isinstance(on, bool):
            raise invalid("on: true or false")
        ack = await mod.announcements(oid, chat, on)
    elif action == "pin":
        ack = await mod.pin(oid, chat, int_field(body, "message_id", required=True) or 0)
    elif action == "unpin":
        ack = await mod.pin(oid, chat, None)
    elif action == "remove":
        ack = await mod.remove(oid, chat, int_field(body, "person", required=True) or 0)
    else:
        raise invalid("action: delete, mute, unmute, announcements, pin, unpin or remove")
    return json_response(ack_json(ack), status=200 if ack.duplicate else 201)


@routes.post("/api/v1/chats/{chat}/reports")
async def create_report(request: web.Request) -> web.Response:
    """Report ``{"message_id", "reason"}`` to the chat's moderators."""
    oid = await caller(request)
    body = await json_body(request)
    message_id = int_field(body, "message_id", required=True) or 0
    reason = _text(body, "reason", required=True, max_len=MAX_REASON) or ""
    report = await request.app[REPORTS].create(oid, request.match_info["chat"], message_id, reason)
    return json_response({"report": report.to_json(with_text=False)}, status=201)


@routes.get("/api/v1/reports")
async def list_reports(request: web.Request) -> web.Response:
    """Reports sent to the caller as a moderator; ``?mine=1`` the caller's own;
    ``?status=open|resolved``."""
    oid = await caller(request)
    status = request.query.get("status") or None
    if status not in (None, "open", "resolved"):
        raise invalid("status: open or resolved")
    mine = request.query.get("mine", "") in ("1", "true")
    reports = await request.app[REPORTS].listed(oid, mine=mine, status=status)
    return json_response({"reports": reports})


@routes.post("/api/v1/reports/{report}/resolve")
async def resolve_report(request: web.Request) -> web.Response:
    """``{"outcome": "removed" | "warned" | "dismissed", "note": "..."?}``"""
    oid = await caller(request)
    raw = request.match_info["report"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**53:
        raise invalid("report: a report id")
    body = await json_body(request)
    outcome = body.get("outcome")
    if outcome not in {o.value for o in Outcome}:
        raise invalid("outcome: removed, warned or dismissed")
    note = _text(body, "note", required=False, max_len=MAX_REASON)
    report = await request.app[REPORTS].resolve(oid, int(raw), Outcome(outcome), note)
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
    body = await json_body(request)
    settings = await request.app[SCHOOLS].change_settings(oid, request.match_info["school"], body)
    return json_response({"settings": settings.to_json()})


@routes.get("/api/v1/schools/{school}/audit")
async def audit_log(request: web.Request) -> web.Response:
    """The school's audit log, oldest first: ``?after=<id>&limit=<n>``."""
    oid = await caller(request)
    school = request.match_info["school"]
    after = query_int(request, "after") or 0
    limit = query_int(request, "limit") or 100
    entries = await request.app[SCHOOLS].audit_log(oid, school, after=after, limit=limit)
    return json_response({"school": school, "entries": [e.to_json() for e in entries]})


@routes.post("/api/v1/admin/roster")
async def import_roster(request: web.Request) -> web.Response:
    """Import a roster file (docs/roster.md) for schools the caller administers."""
    oid = await caller(request)
    report = await request.app[SCHOOLS].import_roster(
        oid, lambda: read_body(request, MAX_ROSTER_UPLOAD)
    )
    return json_response(
        {
            "changed": report.changed,
            "summary": report.summary(),
            "tables": report.to_json(),
            "kept": list(report.kept),
        }
    )
