"""GOST checks off the event loop and tokens verified once (server.auth.offload, cache).

A real process pool does the checks; ``signature_checks`` counts the checks
the verifier ran or handed over, which is how a test sees that a token was
not verified twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.auth import DevIdentityProvider, TokenVerifier, errors
from server.auth.cache import ExpiringSet
from server.auth.errors import VerifierBusy
from server.auth.offload import SignaturePool, find_gost_signer
from server.clock import ManualClock
from server.errors import AuthError

ISSUER = "https://esia.dev-idp.zvonok.invalid/"
CLIENT_ID = "ZVONOK"
GOST = "GOST3410_2012_256"
NOW = 1_800_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=NOW)


@pytest.fixture
def idp(tmp_path: Path, clock: ManualClock) -> DevIdentityProvider:
    return DevIdentityProvider.load_or_create(
        tmp_path / "idp", issuer=ISSUER, client_id=CLIENT_ID, clock=clock, algorithm=GOST
    )


@pytest.fixture
async def pool() -> AsyncIterator[SignaturePool]:
    pool = SignaturePool(workers=1, queue=4)
    await pool.start()
    yield pool
    await pool.close()


def make_verifier(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool | None, **kw: Any
) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        certificates=[idp.certificate_pem],
        clock=clock,
        algorithms=[GOST],
        pool=pool,
        **kw,
    )


async def test_the_pool_gives_the_same_answers_as_the_loop(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool, tmp_path: Path
) -> None:
    offloaded = make_verifier(idp, clock, pool)
    inline = make_verifier(idp, clock, None)
    token = idp.issue(42)
    head, _, signature = token.split(".")
    stranger = DevIdentityProvider.load_or_create(
        tmp_path / "stranger",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        clock=clock,
        algorithm=GOST,
    ).issue(42)
    edited = f"{head}.{idp.issue(43).split('.')[1]}.{signature}"

    assert (await offloaded.verify_async(token)) == inline.verify(token)
    for other in (stranger, edited):
        with pytest.raises(AuthError) as on_pool:
            await offloaded.verify_async(other)
        with pytest.raises(AuthError) as on_loop:
            inline.verify(other)
        assert on_pool.value.code == on_loop.value.code
    assert offloaded.signature_checks == 3


async def test_a_token_is_checked_once_while_it_is_valid(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool
) -> None:
    verifier = make_verifier(idp, clock, pool, leeway=0)
    token = idp.issue(42, lifetime=60)

    for _ in range(5):
        assert (await verifier.verify_async(token)).oid == 42
    assert verifier.verify(token).oid == 42
    assert verifier.signature_checks == 1

    clock.advance(60)
    with pytest.raises(AuthError) as info:
        await verifier.verify_async(token)
    assert info.value.code == errors.EXPIRED


async def test_the_same_token_arriving_at_once_is_checked_once(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool
) -> None:
    verifier = make_verifier(idp, clock, pool)
    token = idp.issue(42)

    results = await asyncio.gather(*(verifier.verify_async(token) for _ in range(20)))

    assert {r.oid for r in results} == {42}
    assert verifier.signature_checks == 1
    assert pool.outstanding == 0


async def test_a_full_queue_answers_busy_and_the_rest_go_through(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool
) -> None:
    verifier = make_verifier(idp, clock, pool)
    tokens = [idp.issue(oid) for oid in range(1, 11)]

    # The ten coroutines all reach the pool before any answer can come back
    # (answers arrive through the event loop), so exactly the queue's four get in.
    results = await asyncio.gather(
        *(verifier.verify_async(t) for t in tokens), return_exceptions=True
    )

    busy = [r for r in results if isinstance(r, VerifierBusy)]
    done = [r.oid for r in results if not isinstance(r, BaseException)]
    assert len(busy) == 6
    assert done == [1, 2, 3, 4]
    assert all(b.code == errors.BUSY and b.retry_after == 1.0 for b in busy)
    # Retried, they pass.
    assert (await verifier.verify_async(tokens[9])).oid == 10


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_check(
    idp: DevIdentityProvider, clock: ManualClock, pool: SignaturePool
) -> None:
    verifier = make_verifier(idp, clock, pool)
    token = idp.issue(42)
    first = asyncio.ensure_future(verifier.verify_async(token))
    second = asyncio.ensure_future(verifier.verify_async(token))
    await asyncio.sleep(0)  # both are waiting on the one check
    first.cancel()

    assert (await second).oid == 42
    with pytest.raises(asyncio.CancelledError):
        await first
    assert verifier.signature_checks == 1


async def test_a_closed_pool_answers_busy(idp: DevIdentityProvider, clock: ManualClock) -> None:
    pool = SignaturePool(workers=1, queue=4)
    verifier = make_verifier(idp, clock, pool)
    await pool.close()
    with pytest.raises(VerifierBusy):
        await verifier.verify_async(idp.issue(42))


async def test_without_a_pool_verify_async_checks_on_the_loop(
    idp: DevIdentityProvider, clock: ManualClock
) -> None:
    verifier = make_verifier(idp, clock, None, cache_size=0)
    token = idp.issue(42)
    assert (await verifier.verify_async(token)).oid == 42
    assert (await verifier.verify_async(token)).oid == 42
    assert verifier.signature_checks == 2


def test_find_gost_signer_names_the_key(idp: DevIdentityProvider, tmp_path: Path) -> None:
    token = idp.issue(42)
    head, body, signature = token.split(".")
    signed = f"{head}.{body}".encode()
    raw = _unb64(signature)
    other = DevIdentityProvider.load_or_create(
        tmp_path / "other", issuer=ISSUER, client_id=CLIENT_ID, clock=ManualClock(), algorithm=GOST
    )
    mine = _gost_key(idp)
    theirs = _gost_key(other)

    assert find_gost_signer([theirs, mine], signed, raw) == 1
    assert find_gost_signer([theirs], signed, raw) is None
    assert find_gost_signer([], signed, raw) is None
    assert find_gost_signer([mine], signed, raw[:-1]) is None


def _unb64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _gost_key(idp: DevIdentityProvider) -> Any:
    from server.auth.gost_keys import pem_blocks, public_key_from_spki

    return public_key_from_spki(pem_blocks(idp.certificate_pem)[0].der)


# --- the bounded memory ----------------------------------------------------------------


def test_expiring_set_forgets_at_expiry() -> None:
    kept = ExpiringSet(10)
    kept.add(b"a", expires=100.0, now=0.0)
    assert kept.holds(b"a", 99.9)
    assert not kept.holds(b"a", 100.0)
    assert len(kept) == 0


def test_expiring_set_drops_the_least_recently_used_past_its_bound() -> None:
    kept = ExpiringSet(2)
    kept.add(b"a", 100.0, 0.0)
    kept.add(b"b", 100.0, 0.0)
    assert kept.holds(b"a", 1.0)  # a is now the most recently used
    kept.add(b"c", 100.0, 0.0)
    assert kept.holds(b"a", 1.0)
    assert not kept.holds(b"b", 1.0)
    assert kept.holds(b"c", 1.0)
    assert len(kept) == 2


def test_expiring_set_of_size_zero_keeps_nothing() -> None:
    kept = ExpiringSet(0)
    kept.add(b"a", 100.0, 0.0)
    assert not kept.holds(b"a", 1.0)


def test_expiring_set_does_not_keep_what_already_expired() -> None:
    kept = ExpiringSet(5)
    kept.add(b"a", 10.0, now=10.0)
    assert len(kept) == 0
