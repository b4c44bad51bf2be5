"""Group commit: several small writes share one transaction and one fsync.

A chat send is a handful of statements and one durable commit.  Committed
one by one, sends queue behind each other's commits; committed together,
the sends that arrived while the previous commit was running ride the next
one.  Latency stays one commit, throughput grows with the load.

Each job must *refuse before it writes*: a job that raises a
:class:`~server.errors.ZvonokError` (a refusal: not a member, a reused key)
must have written nothing, so the others in its batch are unaffected and it
alone gets the error.  Any other exception (the database failed, a bug)
rolls back the whole batch and every job in it gets that error; the client
retries with its idempotency key.  Results are handed out only after the
commit: nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from server.errors import ZvonokError

log = logging.getLogger(__name__)

S = TypeVar("S")
T = TypeVar("T")

MAX_BATCH = 64

Outcome = tuple[Any, ZvonokError | None]


class GroupCommit(Generic[S]):
    """Batches jobs; ``run_batch`` runs a list of them in one transaction
    and returns, once committed, each one's result or refusal."""

    def __init__(
        self,
        run_batch: Callable[[list[Callable[[S], Awaitable[Any]]]], Awaitable[list[Outcome]]],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._pending: list[tuple[Callable[[S], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[S], Awaitable[T]]) -> T:
        """Run ``job`` in the next shared transaction; return once it is committed.

        Cancelling the caller does not cancel the job: it may already be part
        of a commit, and a retry with the same idempotency key finds it.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        result: T = await asyncio.shield(future)
        return result

    async def close(self) -> None:
        """Wait for the jobs already queued to be committed."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                outcomes = await self._run_batch([job for job, _ in batch])
            except Exception as exc:
                log.warning("a batch of %d writes failed: %r", len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException as exc:  # cancelled: the outcome is unknown to us
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise
            for (_, future), (result, error) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)
