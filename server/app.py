"""The aiohttp application: wiring, and nothing else.

App-wide resources are built here, opened and closed in ``cleanup_ctx`` and
stored under typed :class:`aiohttp.web.AppKey` keys: the store, the
identity gate, the bus, the send limits and the guard they feed, the chat,
safety and room services, the SFU.  The routes are each feature's own
(``server/chats/http.py``, ``server/safety/http.py``,
``server/rooms/http.py``), the WebSocket endpoint is ``server/ws.py``.
:func:`make_app` is what both ``zvonok serve`` and the tests call, so the
tests run the real wiring.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from media.ice import ice_servers
from media.sfu import Sfu
from signaling.rooms import IceServer

from .access import AccessGate
from .appkeys import (
    BUS,
    CLOCK,
    CONFIG,
    DEV_IDP,
    GATE,
    GUARD,
    METRICS,
    PENDING,
    PERSON_REQUESTS,
    RETENTION,
    SESSIONS,
    STORE,
)
from .auth import TokenVerifier
from .auth.devidp import dev_identity_provider
from .auth.esia import GOST_ALG
from .auth.offload import SignaturePool
from .bus import LocalBus
from .chats.http import routes as chat_routes
from .chats.keys import CHATS, PRESENCE, ROSTER_WATCH
from .chats.presence import Presence
from .chats.roster_watch import RosterWatch
from .chats.service import ChatService
from .clock import Clock, SystemClock
from .config import LOCAL_ESIA_PREFIX, Config
from .errors import ConfigError
from .http_api import error_middleware, error_response
from .http_api import routes as api_routes
from .http_limits import PersonRequests, body_deadline
from .logformat import request_id_middleware
from .logsafety import RequestLog, install
from .metrics import Metrics, may_scrape
from .metrics import response as metrics_response
from .policy.guard import Guard
from .policy.limits import SendLimits
from .preauth import PendingConnections
from .redisbus import RedisBus
from .redislimits import RedisBuckets
from .redispresence import RedisPresenceCounts
from .redisrooms import RedisRoomDirectory
from .retention import RetentionSweep
from .rooms.controls import Controls
from .rooms.http import routes as room_routes
from .rooms.keys import ROOM_CONTROLS, ROOM_MEDIA, ROOM_RELAY, ROOMS
from .rooms.live import RoomSink
from .rooms.media import RoomMedia
from .rooms.relay import RoomRelay
from .rooms.requests import RoomRequests
from .rooms.service import RoomService
from .roster.demo import seed_demo
from .safety.http import routes as safety_routes
from .safety.keys import MODERATION, PEOPLE, REPORTS, SCHOOLS
from .safety.moderation import Moderation
from .safety.people import People
from .safety.reports import Reports
from .safety.schools import Schools
from .sessions import Sessions
from .signin.web import routes as sign_in_routes
from .signin.web import sign_in_context
from .store import create_store
from .webclient import routes as webclient_routes
from .ws import websocket

log = logging.getLogger(__name__)

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
            request_id_middleware,
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
    metrics = app[METRICS] = Metrics()
    metrics.level("zvonok_connections", "WebSocket sessions open", lambda: len(app[SESSIONS]))
    metrics.level(
        "zvonok_connections_pending", "connections not signed in yet", lambda: len(app[PENDING])
    )
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
    app.router.add_get("/metrics", _metrics)
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
        from .devlogin import routes as dev_routes
        from .signin.devesia import local_esia_app

        app.add_routes(dev_routes)
        if not config.esia.portal_url:  # the embedded default signs in through the local ESIA
            app.add_subapp(LOCAL_ESIA_PREFIX + "/", local_esia_app(config, app[CLOCK]))
    return app


async def _storage(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = create_store(config.storage.database)
    await store.open()
    app[STORE] = store
    store.batch_observer = app[METRICS].observe_batch
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
    """The bus, the send limits, the guard, and the chat and safety services."""
    config, clock, store = app[CONFIG], app[CLOCK], app[STORE]
    bus: LocalBus | RedisBus
    if config.bus.url:
        bus = RedisBus(config.bus.url)
        await bus.start()
    else:
        bus = LocalBus()
    app[BUS] = bus
    shared = RedisBuckets(bus.client) if isinstance(bus, RedisBus) else None
    limits = SendLimits(config.chat, clock, shared)
    guard = Guard(store, clock, limits=limits, bus=bus)
    app[GUARD] = guard
    chats = ChatService(
        store,
        bus,
        clock,
        config.chat,
        max_text=config.protocol.max_text,
        guard=guard,
        metrics=app[METRICS],
    )
    if isinstance(bus, RedisBus):
        levels = app[METRICS]
        bus.lag_observer = levels.bus_lag.observe
        levels.level("zvonok_bus_connected", "1 while Redis is reached", lambda: bus.connected)
        levels.level("zvonok_bus_unsent", "events never sent to Redis", lambda: bus.dropped)
        levels.level("zvonok_bus_received", "events from other nodes", lambda: bus.received)
    app[CHATS] = chats
    counts = None
    if isinstance(bus, RedisBus):
        ttl = config.bus.presence_ttl
        counts = RedisPresenceCounts(bus.client, bus.node, ttl=ttl, refresh=ttl / 3)
    presence = app[PRESENCE] = Presence(store, bus, clock, counts)
    presence.start()
    watch = RosterWatch(store, chats, poll=config.safety.roster_poll)
    app[ROSTER_WATCH] = watch
    app[MODERATION] = Moderation(store, chats, clock)
    app[REPORTS] = Reports(store, bus, guard, clock)
    app[PEOPLE] = People(store, guard)
    app[SCHOOLS] = Schools(store, guard, clock, config.safety, on_roster_change=watch.poke)
    await watch.start()
    try:
        yield
    finally:
        await watch.close()
        await presence.close()
        await bus.close()


async def _rooms(app: web.Application) -> AsyncIterator[None]:
    """The SFU and the room service; on the way out, rooms close before the SFU."""
    config, clock = app[CONFIG], app[CLOCK]
    sfu = None
    if ROOM_MEDIA not in app:
        sfu = Sfu(config.media)
        app[ROOM_MEDIA] = sfu

    def ice(person: int, now: float) -> list[IceServer]:
        return ice_servers(config.media, person, now)

    chats, guard, bus = app[CHATS], app[GUARD], app[BUS]
    shared: RedisRoomDirectory | None = None
    if isinstance(bus, RedisBus):  # several nodes: a room lives on one, the directory says which
        ttl = config.bus.presence_ttl
        shared = RedisRoomDirectory(bus.client, bus.node, ttl=ttl, refresh=ttl / 3)
    rooms = RoomService(app[STORE], guard, chats, app[ROOM_MEDIA], clock, config.rooms, ice, shared)
    app[ROOMS] = rooms
    controls = app[ROOM_CONTROLS] = Controls(rooms, app[STORE], guard, chats, clock)
    relay: RoomRelay | None = None
    if shared is not None:

        def serve(oid: int, sink: RoomSink) -> RoomRequests:
            return RoomRequests(oid, rooms=rooms, controls=controls, sink=sink)

        node_relay = relay = app[ROOM_RELAY] = RoomRelay(bus, shared, serve)

        async def sweep() -> None:
            """The directory's look every third of the lease, for the rooms and the relay."""
            await rooms.sweep()
            await node_relay.check()

    metrics = app[METRICS]
    metrics.level("zvonok_rooms", "lessons and meetings live on this node", lambda: rooms.live)
    metrics.level("zvonok_room_participants", "people in them", rooms.participant_count)
    if sfu is not None:
        metrics.level("zvonok_sfu_tracks", "tracks published to the SFU", sfu.track_count)
        media = sfu
        metrics.total(
            "zvonok_sfu_packets_in", "RTP packets from publishers", lambda: media.packets_in
        )
        metrics.total("zvonok_sfu_bytes_in", "their payload bytes", lambda: media.bytes_in)
        metrics.total(
            "zvonok_sfu_frames_out", "frames sent to subscribers", lambda: media.sent.frames
        )
        metrics.total(
            "zvonok_sfu_bytes_out", "their payload bytes (before RTP)", lambda: media.sent.bytes
        )
    app[ROSTER_WATCH].add_listener(rooms.roster_changed)
    if shared is not None:
        await shared.start(sweep)
    await rooms.open()
    if relay is not None:
        await relay.start()
    try:
        yield
    finally:
        if relay is not None:
            await relay.close()
        await rooms.close()
        if shared is not None:
            await shared.close()
        if sfu is not None:
            await sfu.close()


async def _metrics(request: web.Request) -> web.Response:
    if not may_scrape(request, request.app[CONFIG].http.metrics_token):
        raise web.HTTPForbidden(text="metrics: loopback or the metrics token only")
    return metrics_response(request.app[METRICS])


async def _close_sessions(app: web.Application) -> None:
    await app[SESSIONS].shutdown()
