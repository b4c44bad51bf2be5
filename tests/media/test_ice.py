"""TURN credentials and ICE server lists: the arithmetic, and a real coturn's verdict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aioice import stun
from aioice.turn import TurnTransport, create_turn_endpoint

from media.ice import TurnCredential, ice_servers, turn_credential
from server.config import MediaConfig

from .coturn import Coturn, running_coturn

OID = 1000042
TTL = 6 * 3600


# -- unit ---------------------------------------------------------------------


def test_known_answer() -> None:
    # Computed once outside Python:
    #   printf '%s' '1700021600:42' | openssl dgst -sha1 -hmac 'zvonok-test-secret' -binary | base64
    credential = turn_credential("zvonok-test-secret", 42, now=1_700_000_000.0, ttl=21_600)
    assert credential == TurnCredential(
        username="1700021600:42", password="v9euc3UKIgaaQhGACM2xu1rO8tY=", expires_at=1_700_021_600
    )


def test_username_is_expiry_then_person() -> None:
    credential = turn_credential("s", OID, now=1_700_000_000.75, ttl=600)
    expiry, person = credential.username.split(":")
    assert expiry.isdigit() and int(expiry) == credential.expires_at
    assert person == str(OID)


def test_expiry_is_whole_seconds_from_now() -> None:
    assert turn_credential("s", OID, now=1_700_000_000.0, ttl=600).expires_at == 1_700_000_600
    # A fraction of a second is dropped, never rounded up past now + ttl.
    assert turn_credential("s", OID, now=1_700_000_000.99, ttl=600).expires_at == 1_700_000_600


def test_password_changes_with_every_input() -> None:
    base = turn_credential("s", OID, now=1_700_000_000.0, ttl=600)
    others = [
        turn_credential("t", OID, now=1_700_000_000.0, ttl=600),
        turn_credential("s", OID + 1, now=1_700_000_000.0, ttl=600),
        turn_credential("s", OID, now=1_700_000_001.0, ttl=600),
        turn_credential("s", OID, now=1_700_000_000.0, ttl=700),
    ]
    assert len({base.password, *(c.password for c in others)}) == 5


def test_repr_hides_the_password() -> None:
    credential = turn_credential("s", OID, now=1_700_000_000.0, ttl=600)
    assert credential.password not in repr(credential)
    assert credential.username in repr(credential)


@pytest.mark.parametrize(("secret", "ttl"), [("", 600), ("s", 0), ("s", -1)])
def test_no_credential_without_a_secret_or_a_lifetime(secret: str, ttl: int) -> None:
    with pytest.raises(ValueError):
        turn_credential(secret, OID, now=1_700_000_000.0, ttl=ttl)


def test_no_servers() -> None:
    assert ice_servers(MediaConfig(), OID, now=1_700_000_000.0) == []


def test_stun_only() -> None:
    config = MediaConfig(stun_urls=("stun:stun.school.example:3478",))
    assert ice_servers(config, OID, now=1_700_000_000.0) == [
        {"urls": ["stun:stun.school.example:3478"]}
    ]


def test_turn_urls_without_a_secret_give_no_turn_entry() -> None:
    config = MediaConfig(turn_urls=("turn:turn.school.example:3478",))
    assert ice_servers(config, OID, now=1_700_000_000.0) == []


def test_stun_and_turn() -> None:
    turn_urls = ("turn:turn.school.example:3478?transport=udp", "turns:turn.school.example:5349")
    config = MediaConfig(
        stun_urls=("stun:turn.school.example:3478",),
        turn_urls=turn_urls,
        turn_secret="zvonok-test-secret",
        turn_ttl=21_600,
    )
    assert ice_servers(config, 42, now=1_700_000_000.0) == [
        {"urls": ["stun:turn.school.example:3478"]},
        {
            "urls": list(turn_urls),
            "username": "1700021600:42",
            "credential": "v9euc3UKIgaaQhGACM2xu1rO8tY=",  # the known answer above
            "credentialType": "password",
        },
    ]


# -- against a real coturn ----------------------------------------------------


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    with running_coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


class Peer(asyncio.DatagramProtocol):
    """A UDP endpoint that keeps what it receives, with the sender's address."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue(maxsize=16)
        self.errors: list[Exception] = []
        self.transport: Any = None
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)


