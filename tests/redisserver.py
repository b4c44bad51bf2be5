"""A real ``redis-server`` for a test, started by the test itself.

Debian's package (``redis-server`` in .ci/run's packages), on a free port of
127.0.0.1, from the command line alone (no /etc/redis/redis.conf), keeping
nothing on disk. Ready means it answers PING, not a sleep. It can be
stopped and started again on the same port, as a restart in production
would be. Missing binaries are a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import end_process, free_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed; `apt-get install redis-server` "
                "(.ci/run installs it as a test dependency)",
                pytrace=False,
            )
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(  # a fixed argv, no shell
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--daemonize", "no",
                "--loglevel", "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not answer PING in {START_TIMEOUT}s")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        end_process(process, STOP_TIMEOUT)


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
