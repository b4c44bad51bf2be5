"""The room part of the HTTP API (docs/api.md, "Rooms").

The same :class:`~server.rooms.service.RoomService` as the WebSocket's
serves it: start a lesson or meeting, list and read rooms, and download a
room's attendance as CSV.  Joining, media and the host controls are
WebSocket only (docs/protocol.md, "Rooms").
"""

from __future__ import annotations

from aiohttp import web

from server.appkeys import CLOCK
from server.http_api import caller, json_response, optional_key, read_body, read_query
from server.model.rooms import RoomKind
from signaling import http as bodies

from .attendance import attendance_csv
from .keys import ROOMS

routes = web.RouteTableDef()


@routes.post("/api/v1/rooms")
async def start_room(request: web.Request) -> web.Response:
    """``{"class", "kind": "lesson" | "meeting", "title", "starts_at"?}`` → 201 ``{"room"}``.

    An optional ``Idempotency-Key`` makes a retry return the same room (200)."""
    oid = await caller(request)
    body = await read_body(request, bodies.StartRoomBody)
    key = optional_key(request)
    record, again = await request.app[ROOMS].start(
        oid, body.class_id, RoomKind(body.kind), body.title, body.starts_at, key=key
    )
    return json_response({"room": record.to_json()}, status=200 if again else 201)


@routes.get("/api/v1/rooms")
async def list_rooms(request: web.Request) -> web.Response:
    """``?class=<class id>``: that class's rooms; without it, the caller's classes'."""
    oid = await caller(request)
    query = read_query(request, bodies.RoomsQuery)
    return json_response({"rooms": await request.app[ROOMS].rooms(oid, query.class_id)})


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
