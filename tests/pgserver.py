"""A real PostgreSQL server for the test run, started by the tests themselves.

One server per test session (``initdb`` into a temporary directory, a free
port on 127.0.0.1), and a fresh database per test, copied from a template
that already has every migration (``CREATE DATABASE ... TEMPLATE``, a file
copy: much faster than migrating each one).  Durability settings are off
(``fsync``, ``synchronous_commit``): the tests kill Zvonok, never
PostgreSQL, and a committed transaction is in PostgreSQL's memory whatever
happens to its client.  The benchmark runs its own server with the
production settings (bench/servers.py).

The binaries are Debian's (``postgresql`` in .ci/run's packages).  Without
them the tests that need PostgreSQL fail, saying so: they are never
skipped, so a CI that lost the package cannot pass on SQLite alone.
PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the package makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from server.store.postgres import PostgresStore, parse_dsn
from tests.serverproc import free_port

USER = "zvonok"
SECRET_USER = "zvonok_secret"  # the one role that must give a password
SECRET = "correct horse battery staple"
HBA = f"""local all all trust
host all {SECRET_USER} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""
TEMPLATE = "zvonok_template"
START_TIMEOUT = 60
MISSING = (
    "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install Debian's "
    "`postgresql` package (.ci/run does), or put them on PATH or in ZVONOK_PG_BINDIR. "
    "The PostgreSQL tests are never skipped."
)

TEST_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
    # A deadlock is found at once rather than after a second of waiting.
    "deadlock_timeout": "100ms",
}


class PostgresMissing(RuntimeError):
    pass


def find_bindir() -> Path:
    """Where initdb and pg_ctl are: ZVONOK_PG_BINDIR, PATH, or Debian's place."""
    candidates = []
    if os.environ.get("ZVONOK_PG_BINDIR"):
        candidates.append(Path(os.environ["ZVONOK_PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresMissing(MISSING)


class PostgresServer:
    """A PostgreSQL server in its own temporary directory, on a free port."""

    def __init__(self, bindir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.settings = TEST_SETTINGS if settings is None else settings
        self.root = Path(tempfile.mkdtemp(prefix="zvonok-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0

    def dsn(self, database: str, user: str = USER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        hba = self.data / "pg_hba.conf"
        hba.write_text(HBA)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(hba, entry.pw_uid, entry.pw_gid)
        options = " ".join(f"-c {name}={value}" for name, value in self.settings.items())
        options += f" -p {self.port} -k {self.root}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        )
        asyncio.run(self._make_template())

    async def _make_template(self) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"))
        try:
            await connection.execute(f"CREATE DATABASE {TEMPLATE}")
            await connection.execute(f"CREATE ROLE {SECRET_USER} LOGIN PASSWORD '{SECRET}'")
        finally:
            await connection.close()
        store = PostgresStore(parse_dsn(self.dsn(TEMPLATE)))
        await store.open()  # every migration
        await store.close()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def create_database(self, *, migrated: bool = True, owner: str = USER) -> str:
        """A new database, migrated (from the template) or empty; its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        template = TEMPLATE if migrated else "template0"
        connection = await asyncpg.connect(self.dsn("postgres"))
        try:
            await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {owner}")
        finally:
            await connection.close()
        return name

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"))
        try:
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await connection.close()


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
