"""A Zvonok server whose public URL is its real address, for the browser sign-in tests.

The callback registered at the local ESIA is ``<public_url>/auth/callback``,
so the port must be known before the application is made: the socket is
bound first and handed to the site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from server.app import make_app
from server.appkeys import PENDING, STORE
from server.clock import Clock
from server.config import Config, EsiaConfig, MediaConfig, WebConfig
from server.preauth import CountingSite
from server.roster.model import DirectoryEntry, Role
from server.signin.devesia import LOCAL_ESIA, LocalEsia
from tests.browser import bound_socket
from tests.conftest import test_config


@dataclass
class SignInServer:
    app: web.Application
    base: str
    clock: Clock
    directory: list[DirectoryEntry]

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    @property
    def esia(self) -> LocalEsia:
        """The embedded local ESIA (its state, for tests that make it misbehave)."""
        for sub in self.app._subapps:  # the sub-application mounted at /dev-esia/
            if LOCAL_ESIA in sub:
                return sub[LOCAL_ESIA]
        raise AssertionError("no local ESIA is mounted")

    def person(self, role: Role) -> DirectoryEntry:
        return next(e for e in self.directory if any(r.role is role for r in e.roles))


def sign_in_config(
    tmp_path: Path,
    base: str,
    *,
    dev_algorithm: str = "RS256",
    media: MediaConfig | None = None,
    **esia: object,
) -> Config:
    config = test_config(tmp_path)
    return dataclasses.replace(
        config,
        web=WebConfig(public_url=base),
        media=media or config.media,
        esia=dataclasses.replace(EsiaConfig(leeway=0.0), **esia),  # type: ignore[arg-type]
        dev_idp=dataclasses.replace(config.dev_idp, algorithm=dev_algorithm),
    )


@pytest.fixture
async def start_sign_in_server(tmp_path: Path) -> AsyncIterator[object]:
    runners: list[web.AppRunner] = []

    async def start(clock: Clock, **options: object) -> SignInServer:
        sock = bound_socket()
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = make_app(sign_in_config(tmp_path, base, **options), clock=clock)  # type: ignore[arg-type]
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        runners.append(runner)
        site = CountingSite(runner, "127.0.0.1", 0, pending=app[PENDING], sock=sock)
        await site.start()
        return SignInServer(app, base, clock, await app[STORE].directory())

    yield start
    for runner in runners:
        await runner.cleanup()