async def open_peer() -> tuple[asyncio.DatagramTransport, Peer]:
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))


async def allocate(coturn: Coturn, username: str, password: str) -> tuple[TurnTransport, Peer]:
    return await asyncio.wait_for(
        create_turn_endpoint(Peer, coturn.address, username=username, password=password),
        timeout=10,
    )


async def release(relay: TurnTransport, client: Peer) -> None:
    """Delete the allocation and wait until aioice has closed its socket."""
    relay.close()
    await asyncio.wait_for(client.closed, timeout=10)


async def assert_relays(relay: TurnTransport, client: Peer, relayed: tuple[str, int]) -> None:
    """A datagram goes through the relay to a new peer, and the peer's answer comes back."""
    peer_transport, peer = await open_peer()
    try:
        peer_address = peer_transport.get_extra_info("sockname")
        relay.sendto(b"ping over turn", peer_address)
        data, sender = await asyncio.wait_for(peer.received.get(), timeout=5)
        assert (data, sender) == (b"ping over turn", relayed)
        peer_transport.sendto(b"pong over turn", relayed)
        data, sender = await asyncio.wait_for(client.received.get(), timeout=5)
        assert (data, sender) == (b"pong over turn", peer_address)
        assert client.errors == []
    finally:
        peer_transport.close()


async def test_credential_from_ice_servers_allocates_and_relays(coturn: Coturn) -> None:
    host, port = coturn.address
    config = MediaConfig(
        turn_urls=(f"turn:{host}:{port}?transport=udp",), turn_secret=coturn.secret
    )
    (entry,) = ice_servers(config, OID, now=time.time())
    assert isinstance(entry["username"], str) and isinstance(entry["credential"], str)

    relay, client = await allocate(coturn, entry["username"], entry["credential"])
    try:
        relayed = relay.get_extra_info("sockname")
        assert relayed[0] == "127.0.0.1" and relayed[1] not in (0, port)
        await assert_relays(relay, client, relayed)
    finally:
        await release(relay, client)


def refused_credentials(secret: str) -> dict[str, TurnCredential]:
    now = time.time()
    fresh = turn_credential(secret, OID, now, TTL)
    expiry, _ = fresh.username.split(":")
    extended = str(int(expiry) + TTL)
    return {
        "wrong secret": turn_credential(secret + "x", OID, now, TTL),
        "expired": turn_credential(secret, OID, now - 2 * TTL, TTL),
        "another person": TurnCredential(f"{expiry}:{OID + 1}", fresh.password, fresh.expires_at),
        "extended expiry": TurnCredential(f"{extended}:{OID}", fresh.password, int(extended)),
    }


@pytest.mark.parametrize("case", ["wrong secret", "expired", "another person", "extended expiry"])
async def test_coturn_refuses(coturn: Coturn, case: str) -> None:
    credential = refused_credentials(coturn.secret)[case]
    with pytest.raises(stun.TransactionFailed) as refused:
        relay, client = await allocate(coturn, credential.username, credential.password)
        await release(relay, client)
    # 401 Unauthorized on the authenticated retry: the key did not match.
    # (438 would be a stale nonce, which is not what these cases test.)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401, str(refused.value)


async def test_expiry_bounds_new_allocations_not_a_running_one(coturn: Coturn) -> None:
    """What ``turn_ttl`` means: after the expiry no new allocation, but one made
    before it keeps relaying (coturn keeps the key of a session it accepted)."""
    now = time.time()
    credential = turn_credential(coturn.secret, OID, now, ttl=2)  # valid for 1 to 2 s
    relay, client = await allocate(coturn, credential.username, credential.password)
    try:
        # coturn's clock ticks in whole seconds: wait (bounded) until it is past the expiry.
        await asyncio.sleep(max(0.0, credential.expires_at + 1.5 - time.time()))
        with pytest.raises(stun.TransactionFailed):
            await allocate(coturn, credential.username, credential.password)
        # A new peer needs a ChannelBind, an authenticated request after the expiry.
        await assert_relays(relay, client, relay.get_extra_info("sockname"))
    finally:
        await release(relay, client)
