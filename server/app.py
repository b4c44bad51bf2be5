"""The aiohttp application: wiring of config, clock, store, identity and routes.

App-wide resources are opened and closed in ``cleanup_ctx`` and stored under
typed :class:`aiohttp.web.AppKey` keys.  :func:`make_app` is what both
``zvonok serve`` and the tests call, so the tests run the real wiring.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from media.ice import ice_servers
from media.sfu import Sfu

from .access import AccessGate
from .appkeys import (
    BUS,
    CHATS,
    CLOCK,
    CONFIG,
    DEV_IDP,
    GATE,
    MODERATION,
    PENDING,
    PEOPLE,
    PERSON_REQUESTS,
    PRESENCE,
    REPORTS,
    RETENTION,
    ROOM_CONTROLS,
    ROOM_MEDIA,
    ROOMS,
    ROSTER_WATCH,
    SCHOOLS,
    SESSIONS,
    STORE,
)
from .auth import DevIdentityProvider, TokenVerifier
from .auth.esia import GOST_ALG
from .auth.offload import SignaturePool
from .auth.web import browser_credential, sign_in_context
from .auth.web import routes as sign_in_routes
from .bus import LocalBus
from .chats.presence import Presence
from .chats.roster_watch import RosterWatch
from .chats.service import ChatService
from .clock import Clock, SystemClock
from .config import LOCAL_ESIA_PREFIX, Config
from .connection import CLOSE_TIMEOUT, Connection, RoomServices, SafetyServices
from .errors import ConfigError
from .http_api import error_middleware, error_response
from .http_api import routes as api_routes
from .http_chats import routes as chat_routes
from .http_limits import PersonRequests, body_deadline
from .http_rooms import routes as room_routes
from .http_safety import routes as safety_routes
from .logsafety import RequestLog, install
from .preauth import PendingConnections
from .retention import RetentionSweep
from .rooms.controls import Controls
from .rooms.media import RoomMedia
from .rooms.service import RoomService
from .roster.demo import seed_demo
from .safety.moderation import Moderation
from .safety.people import People
from .safety.reports import Reports
from .safety.schools import Schools
from .sessions import Sessions
from .store import create_store
from .webclient import routes as webclient_routes
from .wsbatch import batch_writer

log = logging.getLogger(__name__)

HARD_FRAME_FACTOR = 4
"""Frames up to this many times ``max_frame`` are read and answered with
``frame.too_large``; larger ones make aiohttp close the socket with 1009."""

MAX_LINE = 8190  # bytes of a request line: longer ones get 400
MAX_FIELD = 8190  # bytes of one header (a whole ESIA token fits with room to spare)
MAX_HEADERS = 64  # headers in one request; browsers send about 20


def handler_args(config: Config) -> dict[str, object]:
    """aiohttp's per-connection settings, the same under every runner.

    ``keepalive_timeout`` is the whole request bound: aiohttp arms it when
    a connection opens and again after each response, and closes the
    connection if no complete request head has arrived by then (a silent
    socket, a half-sent request, an idle keep-alive one).  A body not read
    by its handler is drained for as long, no longer.  The access log is
    off: its request line would carry a query string.
    """
    timeout = config.http.request_timeout
    return {
        "keepalive_timeout": timeout,
        "lingering_time": timeout,
        "max_line_size": MAX_LINE,
        "max_field_size": MAX_FIELD,
        "max_headers": MAX_HEADERS,
        "access_log": None,
        "logger": RequestLog(logging.getLogger("aiohttp.server")),
    }


def make_app(
    config: Config, *, clock: Clock | None = None, media: RoomMedia | None = None
) -> web.Application:
    """Build the application for ``config``.  Nothing is opened until it starts.

    ``media`` replaces the SFU (tests of rooms without peer connections);
    the caller then owns it.
    """
    config.validate()
    install()  # wherever the server runs, no log record holds a token
    person_requests = PersonRequests(config.http.max_person_requests)
    app = web.Application(
        middlewares=[
            error_middleware,
            person_requests.middleware(),
            body_deadline(config.http.body_timeout, error_response),
        ],
        client_max_size=1024 * 1024,
        handler_args=handler_args(config),
    )
    app[CONFIG] = config
    app[PENDING] = PendingConnections(config.http.max_pending)
    app[PERSON_REQUESTS] = person_requests
    app[CLOCK] = clock or SystemClock()
    app[SESSIONS] = Sessions(max_per_person=config.protocol.max_sessions)
    if media is not None:
        app[ROOM_MEDIA] = media
    app.cleanup_ctx.append(_storage)
    app.cleanup_ctx.append(_identity)
    if config.browser_sign_in:
        app.cleanup_ctx.append(sign_in_context)
    app.cleanup_ctx.append(_bus)
    app.cleanup_ctx.append(_rooms)
    app.on_shutdown.append(_close_sessions)
    app.router.add_get("/ws", websocket)
    app.add_routes(api_routes)
    app.add_routes(chat_routes)
    app.add_routes(safety_routes)
    app.add_routes(room_routes)
    if config.browser_sign_in:
        app.add_routes(sign_in_routes)
        app.add_routes(webclient_routes)
    else:
        log.warning("no [esia] portal_url: browsers cannot sign in, only Bearer tokens work")
    if config.dev_idp.enabled:
        from .auth.devesia import local_esia_app
        from .devlogin import routes as dev_routes

        app.add_routes(dev_routes)
        if not config.esia.portal_url:  # the embedded default signs in through the local ESIA
            app.add_subapp(LOCAL_ESIA_PREFIX + "/", local_esia_app(config, app[CLOCK]))
    return app


def dev_identity_provider(config: Config, clock: Clock) -> DevIdentityProvider:
    """The development identity provider for this configuration (keys on disk)."""
    return DevIdentityProvider.load_or_create(
        config.dev_idp.directory,
        issuer=config.esia.issuer,
        client_id=config.esia.client_id,
        clock=clock,
        algorithm=config.dev_idp.algorithm,
    )


async def _storage(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = create_store(config.storage.database)
    await store.open()
    app[STORE] = store
    sweep = app[RETENTION] = RetentionSweep(store, app[CLOCK], config.storage)
    try:
        if config.storage.seed_demo:
            report = await seed_demo(store)
            if report is not None:
                log.info("seeded the demo school: %s", report.summary())
        sweep.start()
        yield
    finally:
        await sweep.stop()
        await store.close()


async def _identity(app: web.Application) -> AsyncIterator[None]:
    config, clock = app[CONFIG], app[CLOCK]
    certificates: list[bytes] = []
    if config.dev_idp.enabled:
        idp = dev_identity_provider(config, clock)
        app[DEV_IDP] = idp
        certificates.append(idp.certificate_pem)
        log.warning("the development identity provider is ON: not for production")
    for path in config.esia.certificates:
        try:
            certificates.append(path.read_bytes())
        except OSError as exc:
            raise ConfigError(f"cannot read ESIA certificate {path}: {exc.strerror}") from exc
    pool = None
    if GOST_ALG in config.esia.algorithms and config.esia.verify_workers > 0:
        pool = SignaturePool(workers=config.esia.verify_workers, queue=config.esia.verify_queue)
    try:
        verifier = TokenVerifier(
            issuer=config.esia.issuer,
            client_id=config.esia.client_id,
            certificates=certificates,
            clock=clock,
            leeway=config.esia.leeway,
            algorithms=config.esia.algorithms,
            cache_size=config.esia.verified_cache,
            pool=pool,
        )
        if pool is not None:
            await pool.start()
        app[GATE] = AccessGate(verifier, app[STORE])
        yield
    finally:
        if pool is not None:
            await pool.close()


async def _bus(app: web.Application) -> AsyncIterator[None]:
    bus = LocalBus()
    app[BUS] = bus
    config, clock, store = app[CONFIG], app[CLOCK], app[STORE]
    chats = ChatService(store, bus, clock, config.chat, max_text=config.protocol.max_text)
    app[CHATS] = chats
    app[PRESENCE] = Presence(store, bus, clock)
    watch = RosterWatch(store, chats, poll=config.safety.roster_poll)
    app[ROSTER_WATCH] = watch
    app[MODERATION] = Moderation(store, chats, clock)
    app[REPORTS] = Reports(store, bus, chats.guard, clock)
    app[PEOPLE] = People(store, chats.guard)
    app[SCHOOLS] = Schools(store, chats.guard, clock, config.safety, on_roster_change=watch.poke)
    await watch.start()
    try:
        yield
    finally:
        await watch.close()
        await bus.close()


async def _rooms(app: web.Application) -> AsyncIterator[None]:
    """The SFU and the room service; on the way out, rooms close before the SFU."""
    config, clock = app[CONFIG], app[CLOCK]
    sfu = None
    if ROOM_MEDIA not in app:
        sfu = Sfu(config.media)
        app[ROOM_MEDIA] = sfu

    def ice(person: int, now: float) -> list[dict[str, object]]:
        return ice_servers(config.media, person, now)

    chats = app[CHATS]
    rooms = RoomService(app[STORE], chats.guard, chats, app[ROOM_MEDIA], clock, config.rooms, ice)
    app[ROOMS] = rooms
    app[ROOM_CONTROLS] = Controls(rooms, app[STORE], chats.guard, chats, clock)
    app[ROSTER_WATCH].add_listener(rooms.roster_changed)
    await rooms.open()
    try:
        yield
    finally:
        await rooms.close()
        if sfu is not None:
            await sfu.close()


async def _close_sessions(app: web.Application) -> None:
    await app[SESSIONS].shutdown()


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """``GET /ws``: the one WebSocket endpoint (see docs/protocol.md)."""
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
        rooms=RoomServices(app[ROOMS], app[ROOM_CONTROLS]),
        store=app[STORE],
        bus=app[BUS],
        chat_config=config.chat,
        pending=app[PENDING],
        browser=browser_credential(request),
    )
    await connection.run()
    return ws
