"""Shared fixtures: a real Zvonok server on 127.0.0.1 with an injected clock,
on either store engine.

``database`` is the store a test runs on: SQLite for every test, and a
fresh database on the test run's own PostgreSQL server too for the tests
marked ``both_engines`` (the store's, and the chat, safety and room tests
over the socket); those run once per engine, ``[sqlite]`` and
``[postgresql]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import make_app
from server.appkeys import DEV_IDP, PENDING, SESSIONS, STORE
from server.auth import DevIdentityProvider
from server.clock import Clock, ManualClock
from server.config import (
    BusConfig,
    ChatConfig,
    Config,
    DevIdpConfig,
    EsiaConfig,
    HttpConfig,
    ProtocolConfig,
    RoomsConfig,
    StorageConfig,
)
from server.preauth import CountingSite
from server.rooms.media import RoomMedia
from server.roster.model import DirectoryEntry, Role
from server.store import PostgresStore, SqliteStore, SqlStore, create_store
from server.store.migrate import Migration
from server.store.postgres import parse_dsn
from signaling.client import Client
from tests.pgserver import PostgresMissing, PostgresServer
from tests.redisserver import RedisServer, running_redis

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def no_decoder_thread_outlives_its_test() -> Iterator[None]:
    """Every aiortc receiver a test started is stopped by its end: a decoder
    thread left waiting (not a daemon) would keep the process from exiting,
    as a server's would on its way down."""
    before = set(threading.enumerate())
    yield
    now = threading.enumerate()
    left = [t.name for t in now if t not in before and t.name.endswith("-decoder")]
    assert not left, f"receivers never stopped: {left}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run with a thread that will never end fails now, naming it, and does
    not hang until CI's time runs out."""
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in stuck:
        thread.join(5.0)
    names = [t.name for t in stuck if t.is_alive()]
    if names:
        print(f"\nthreads that never ended, the run fails: {names}", file=sys.stderr, flush=True)
        os._exit(3)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run what uses ``database`` on SQLite, and on PostgreSQL too where marked."""
    both = metafunc.definition.get_closest_marker("both_engines") is not None
    for name in ("database", "empty_database"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, ENGINES if both else ENGINES[:1], indirect=True)


@dataclass(frozen=True)
class Database:
    """Where a test's store lives: a SQLite file, or a PostgreSQL database."""

    engine: str
    dsn: str
    path: Path | None = None  # the SQLite file

    def store(self, migrations: tuple[Migration, ...] | None = None) -> SqlStore:
        """A new (unopened) store on this database."""
        if migrations is None:
            return create_store(self.dsn)
        if self.path is not None:
            return SqliteStore(self.path, migrations=migrations)
        return PostgresStore(parse_dsn(self.dsn), migrations=migrations)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, on a free port (tests/redisserver.py)."""
    with running_redis(tmp_path) as server:
        yield server


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait (bounded) for a condition nothing sends an event for (Redis, the
    store, another process's state): polled, and failed past ``timeout``."""
    async with asyncio.timeout(timeout):
        while True:
            met = condition()
            if await met if inspect.isawaitable(met) else met:
                return
            await asyncio.sleep(0.02)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The test run's PostgreSQL server, started the first time a test needs it."""
    try:
        server = PostgresServer()
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    # start() runs its own event loop: not on a test's.
    with ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(server.start).result()
        except BaseException:
            server.stop()
            raise
    yield server
    server.stop()


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The test's database on the engine its parameter names (see the module)."""
    if request.param == "sqlite":
        path = tmp_path / "zvonok.db"
        yield Database("sqlite", f"sqlite:{path}", path)
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = await server.create_database()
    yield Database("postgresql", server.dsn(name))
    await server.drop_database(name)


