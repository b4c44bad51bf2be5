"""A real coturn ``turnserver`` on 127.0.0.1, for tests of TURN credentials.

It runs in the TURN REST API mode production uses (``use-auth-secret`` with a
``static-auth-secret``), from the command line alone (``-n``: Debian's
/etc/turnserver.conf, which logs to syslog, is never read), UDP only, with
its pid file, SQLite user database and log under the test's directory.
Readiness is coturn answering an unauthenticated Allocate with the 401
challenge, not a sleep.  Missing coturn is a failure, not a skip: CI installs
it (``.ci/run``).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aioice import stun

from tests.serverproc import end_process

REALM = "zvonok.test"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Coturn:
    """``turnserver`` listening on ``address`` with the shared ``secret``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.secret = secrets.token_urlsafe(24)
        self.address = ("127.0.0.1", free_udp_port())
        self.log_path = directory / "turnserver.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, binary: str) -> list[str]:
        return [
            binary,
            "-n",
            f"--listening-ip={self.address[0]}",
            f"--listening-port={self.address[1]}",
            f"--relay-ip={self.address[0]}",
            "--allow-loopback-peers",
            "--use-auth-secret",
            f"--static-auth-secret={self.secret}",
            f"--realm={REALM}",
            "--no-tcp",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--no-rfc5780",
            f"--pidfile={self.directory / 'turnserver.pid'}",
            f"--userdb={self.directory / 'turndb'}",
            "--log-file=stdout",
            "--simple-log",
        ]

    def start(self) -> None:
        binary = shutil.which("turnserver")
        if binary is None:
            pytest.fail(
                "coturn's turnserver is not installed; `apt-get install coturn` "
                "(.ci/run installs it as a test dependency)",
                pytrace=False,
            )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # a fixed argv, no shell
                self.command(binary),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers_allocate():
            if self.process.poll() is not None:
                pytest.fail(f"turnserver exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"turnserver did not answer in {START_TIMEOUT}s:\n{self.log()}")

    def _answers_allocate(self) -> bool:
        """Whether coturn answers an Allocate without credentials with its 401 challenge."""
        request = stun.Message(
            message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST
        )
        request.attributes["REQUESTED-TRANSPORT"] = 0x11000000  # UDP
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.1)
            sock.sendto(bytes(request), self.address)
            try:
                data = sock.recv(2048)
            except (TimeoutError, ConnectionRefusedError):
                return False
        response = stun.parse_message(data)
        if response.transaction_id != request.transaction_id:
            return False
        if response.attributes.get("ERROR-CODE", (0, ""))[0] != 401:
            raise AssertionError(f"turnserver answered an anonymous Allocate with {response}")
        return True

    def stop(self) -> None:
        """Terminate coturn, killing it if it has not exited within ``STOP_TIMEOUT``."""
        process, self.process = self.process, None
        end_process(process, STOP_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def running_coturn(directory: Path) -> Iterator[Coturn]:
    coturn = Coturn(directory)
    try:
        coturn.start()
        yield coturn
    finally:
        coturn.stop()
