"""Starting and stopping the servers under test, each as its own process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procstats import cpu_seconds, free_port, rss_kib, tree_cpu_seconds, wait_for_port
from roster_gen import write_roster

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# This checkout's code, for the bench's own imports (tests/, the dev IdP) and,
# through PYTHONPATH, for the servers it starts: not the checkout the virtual
# environment's editable install names, which a git worktree sharing another
# checkout's .venv would otherwise measure.
sys.path.insert(0, str(REPO))
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
IMPORT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Server:
    """A running server: its processes (one per node), their WebSocket URLs and
    (Zvonok) key directory, and what the nodes share (PostgreSQL, Redis)."""

    processes: tuple[subprocess.Popen[bytes], ...]
    urls: tuple[str, ...]
    idp_dir: str | None
    database_pid: int | None = None  # PostgreSQL's postmaster, if Zvonok runs on one
    redis_port: int | None = None  # the nodes' Redis, if there are several
    redis_pid: int | None = None

    @property
    def pid(self) -> int:
        """The first node's process."""
        return self.processes[0].pid

    @property
    def url(self) -> str:
        """The first node's WebSocket URL."""
        return self.urls[0]

    def cpu_seconds(self) -> float:
        """CPU seconds of every node's process, summed."""
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def rss_kib(self) -> int:
        """Resident memory of every node's process, summed."""
        return sum(rss_kib(p.pid) for p in self.processes)

    def database_cpu(self) -> float:
        """CPU seconds of the PostgreSQL server's processes, ended backends too (0 without)."""
        return 0.0 if self.database_pid is None else tree_cpu_seconds(self.database_pid)

    def redis_cpu(self) -> float:
        """CPU seconds of redis-server (all its threads; 0 without one)."""
        return 0.0 if self.redis_pid is None else cpu_seconds(self.redis_pid)

    def redis_stats(self) -> dict[str, float]:
        """Redis's counters: calls per command (``cmd:publish``…), bytes in and out."""
        if self.redis_port is None:
            return {}
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.redis_port)
        try:
            commands: dict[str, dict[str, Any]] = client.info("commandstats")  # type: ignore[assignment]
            net: dict[str, Any] = client.info("stats")  # type: ignore[assignment]
        finally:
            client.close()
        stats = {
            f"cmd:{name.removeprefix('cmdstat_')}": float(c["calls"])
            for name, c in commands.items()
        }
        stats["bytes in"] = float(net["total_net_input_bytes"])
        stats["bytes out"] = float(net["total_net_output_bytes"])
        stats["channels"] = float(net["pubsub_channels"])
        return stats


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
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
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
    nodes: int = 1,
) -> Iterator[Server]:
    """Start ``target`` ("zvonok" or "baseline") on a free port; stop it on exit.

    Zvonok gets a fresh database (SQLite ``synchronous`` as given, or, with
    ``store`` "postgresql", a PostgreSQL server of its own started here with
    :data:`POSTGRES_SETTINGS`) with a generated roster of ``classes``
    classes, and a dev identity provider whose keys are made here first so
    the load generator can sign tokens the server accepts.  With ``nodes``
    above 1, that many ``zvonok serve`` processes share the database, the
    keys and a Redis started here (the bus, ``ZVONOK_BUS_URL``), each on a
    port of its own.  ``extra_env`` adds settings
    (``ZVONOK_DEV_IDP_ALGORITHM`` also chooses the key made here).
    Everything lives in a temporary directory, removed afterwards.
    """
    with (
        tempfile.TemporaryDirectory(prefix="zvonok-bench-") as tmp,
        contextlib.ExitStack() as shared,
    ):
        env = dict(extra_env or {})
        database_pid = redis_port = redis_pid = None
        if store == "postgresql" and target == "zvonok":
            env["ZVONOK_STORAGE_DATABASE"], database_pid = shared.enter_context(_postgres())
        if nodes > 1 and target == "zvonok":
            redis = shared.enter_context(_redis(Path(tmp)))
            env["ZVONOK_BUS_URL"] = redis.url
            redis_port, redis_pid = redis.port, redis.pid
        with _nodes(target, Path(tmp), classes, synchronous, env, nodes) as (processes, urls, idp):
            yield Server(processes, urls, idp, database_pid, redis_port, redis_pid)


@contextlib.contextmanager
def _postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL server for one run: the DSN of its empty database, its pid."""
    import asyncio

    from tests.pgserver import PostgresServer

    server = PostgresServer(settings=POSTGRES_SETTINGS)
    try:
        server.start()
        name = asyncio.run(server.create_database(migrated=False))
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        yield server.dsn(name), postmaster
    finally:
        server.stop()


@dataclass(frozen=True)
class _Redis:
    url: str
    port: int
    pid: int


@contextlib.contextmanager
def _redis(directory: Path) -> Iterator[_Redis]:
    """The test suite's redis-server (tests/redisserver.py) for one run."""
    import pytest

    from tests.redisserver import running_redis

    try:
        with running_redis(directory) as server:
            assert server.process is not None  # noqa: S101 (running_redis started it)
            yield _Redis(server.url, server.port, server.process.pid)
    except pytest.fail.Exception as exc:  # how the tests' helper says it could not start
        raise RuntimeError(str(exc)) from None


@contextlib.contextmanager
def _nodes(
    target: str,
    workdir: Path,
    classes: int,
    synchronous: str,
    extra_env: dict[str, str],
    nodes: int,
) -> Iterator[tuple[tuple[subprocess.Popen[bytes], ...], tuple[str, ...], str | None]]:
    """``nodes`` processes of ``target`` (the baseline: always one), their URLs, the keys."""
    idp_dir: str | None = None
    if target == "zvonok":
        env = {**zvonok_env(0, workdir, synchronous), **extra_env}
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
        env, nodes = dict(os.environ), 1
        command = [sys.executable, str(BENCH / "baseline_server.py"), "--port"]
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    logs = [workdir / f"{target}-{n + 1}.log" for n in range(nodes)]
    try:
        for log_path in logs:  # one at a time: each brings the schema up to date as it starts
            port = free_port()
            with log_path.open("wb") as log:
                if target == "zvonok":
                    args, node_env = command, {**env, "ZVONOK_HTTP_PORT": str(port)}
                else:
                    args, node_env = [*command, str(port)], env
                processes.append(
                    subprocess.Popen(  # noqa: S603
                        args, env=node_env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
                    )
                )
            wait_for_port(port, START_TIMEOUT, alive=lambda: processes[-1].poll() is None)
            urls.append(f"http://127.0.0.1:{port}/ws")
        yield tuple(processes), tuple(urls), idp_dir
    except BaseException:
        for process in processes:
            _stop(process)
        for log_path in logs:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            if tail:
                print(f"--- {log_path.stem} server log (tail) ---\n{tail}", file=sys.stderr)
        raise
    else:
        for process in processes:
            _stop(process)


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
