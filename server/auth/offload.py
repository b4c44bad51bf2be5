"""GOST signature checks in worker processes, a bounded number at a time.

A GOST R 34.10-2012 verification takes about 0.7 ms of CPU (fastecdsa's
double multiplication, holding the GIL the whole time), 20 times an RS256
one; a class signing in at once would hold the event loop for as long as it
takes to verify them all, and every chat with it.  A thread pool would not
help: the Rust code keeps the GIL, and a waiting event loop thread gets it
back only at the interpreter's switch interval (5 ms).  So the checks run in
``workers`` processes (started on first use, ``spawn``: the server has
threads, which ``fork`` would copy in whatever state they are in), and the
event loop only hands over the signed bytes and the keys.

At most ``queue`` checks are outstanding (running or waiting); one more is
refused with ``auth.busy`` (HTTP 503, ``retry_after``) rather than queued
without bound.  A pool whose worker died is replaced on the next check.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool

from server.auth import gost
from server.auth.errors import busy
from server.auth.streebog import streebog256

logger = logging.getLogger(__name__)


def find_gost_signer(
    keys: Sequence[gost.GostPublicKey], signed: bytes, signature: bytes
) -> int | None:
    """The index of the key in ``keys`` whose signature ``signature`` over ``signed`` is, or None.

    Hashes once for all the keys.  Runs in a worker process, or inline.
    """
    parts = gost.split_signature(signature)
    if parts is None or not keys:
        return None
    r, s = parts
    digest = streebog256(signed)
    for index, key in enumerate(keys):
        if gost.verify_number(key, gost.digest_number(digest, key.curve), r, s):
            return index
    return None


def _warm() -> str:
    """Run in each new worker so its first real check pays no import."""
    from server.auth import streebog

    return streebog.IMPLEMENTATION


class SignaturePool:
    """Worker processes that check GOST signatures for the event loop.

    ``close()`` stops them; checks still outstanding then fail with ``auth.busy``.
    """

    def __init__(self, *, workers: int, queue: int) -> None:
        if workers < 1 or queue < 1:
            raise ValueError("a signature pool needs at least one worker and a queue of one")
        self._workers = workers
        self._queue = queue
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._outstanding = 0
        self._closed = False

    @property
    def outstanding(self) -> int:
        """Checks handed to the workers and not yet answered."""
        return self._outstanding

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    async def start(self) -> None:
        """Start the workers now rather than on the first sign-in (about 0.3 s each)."""
        pool = self._pool()
        await asyncio.gather(
            *(asyncio.wrap_future(pool.submit(_warm)) for _ in range(self._workers))
        )

    def submit(
        self, keys: Sequence[gost.GostPublicKey], signed: bytes, signature: bytes
    ) -> asyncio.Future[int | None]:
        """Hand a check to a worker; its answer as :func:`find_gost_signer` gives it.

        Raises ``auth.busy`` when ``queue`` checks are outstanding or the pool
        is closed.  The future is not cancelled with the awaiting task (shield
        it; the verifier shares it between callers of the same token).
        """
        if self._closed or self._outstanding >= self._queue:
            raise busy()
        try:
            submitted = self._pool().submit(find_gost_signer, tuple(keys), signed, signature)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._discard()
            raise busy() from exc
        self._outstanding += 1
        future = asyncio.wrap_future(submitted)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: asyncio.Future[int | None]) -> None:
        self._outstanding -= 1
        if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
            logger.error("a GOST signature worker died; starting a new pool")
            self._discard()

    def _discard(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the workers (waiting for them off the event loop); idempotent."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
