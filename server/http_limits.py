"""What one HTTP request may hold: its body for a bounded time, and its
person's share of the handlers.

:mod:`server.preauth` and ``http.request_timeout`` bound connections until
their request head is in; past that, a handler runs.  Two things still let
one caller hold the server's handlers for as long as they like, and both
are bounded here, for every route at once rather than in each handler:

* **The body.**  A handler that reads a body waits for its bytes, and a
  caller who sends one byte a second (signed in or not) would hold that
  handler forever.  :func:`body_deadline` gives the whole body
  ``http.body_timeout`` seconds from the start of the handler; a body not
  complete by then fails every read of it with ``http.body_timeout`` (408),
  and the connection is closed after the answer instead of being drained.
* **The person.**  A signed-in person has at most ``http.max_person_requests``
  requests in progress at once (:class:`PersonRequests`); one more is
  answered ``http.too_many_requests`` (429) at once.  The slot is taken
  when the caller is known (:func:`server.http_api.signed_in`), before the
  body is read, and given back when the handler returns.

Both bound real time (``loop.call_later``), as aiohttp's own timeouts do:
they are about sockets, not the domain, so the injected clock has no part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import ZvonokError

BODY_TIMEOUT = "http.body_timeout"
TOO_MANY_REQUESTS = "http.too_many_requests"


class BodyTimeout(ZvonokError):
    """The request's body did not arrive in time."""

    http_status = 408

    def __init__(self, timeout: float) -> None:
        super().__init__(BODY_TIMEOUT, f"the request body did not arrive within {timeout:g} s")


class TooManyRequests(ZvonokError):
    """The caller has as many requests in progress as one person may."""

    http_status = 429
    retry_after = 1.0

    def __init__(self, limit: int) -> None:
        super().__init__(
            TOO_MANY_REQUESTS, f"at most {limit} requests of one person at once; retry"
        )


def body_deadline(timeout: float, answer: Callable[[ZvonokError], web.Response]) -> Middleware:
    """A middleware: the request's body must be complete ``timeout`` seconds
    after its handler starts (``answer`` turns the refusal into a response)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = request.content
        if body.is_eof():  # no body, or all of it here already: nothing to wait for
            return await handler(request)
        expired = False

        def expire() -> None:
            nonlocal expired
            if not body.is_eof():
                expired = True
                # Wakes the handler's read (and any later one) with the refusal.
                body.set_exception(BodyTimeout(timeout))

        timer = asyncio.get_running_loop().call_later(timeout, expire)
        try:
            response = await handler(request)
        except ZvonokError as exc:
            if not expired:
                raise
            response = answer(exc)  # the refusal itself, or one made after it
        finally:
            timer.cancel()
        if expired:
            # The rest of the body will never be read: aiohttp would drain it
            # for ``lingering_time`` (and log the failed read).  Answer (unless
            # the handler streamed its answer already), then close.
            if not response.prepared:
                response.force_close()
                await response.prepare(request)
                await response.write_eof()
            request.protocol.force_close()
        return response

    return middleware


_HOLDER = web.RequestKey("zvonok_person_request", int)


class PersonRequests:
    """The requests in progress of each signed-in person, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: dict[int, int] = {}

    def held(self, oid: int) -> int:
        return self._held.get(oid, 0)

    def take(self, request: web.Request, oid: int) -> None:
        """Count ``request`` as one of ``oid``'s (once); ``http.too_many_requests``."""
        if _HOLDER in request:
            return
        held = self._held.get(oid, 0)
        if held >= self._limit:
            raise TooManyRequests(self._limit)
        self._held[oid] = held + 1
        request[_HOLDER] = oid

    def _give_back(self, request: web.Request) -> None:
        oid = request.get(_HOLDER)
        if oid is None:
            return
        del request[_HOLDER]
        held = self._held.get(oid, 0) - 1
        if held > 0:
            self._held[oid] = held
        else:
            self._held.pop(oid, None)

    def middleware(self) -> Middleware:
        """Gives a request's slot back when its handler returns, however it ends."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                return await handler(request)
            finally:
                self._give_back(request)

        return middleware
