"""The HTTP API: health, readiness and ``/api/v1``.

Errors are JSON ``{"error": {"code": ..., "message": ...}}`` with the status
of the error's class; a 401 also carries ``WWW-Authenticate: Bearer``.
The API is described in docs/api.md.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from .access import Admission
from .appkeys import GATE, PERSON_REQUESTS, STORE
from .errors import AuthError, StoreUnavailable, ZvonokError

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

_dumps = partial(json.dumps, ensure_ascii=False)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def error_response(exc: ZvonokError) -> web.Response:
    response = json_response({"error": exc.to_json()}, status=exc.http_status)
    if exc.http_status == 401:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="zvonok", error="invalid_token", error_code="{exc.code}"'
        )
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn our errors into JSON replies; never leak an internal one."""
    try:
        return await handler(request)
    except ZvonokError as exc:
        return error_response(exc)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_response(
            {"error": {"code": "server.internal", "message": "internal error"}}, status=500
        )


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or AuthError."""
    header = request.headers.get("Authorization")
    if header is None:
        raise AuthError("auth.missing", "send an ESIA access token as 'Authorization: Bearer'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("auth.malformed", "the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def signed_in(request: web.Request) -> Admission:
    """The caller, admitted by their token (or, without an ``Authorization``
    header, by a browser's session cookie, writes only from our own pages);
    their request counts as one of the few a person may have in progress
    (``http.too_many_requests``)."""
    from .auth.web import SESSION_COOKIE, cookie_admission

    if "Authorization" not in request.headers and SESSION_COOKIE in request.cookies:
        admission = await cookie_admission(request)
    else:
        admission = await request.app[GATE].admit(bearer_token(request))
    request.app[PERSON_REQUESTS].take(request, admission.token.oid)
    return admission


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving."""
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The process can do its work: the store answers."""
    try:
        await request.app[STORE].ping()
    except StoreUnavailable as exc:
        return json_response({"status": "unavailable", "error": exc.to_json()}, status=503)
    return json_response({"status": "ok"})


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    """The caller's person, roles, classes and (for a parent) children."""
    admission = await signed_in(request)
    return json_response(admission.profile.to_json())
