"""Starting and stopping the servers under test, each as its own process."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from procstats import cpu_seconds, free_port, wait_for_port
from roster_gen import write_roster

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
IMPORT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Server:
    """A running server: its process, WebSocket URL and (Zvonok) key directory."""

    process: subprocess.Popen[bytes]
    url: str
    idp_dir: str | None
    database_pid: int | None = None  # PostgreSQL's postmaster, if Zvonok runs on one

    @property
    def pid(self) -> int:
        return self.process.pid

    def database_cpu(self) -> float:
        """CPU seconds of the PostgreSQL server's processes (0 without one)."""
        if self.database_pid is None:
            return 0.0
        pids = [self.database_pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.database_pid:
                    pids.append(int(stat.parent.name))
        total = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):  # a backend that ended meanwhile
                total += cpu_seconds(pid)
        # What ended backends used is the postmaster's children's time.
        stat = Path(f"/proc/{self.database_pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return total + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


# PostgreSQL as a production node would run it: every commit flushed to disk
# (fsync, synchronous_commit, full_page_writes at their defaults: on), the
# rest of the defaults but memory. Printed with the results.
POSTGRES_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "256MB",
    "max_connections": "100",
    "log_min_messages": "warning",
}


def zvonok_env(port: int, workdir: Path, synchronous: str = "FULL") -> dict[str, str]:
    """The environment for ``python -m server``: a private database, raised limits."""
    env = dict(os.environ)
    query = "" if synchronous == "FULL" else f"?synchronous={synchronous}"
    env.update(
        {
            "ZVONOK_HTTP_HOST": "127.0.0.1",
            "ZVONOK_HTTP_PORT": str(port),
            "ZVONOK_STORAGE_DATABASE": f"sqlite://{workdir / 'zvonok.db'}{query}",
            "ZVONOK_STORAGE_SEED_DEMO": "false",
            "ZVONOK_DEV_IDP_DIRECTORY": str(workdir / "dev-idp"),
            "ZVONOK_LOG_LEVEL": "WARNING",
            "ZVONOK_PROTOCOL_FRAMES_PER_SECOND": "1000",
            "ZVONOK_PROTOCOL_FRAME_BURST": "1000",
            # Ignored by a server without the [chat] section (only a TOML file's
            # unknown keys are refused, not unknown environment variables).
            **{
                f"ZVONOK_CHAT_{tier}{name}": "1000"
                for tier in ("", "STUDENT_", "STAFF_")
                for name in ("SENDS_PER_SECOND", "SEND_BURST", "CHAT_PER_SECOND", "CHAT_BURST")
            },
        }
    )
    return env


@contextlib.contextmanager
def running(
    target: str,
    classes: int,
    synchronous: str = "FULL",
    extra_env: dict[str, str] | None = None,
    store: str = "sqlite",
) -> Iterator[Server]:
    """Start ``target`` ("zvonok" or "baseline") on a free port; stop it on exit.

    Zvonok gets a fresh database (SQLite ``synchronous`` as given, or, with
    ``store`` "postgresql", a PostgreSQL server of its own started here with
    :data:`POSTGRES_SETTINGS`) with a generated roster of ``classes``
    classes, and a dev identity provider whose keys are made here first so
    the load generator can sign tokens the server accepts.  ``extra_env``
    adds settings (``ZVONOK_DEV_IDP_ALGORITHM`` also chooses the key made
    here).  Everything lives in a temporary directory, removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="zvonok-bench-") as tmp:
        env = extra_env or {}
        if store == "postgresql" and target == "zvonok":
            with _postgres() as (database, postmaster):
                env = {**env, "ZVONOK_STORAGE_DATABASE": database}
                for server in _running(target, Path(tmp), classes, synchronous, env):
                    yield dataclasses.replace(server, database_pid=postmaster)
        else:
            yield from _running(target, Path(tmp), classes, synchronous, env)


@contextlib.contextmanager
def _postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL server for one run: the DSN of its empty database, its pid."""
    import asyncio

    sys.path.insert(0, str(REPO))
    from tests.pgserver import PostgresServer

    server = PostgresServer(settings=POSTGRES_SETTINGS)
    try:
        server.start()
        name = asyncio.run(server.create_database(migrated=False))
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        yield server.dsn(name), postmaster
    finally:
        server.stop()


def _running(
    target: str, workdir: Path, classes: int, synchronous: str, extra_env: dict[str, str]
) -> Iterator[Server]:
    port = free_port()
    log = (workdir / f"{target}.log").open("wb")
    idp_dir: str | None = None
    if target == "zvonok":
        env = {**zvonok_env(port, workdir, synchronous), **extra_env}
        idp_dir = env["ZVONOK_DEV_IDP_DIRECTORY"]
        _make_idp(Path(idp_dir), env.get("ZVONOK_DEV_IDP_ALGORITHM", "RS256"))
        roster = workdir / "roster.json"
        write_roster(roster, classes)
        imported = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "server", "roster", "import", str(roster)],
            env=env,
            cwd=workdir,
            capture_output=True,
            timeout=IMPORT_TIMEOUT,
            check=False,
        )
        if imported.returncode != 0:
            raise RuntimeError(f"roster import failed:\n{imported.stderr.decode()}")
        command = [sys.executable, "-m", "server", "serve"]
    else:
        env = dict(os.environ)
        command = [sys.executable, str(BENCH / "baseline_server.py"), "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603
        command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, START_TIMEOUT, alive=lambda: process.poll() is None)
        yield Server(process, f"http://127.0.0.1:{port}/ws", idp_dir)
    except BaseException:
        _stop(process)
        log.close()
        tail = (workdir / f"{target}.log").read_text(errors="replace")[-2000:]
        if tail:
            print(f"--- {target} server log (tail) ---\n{tail}", file=sys.stderr)
        raise
    else:
        _stop(process)
        log.close()


def _make_idp(directory: Path, algorithm: str = "RS256") -> None:
    from server.auth import DevIdentityProvider
    from server.clock import SystemClock
    from server.config import DEV_ISSUER

    DevIdentityProvider.load_or_create(
        directory, issuer=DEV_ISSUER, client_id="ZVONOK", clock=SystemClock(), algorithm=algorithm
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)
