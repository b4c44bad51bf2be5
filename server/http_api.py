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
from typing import Any, TypeVar, overload

import msgspec
from aiohttp import web
from msgspec import inspect as mi

from signaling import errors as codes
from signaling.errors import REQUEST_INVALID, ProtocolError, http_status
from signaling.fields import MAX_KEY
from signaling.schema import convert

from .access import Admission
from .appkeys import BUS, GATE, PERSON_REQUESTS, STORE
from .errors import AuthError, StoreUnavailable, ZvonokError
from .redisbus import RedisBus

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

_dumps = partial(json.dumps, ensure_ascii=False)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def invalid(message: str) -> ZvonokError:
    return ZvonokError(REQUEST_INVALID, message)


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's body as a JSON object, or ``request.invalid``."""
    try:
        body = msgspec.json.decode(await request.read())
    except (msgspec.DecodeError, RecursionError) as exc:
        raise invalid("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


@overload
async def read_body(request: web.Request, kind: type[T]) -> T: ...
@overload
async def read_body(request: web.Request, kind: Any) -> Any: ...
async def read_body(request: web.Request, kind: Any) -> Any:
    """The request's JSON body as ``kind`` (a struct of :mod:`signaling.http`, or a
    union of them), held to its field types, or ``request.invalid`` naming the field."""
    body = await json_object(request)
    try:
        return convert(body, kind, "", code=REQUEST_INVALID)
    except ProtocolError as exc:
        raise invalid(exc.message) from None


def read_query(request: web.Request, kind: type[S], *, strip: bool = False) -> S:
    """The query string as ``kind``: its integer fields in ASCII digits only, an empty
    value as none (with ``strip``, spaces at either end dropped first); or
    ``request.invalid`` naming the parameter."""
    ints = {f.encode_name for f in msgspec.structs.fields(kind) if _is_int(f.type)}
    values: dict[str, object] = {}
    for name, given in request.query.items():
        raw = given.strip() if strip else given
        if raw == "" or name in values:
            continue
        if name in ints:
            if not (raw.isascii() and raw.isdigit()):
                raise invalid(f"{name}: expected a non-negative integer")
            values[name] = int(raw)
        else:
            values[name] = raw
    try:
        return convert(values, kind, "", code=REQUEST_INVALID)
    except ProtocolError as exc:
        raise invalid(exc.message) from None


def _is_int(annotation: object) -> bool:
    info = mi.type_info(annotation)
    options = info.types if isinstance(info, mi.UnionType) else (info,)
    return any(isinstance(o, mi.IntType) for o in options)


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
            {"error": {"code": codes.SERVER_INTERNAL, "message": "internal error"}},
            status=http_status(codes.SERVER_INTERNAL),
        )


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or AuthError."""
    header = request.headers.get("Authorization")
    if header is None:
        raise AuthError(codes.AUTH_MISSING, "send an ESIA access token as 'Authorization: Bearer'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(codes.AUTH_MALFORMED, "the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def signed_in(request: web.Request) -> Admission:
    """The caller, admitted by their token (or, without an ``Authorization``
    header, by a browser's session cookie, writes only from our own pages);
    their request counts as one of the few a person may have in progress
    (``http.too_many_requests``)."""
    from .signin.web import SESSION_COOKIE, cookie_admission

    if "Authorization" not in request.headers and SESSION_COOKIE in request.cookies:
        admission = await cookie_admission(request)
    else:
        admission = await request.app[GATE].admit(bearer_token(request))
    request.app[PERSON_REQUESTS].take(request, admission.token.oid)
    return admission


async def caller(request: web.Request) -> int:
    """The signed-in caller's oid (:func:`signed_in`)."""
    return (await signed_in(request)).token.oid


def optional_key(request: web.Request) -> str | None:
    """The request's ``Idempotency-Key`` header, if it has one (at most ``MAX_KEY``)."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        raise invalid(f"Idempotency-Key: at most {MAX_KEY} characters")
    return key


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving."""
    return json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The process can do its work: the store answers.

    Redis away is said (``"bus": "unreachable"``) but is not unready: sends
    still commit and reach this node's own connections, and the other nodes'
    feeds catch up from the store, so a load balancer must not take every
    node out because their shared Redis restarts."""
    try:
        await request.app[STORE].ping()
    except StoreUnavailable as exc:
        return json_response({"status": "unavailable", "error": exc.to_json()}, status=503)
    bus = request.app[BUS]
    if isinstance(bus, RedisBus) and not bus.connected:
        return json_response({"status": "degraded", "bus": "unreachable"})
    return json_response({"status": "ok"})


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    """The caller's person, roles, classes and (for a parent) children."""
    admission = await signed_in(request)
    return json_response(admission.profile_json())