@pytest.fixture
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """As ``database``, without the schema: for tests of migrations."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        yield Database("sqlite", f"sqlite:{path}", path)
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = await server.create_database(migrated=False)
    yield Database("postgresql", server.dsn(name))
    await server.drop_database(name)


def relaxed_chat(**overrides: object) -> ChatConfig:
    """Chat settings whose send limits no functional test reaches by accident;
    tests of the limits name the ones they test in ``overrides``."""
    high = {
        f.name: (1000.0 if f.name.endswith("per_second") else 1000)
        for f in dataclasses.fields(ChatConfig)
        if f.name.endswith(("per_second", "burst"))
    }
    return ChatConfig(**{**high, **overrides})  # type: ignore[arg-type]


def test_config(
    tmp_path: Path,
    chat: ChatConfig | None = None,
    *,
    rooms: RoomsConfig | None = None,
    http: HttpConfig | None = None,
    database: str | None = None,
    bus: BusConfig | None = None,
    **protocol: object,
) -> Config:
    """The embedded default, with its files under ``tmp_path`` (and its
    store on ``database`` when given)."""
    return Config(
        http=http or HttpConfig(),
        chat=chat or relaxed_chat(),
        rooms=rooms or RoomsConfig(),
        storage=StorageConfig(
            database=database or f"sqlite:{tmp_path / 'zvonok.db'}", seed_demo=True
        ),
        dev_idp=DevIdpConfig(directory=tmp_path / "dev-idp"),
        esia=EsiaConfig(leeway=0.0, expiry_warning=60.0),
        protocol=dataclasses.replace(ProtocolConfig(), **protocol),  # type: ignore[arg-type]
        bus=bus or BusConfig(),
    )


@dataclass
class Running:
    """A started server and what tests need to talk to it."""

    app: web.Application
    base: str
    clock: Clock
    directory: list[DirectoryEntry]
    http: aiohttp.ClientSession
    clients: list[Client] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    @property
    def idp(self) -> DevIdentityProvider:
        return self.app[DEV_IDP]

    @property
    def sessions(self) -> int:
        return len(self.app[SESSIONS])

    def person(self, role: Role, nth: int = 0, *, exclude_roles: tuple[Role, ...] = ()) -> int:
        """The OID of the nth demo person holding ``role`` (and none of ``exclude_roles``)."""
        found = [
            e.person.oid
            for e in self.directory
            if any(r.role is role for r in e.roles)
            and not any(r.role in exclude_roles for r in e.roles)
        ]
        return found[nth]

    def token(self, oid: int, lifetime: float = 3600.0) -> str:
        return self.idp.issue(oid, lifetime=lifetime)

    async def connect(
        self,
        oid: int | None = None,
        *,
        token: str | None = None,
        resume: dict[str, int] | None = None,
    ) -> Client:
        if token is None:
            token = self.token(oid if oid is not None else self.person(Role.TEACHER))
        client = await Client.connect(self.ws_url, token, session=self.http, resume=resume)
        self.clients.append(client)
        return client


ServerFactory = Callable[..., Awaitable[Running]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def make_server(tmp_path: Path, database: Database) -> AsyncIterator[ServerFactory]:
    """``await make_server(clock, heartbeat=...)`` starts a server; all stop after the test.

    ``media`` stands in for the SFU (room tests without peer connections);
    ``rooms`` and ``http`` replace those settings.  The server listens the
    way ``zvonok serve`` does (the same site, connections counted).
    """
    started: list[tuple[web.AppRunner, Running]] = []

    async def factory(
        clock: Clock,
        chat: ChatConfig | None = None,
        *,
        media: RoomMedia | None = None,
        rooms: RoomsConfig | None = None,
        http: HttpConfig | None = None,
        bus: BusConfig | None = None,
        **protocol: object,
    ) -> Running:
        config = test_config(
            tmp_path, chat, rooms=rooms, http=http, database=database.dsn, bus=bus, **protocol
        )
        app = make_app(config, clock=clock, media=media)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        site = CountingSite(runner, "127.0.0.1", 0, pending=app[PENDING])
        await site.start()
        running = Running(
            app=app,
            base=f"http://127.0.0.1:{site.port}",
            clock=clock,
            directory=await app[STORE].directory(),
            http=aiohttp.ClientSession(),
        )
        started.append((runner, running))
        return running

    yield factory
    for runner, running in started:
        for client in running.clients:
            await client.close()
        await running.http.close()
        await runner.cleanup()


@pytest.fixture
async def zvonok(make_server: ServerFactory, clock: ManualClock) -> Running:
    """The embedded default on a manual clock."""
    return await make_server(clock)
