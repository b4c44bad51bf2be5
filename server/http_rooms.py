"""The room part of the HTTP API (docs/api.md, "Rooms").

The same :class:`~server.rooms.service.RoomService` as the WebSocket's
serves it: start a lesson or meeting, list and read rooms, and download a
room's attendance as CSV.  Joining, media and the host controls are
WebSocket only (docs/protocol.md, "Rooms").
"""

from __future__ import annotations

from aiohttp import web

from .appkeys import CLOCK, ROOMS
from .http_api import json_response
from .http_chats import caller, invalid, json_body, optional_key
from .rooms.attendance import attendance_csv
from .rooms.model import RoomKind

routes = web.RouteTableDef()

MAX_TITLE = 200
MAX_CLASS_ID = 64
MAX_STARTS_AT = 1e11


@routes.post("/api/v1/rooms")
async def start_room(request: web.Request) -> web.Response:
    """``{"class", "kind": "lesson" | "meeting", "title", "starts_at"?}`` → 201 ``{"room"}``.

    An optional ``Idempotency-Key`` makes a retry return the same room (200)."""
    oid = await caller(request)
    body = await json_body(request)
    class_id, kind, title = body.get("class"), body.get("kind"), body.get("title")
    starts_at = body.get("starts_at")
    if not isinstance(class_id, str) or not 0 < len(class_id) <= MAX_CLASS_ID:
        raise invalid(f"class: a class id of 1 to {MAX_CLASS_ID} characters")
    if kind not in {k.value for k in RoomKind}:
        raise invalid("kind: lesson or meeting")
    if not isinstance(title, str) or not 0 < len(title) <= MAX_TITLE:
        raise invalid(f"title: a string of 1 to {MAX_TITLE} characters")
    if starts_at is not None and (
        isinstance(starts_at, bool)
        or not isinstance(starts_at, int | float)
        or not 0 <= starts_at <= MAX_STARTS_AT
    ):
        raise invalid("starts_at: a Unix time")
    key = optional_key(request)
    record, again = await request.app[ROOMS].start(
        oid,
        class_id,
        RoomKind(kind),
        title,
        None if starts_at is None else float(starts_at),
        key=key,
    )
    return json_response({"room": record.to_json()}, status=200 if again else 201)


@routes.get("/api/v1/rooms")
async def list_rooms(request: web.Request) -> web.Response:
    """``?class=<class id>``: that class's rooms; without it, the caller's classes'."""
    oid = await caller(request)
    class_id = request.query.get("class") or None
    if class_id is not None and len(class_id) > MAX_CLASS_ID:
        raise invalid(f"class: at most {MAX_CLASS_ID} characters")
    return json_response({"rooms": await request.app[ROOMS].rooms(oid, class_id)})


@routes.get("/api/v1/rooms/{room}")
async def get_room(request: web.Request) -> web.Response:
    oid = await caller(request)
    return json_response({"room": await request.app[ROOMS].info(oid, request.match_info["room"])})


@routes.get("/api/v1/rooms/{room}/attendance.csv")
async def attendance(request: web.Request) -> web.Response:
    """Who was present when, as CSV: for the host, the co-host and the school's admins."""
    oid = await caller(request)
    record, rows = await request.app[ROOMS].attendance(oid, request.match_info["room"])
    # With a byte order mark, so that Excel reads the names as UTF-8, not cp1251.
    text = "\ufeff" + attendance_csv(rows, request.app[CLOCK].time())
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{record.id}.csv"'},
    )
