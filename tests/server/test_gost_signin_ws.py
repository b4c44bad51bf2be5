"""Signing in with GOST-signed tokens over real sockets, as production will.

The embedded default with ``[dev_idp] algorithm = GOST3410_2012_256``: the
development provider signs as ESIA does, and the server verifies in its
worker process (``[esia] verify_workers``), through the same ``hello`` and
``Authorization: Bearer`` doors as every token.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import multiprocessing
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import make_app
from server.appkeys import DEV_IDP, PENDING, STORE
from server.auth import DevIdentityProvider
from server.clock import ManualClock
from server.preauth import CountingSite
from server.roster.model import Role
from signaling.client import Client, RequestError
from tests import conftest

GOST = "GOST3410_2012_256"


@dataclasses.dataclass
class GostServer:
    base: str
    idp: DevIdentityProvider
    http: aiohttp.ClientSession
    teacher: int

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[GostServer]:
    base = conftest.test_config(tmp_path)
    config = dataclasses.replace(
        base,
        esia=dataclasses.replace(base.esia, algorithms=("RS256", GOST), verify_workers=1),
        dev_idp=dataclasses.replace(base.dev_idp, algorithm=GOST),
    )
    app = make_app(config, clock=ManualClock())
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = CountingSite(runner, "127.0.0.1", 0, pending=app[PENDING])
    await site.start()
    directory = await app[STORE].directory()
    teacher = next(e.person.oid for e in directory if any(r.role is Role.TEACHER for r in e.roles))
    http = aiohttp.ClientSession()
    try:
        yield GostServer(f"http://127.0.0.1:{site.port}", app[DEV_IDP], http, teacher)
    finally:
        await http.close()
        await runner.cleanup()


def edited(token: str, oid: int) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["urn:esia:sbj_id"] = oid
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{payload}.{signature}"


async def test_a_gost_token_signs_in_over_the_websocket(server: GostServer) -> None:
    token = server.idp.issue(server.teacher)
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == GOST
    assert multiprocessing.active_children(), "the verification worker runs"

    async with await Client.connect(server.ws_url, token, session=server.http) as client:
        assert client.welcome is not None
        assert client.welcome.profile["person"]["oid"] == server.teacher
    # The same token again (a reconnect) is let in from memory.
    async with await Client.connect(server.ws_url, token, session=server.http) as again:
        assert again.welcome is not None


async def test_a_gost_bearer_token_works_on_http(server: GostServer) -> None:
    headers = {"Authorization": f"Bearer {server.idp.issue(server.teacher)}"}
    async with server.http.get(f"{server.base}/api/v1/me", headers=headers) as response:
        assert response.status == 200
        assert (await response.json())["person"]["oid"] == server.teacher


async def test_an_edited_gost_token_is_refused_and_told_apart_once_the_genuine_was_seen(
    server: GostServer,
) -> None:
    genuine = server.idp.issue(server.teacher)
    forged = edited(genuine, server.teacher + 1)

    with pytest.raises(RequestError) as unseen:
        await Client.connect(server.ws_url, forged, session=server.http)
    assert unseen.value.code == "auth.bad_signature"

    async with await Client.connect(server.ws_url, genuine, session=server.http):
        pass
    with pytest.raises(RequestError) as seen:
        await Client.connect(server.ws_url, forged, session=server.http)
    assert seen.value.code == "auth.tampered"
