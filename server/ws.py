"""``GET /ws``: the one WebSocket endpoint (docs/protocol.md).

The upgrade, and a :class:`~server.connection.Connection` made with the
app-wide services it serves, run until the socket closes.
"""

from __future__ import annotations

from aiohttp import web

from .appkeys import BUS, CLOCK, CONFIG, GATE, METRICS, PENDING, SESSIONS, STORE
from .chats.keys import CHATS, PRESENCE
from .connection import CLOSE_TIMEOUT, Connection, RoomServices, SafetyServices
from .rooms.keys import ROOM_CONTROLS, ROOM_RELAY, ROOMS
from .safety.keys import MODERATION, PEOPLE, REPORTS
from .signin.web import browser_credential
from .wsbatch import batch_writer

HARD_FRAME_FACTOR = 4
"""Frames up to this many times ``max_frame`` are read and answered with
``frame.too_large``; larger ones make aiohttp close the socket with 1009."""


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Upgrade, then serve the session until it closes."""
    app = request.app
    config = app[CONFIG]
    accepted_at = app[CLOCK].monotonic()  # before the handshake completes, so tests can count on it
    ws = web.WebSocketResponse(
        autoping=False,  # the connection answers pings itself and counts pongs as liveness
        compress=False,
        max_msg_size=config.protocol.max_frame * HARD_FRAME_FACTOR,
        timeout=CLOSE_TIMEOUT,
    )
    await ws.prepare(request)
    connection = Connection(
        ws,
        request.transport,
        writer=batch_writer(request, ws),
        gate=app[GATE],
        clock=app[CLOCK],
        protocol=config.protocol,
        esia=config.esia,
        sessions=app[SESSIONS],
        accepted_at=accepted_at,
        chats=app[CHATS],
        presence=app[PRESENCE],
        safety=SafetyServices(app[MODERATION], app[REPORTS], app[PEOPLE]),
        rooms=RoomServices(app[ROOMS], app[ROOM_CONTROLS], app.get(ROOM_RELAY)),
        store=app[STORE],
        bus=app[BUS],
        chat_config=config.chat,
        pending=app[PENDING],
        metrics=app[METRICS],
        browser=browser_credential(request),
    )
    await connection.run()
    return ws
