"""The ``zvonok`` command: serve, issue development tokens, import rosters,
migrate and copy databases."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import uvloop
from aiohttp import web

from . import logformat, logsafety
from .appkeys import CONFIG, PENDING, STORE
from .clock import SystemClock
from .config import Config, load_config
from .errors import ConfigError, ZvonokError
from .preauth import CountingSite
from .roster.authority import OPERATOR
from .roster.demo import seed_demo
from .roster.document import load_roster_file
from .roster.errors import RosterError
from .store import create_store

log = logging.getLogger("zvonok")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zvonok", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="listen address (overrides the config)")
    serve.add_argument("--port", type=int, help="listen port (overrides the config)")

    token = commands.add_parser("dev-token", help="print a development token for a roster OID")
    token.add_argument("oid", type=int)
    token.add_argument("--lifetime", type=float, help="seconds (default: from config)")

    esia = commands.add_parser(
        "dev-esia", help="run the development provider's local ESIA as a process of its own"
    )
    esia.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    esia.add_argument("--port", type=int, default=0, help="listen port (default: any free one)")
    esia.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="a callback registered for [esia] client_id (default: this config's)",
    )

    roster = commands.add_parser("roster", help="school roster")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True)
    importer = roster_commands.add_parser("import", help="import a roster JSON file")
    importer.add_argument("file", type=Path)

    database = commands.add_parser("db", help="the database")
    db_commands = database.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("migrate", help="bring the configured database to the current schema")
    copier = db_commands.add_parser(
        "copy", help="copy a database (an embedded SQLite file) into an empty one"
    )
    copier.add_argument("source", help="the DSN to copy from, e.g. sqlite:var/zvonok.db")
    copier.add_argument(
        "target", nargs="?", help="the DSN to copy into (default: storage.database)"
    )

    args = parser.parse_args(argv)
    logsafety.install()  # before anything logs: no record of this process holds a token
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"zvonok: configuration: {exc}", file=sys.stderr)
        return 2
    logformat.configure(config.log_level, config.log_format)
    logsafety.install_on_handlers()
    # aiosqlite logs every statement with its parameters at DEBUG: message texts.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    try:
        if args.command == "serve":
            return _run(_serve(config, args.host, args.port))
        if args.command == "dev-token":
            return _run(_dev_token(config, args.oid, args.lifetime))
        if args.command == "dev-esia":
            return _run(_dev_esia(config, args.host, args.port, tuple(args.redirect_uri)))
        if args.command == "db" and args.db_command == "migrate":
            return _run(_migrate(config))
        if args.command == "db":
            return _run(_copy(args.source, args.target or config.storage.database))
        return _run(_import(config, args.file))
    except (ConfigError, ZvonokError) as exc:
        print(f"zvonok: {exc}", file=sys.stderr)
        return 1
    except Exception:  # a crash's traceback goes through the log, so it is scrubbed too
        log.critical("zvonok %s failed", args.command, exc_info=True)
        return 1


def _run(coro: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop, the event loop Zvonok is built and measured on."""
    return uvloop.run(coro)


async def _serve(config: Config, host: str | None, port: int | None) -> int:
    from .app import make_app

    # --host and --port move the server, and so the public URL derived from them.
    config = dataclasses.replace(
        config,
        http=dataclasses.replace(
            config.http, host=host or config.http.host, port=port or config.http.port
        ),
    )
    app = make_app(config)
    runner = web.AppRunner(app, handle_signals=False)  # its settings: app.handler_args
    try:
        await runner.setup()
    except BaseException:
        await app.cleanup()  # close what the contexts that did start opened
        raise
    bind_host = host or config.http.host
    bind_port = port or config.http.port
    site = CountingSite(runner, bind_host, bind_port, pending=app[PENDING], reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {bind_host}:{bind_port}: {exc.strerror}") from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _banner(app, f"http://{bind_host}:{bind_port}")
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()
    return 0


async def _banner(app: web.Application, base: str) -> None:
    config = app[CONFIG]
    socket_url = "ws" + base.removeprefix("http")  # http → ws, https → wss
    lines = [f"Zvonok is serving on {base} ({config.mode} mode). WebSocket: {socket_url}/ws"]
    if config.browser_sign_in:
        lines.append(f"Sign in: open {config.public_url}/ and click «Войти через Госуслуги»")
    if config.dev_idp.enabled:
        lines.append(f"Tokens for bots and scripts: {base}/dev/login")
        class_teachers = [
            e
            for e in await app[STORE].directory()
            if any(c.relation == "class_teacher" for c in e.classes)
        ]
        if class_teachers:
            t = class_teachers[0].person
            lines.append(f"Or get a token for a class teacher ({t.full_name}):")
            lines.append(f"  TOKEN=$(.venv/bin/zvonok dev-token {t.oid})")
            lines.append(f'  curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/me')
    print("\n".join(lines), flush=True)


async def _dev_token(config: Config, oid: int, lifetime: float | None) -> int:
    from .auth.devidp import dev_identity_provider

    if not config.dev_idp.enabled:
        print("zvonok: the development identity provider is off", file=sys.stderr)
        return 1
    store = create_store(config.storage.database)
    await store.open()
    try:
        if config.storage.seed_demo:  # as `serve` would, so a fresh clone needs no serve first
            await seed_demo(store)
        person = await store.person(oid)
    finally:
        await store.close()
    if person is None:
        print(f"zvonok: {oid} is not on the roster", file=sys.stderr)
        return 1
    idp = dev_identity_provider(config, SystemClock())
    print(idp.issue(oid, lifetime=lifetime or config.dev_idp.token_lifetime))
    return 0


async def _dev_esia(config: Config, host: str, port: int, redirect_uris: tuple[str, ...]) -> int:
    """Serve the local ESIA alone; prints its base URL (the ``[esia] portal_url`` to use)."""
    from .signin.devesia import local_esia_app

    if not config.dev_idp.enabled:
        print("zvonok: the development identity provider is off", file=sys.stderr)
        return 1
    app = local_esia_app(config, SystemClock(), redirect_uris=redirect_uris, own_store=True)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    server = site._server
    sockets = getattr(server, "sockets", None) or ()
    bound = sockets[0].getsockname()[1] if sockets else port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"local ESIA on http://{host}:{bound}/", flush=True)
    await stop.wait()
    await runner.cleanup()
    return 0


async def _import(config: Config, path: Path) -> int:
    try:
        document = load_roster_file(path)
    except RosterError as exc:
        print(f"zvonok: {path} was not imported:\n{exc}", file=sys.stderr)
        return 1
    store = create_store(config.storage.database)
    await store.open()
    try:
        report = await store.import_roster(document, OPERATOR)
    except RosterError as exc:
        print(f"zvonok: {path} was not imported:\n{exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(report.summary())
    return 0


async def _migrate(config: Config) -> int:
    """Open the configured store, which applies what migrations it lacks."""
    store = create_store(config.storage.database)
    await store.open()
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    print(f"{store!r}: schema at version {version:04d}")
    return 0


async def _copy(source_dsn: str, target_dsn: str) -> int:
    """Copy ``source_dsn`` into the empty ``target_dsn``, checked by counts and seqs."""
    from .store.copy import copy_store

    if source_dsn == target_dsn:
        print("zvonok: the source and the target are the same database", file=sys.stderr)
        return 2
    source, target = create_store(source_dsn), create_store(target_dsn)
    await source.open()
    try:
        await target.open()
        try:
            report = await copy_store(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    print(f"copied {source!r} into {target!r}: {report.summary()}")
    for table, rows in report.rows.items():
        print(f"  {table}: {rows}")
    return 0
