"""A real ``python -m server serve`` process on 127.0.0.1, for tests that kill it.

The process runs in a directory of its own with its database and dev
identity provider keys there, so a test can restart it on the same files,
mint tokens with the same key and read the database itself.  Readiness is
the banner the server prints once it listens; stderr goes to a file per
start for the test to read afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import server
from server.auth import DevIdentityProvider
from server.clock import SystemClock
from server.config import DEV_ISSUER

READY_LINE = "Zvonok is serving on"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
REPO = Path(server.__file__).resolve().parent.parent


def end_process(process: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    """Terminate a helper server, killing it if it has not exited within ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``python -m server serve`` on ``port`` with its files in ``directory``."""

    def __init__(
        self, directory: Path, *, port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.stderr_files: list[Path] = []

    @property
    def database(self) -> Path:
        return self.directory / "zvonok.db"

    @property
    def idp_directory(self) -> Path:
        return self.directory / "dev-idp"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ZVONOK_")}
        return {
            **inherited,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "ZVONOK_HTTP_HOST": "127.0.0.1",
            "ZVONOK_HTTP_PORT": str(self.port),
            "ZVONOK_STORAGE_DATABASE": f"sqlite:{self.database}",
            "ZVONOK_DEV_IDP_DIRECTORY": str(self.idp_directory),
            **self.env,
        }

    def stderr(self) -> str:
        """Everything every start of the server wrote to stderr so far."""
        return "".join(
            f"--- {path.name} ---\n{path.read_text(encoding='utf-8', errors='replace')}"
            for path in self.stderr_files
        )

    async def start(self) -> None:
        """Start the server and return once it listens (its banner is out)."""
        assert self.process is None or self.process.returncode is not None, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        stderr_path = self.directory / f"stderr-{self.starts}.log"
        self.stderr_files.append(stderr_path)
        with stderr_path.open("wb") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server",
                "serve",
                cwd=self.directory,
                env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    line = (await self.process.stdout.readline()).decode()
                    if not line:
                        code = await self.process.wait()
                        raise AssertionError(
                            f"the server exited ({code}) before it was ready:\n{self.stderr()}"
                        )
                    if READY_LINE in line:
                        assert f"{self.base} " in line, line
                        return
        except BaseException:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL: no shutdown code of the server runs.  Waits for the process to end."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.kill()
        async with asyncio.timeout(STOP_TIMEOUT):
            code = await process.wait()
        assert code == -signal.SIGKILL, code

    def freeze(self) -> None:
        """SIGSTOP: the node stops answering anyone (a stall, a swap storm), alive."""
        assert self.process is not None and self.process.returncode is None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: the frozen node carries on where it was."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    async def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after ``STOP_TIMEOUT``); the exit code."""
        process = self.process
        if process is None:
            return None
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        return process.returncode

    def identity_provider(self) -> DevIdentityProvider:
        """The dev identity provider on the server's key: its tokens are the server's."""
        return DevIdentityProvider.load_or_create(
            self.idp_directory, issuer=DEV_ISSUER, client_id="ZVONOK", clock=SystemClock()
        )
