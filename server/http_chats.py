"""The chat part of the HTTP API, for integrations and bots (docs/api.md).

The same :class:`~server.chats.service.ChatService` as the WebSocket serves
it, so the rules are the same: membership, the send rate, and idempotency
keys (``Idempotency-Key`` header) that make a retried send return the first
acknowledgement.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .appkeys import CHATS
from .chats.model import Ack
from .errors import ZvonokError
from .http_api import json_response, signed_in

routes = web.RouteTableDef()

REQUEST_INVALID = "request.invalid"
MAX_KEY = 128
MAX_SAFE_INT = 2**53 - 1


async def caller(request: web.Request) -> int:
    """The signed-in caller's oid (:func:`~server.http_api.signed_in`)."""
    return (await signed_in(request)).token.oid


def invalid(message: str) -> ZvonokError:
    return ZvonokError(REQUEST_INVALID, message)


def query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SAFE_INT:
        raise invalid(f"{name}: expected a non-negative integer")
    return int(raw)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise invalid("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


def int_field(body: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SAFE_INT:
        raise invalid(f"{name}: expected a non-negative integer")
    return value


def ack_json(ack: Ack) -> dict[str, Any]:
    return {
        "chat": ack.chat,
        "seq": ack.seq,
        "message_id": ack.message_id,
        "duplicate": ack.duplicate,
        "masked": ack.masked,
        "event": ack.event.to_json(),
    }


@routes.get("/api/v1/chats")
async def list_chats(request: web.Request) -> web.Response:
    """The caller's chats, most recently active first, with unread counts."""
    oid = await caller(request)
    chats = await request.app[CHATS].chats(oid)
    return json_response({"chats": [c.to_json() for c in chats]})


@routes.get("/api/v1/chats/{chat}")
async def get_chat(request: web.Request) -> web.Response:
    oid = await caller(request)
    summary = await request.app[CHATS].chat(oid, request.match_info["chat"])
    return json_response({"chat": summary.to_json()})


@routes.get("/api/v1/chats/{chat}/events")
async def history(request: web.Request) -> web.Response:
    """A page of the chat's events: ``?before=`` (older), ``?after=`` (newer), ``?limit=``."""
    oid = await caller(request)
    chat_id = request.match_info["chat"]
    limit = query_int(request, "limit")
    if limit == 0:
        raise invalid("limit: expected 1 or more")
    events, more = await request.app[CHATS].history(
        oid,
        chat_id,
        before=query_int(request, "before"),
        after=query_int(request, "after"),
        limit=50 if limit is None else limit,
    )
    return json_response({"chat": chat_id, "events": [e.to_json() for e in events], "more": more})


def optional_key(request: web.Request) -> str | None:
    """The request's ``Idempotency-Key`` header, if it has one (at most ``MAX_KEY``)."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        raise invalid(f"Idempotency-Key: at most {MAX_KEY} characters")
    return key


@routes.post("/api/v1/chats/{chat}/messages")
async def send(request: web.Request) -> web.Response:
    """Post a message.  ``Idempotency-Key`` is required: the same key again
    returns the first acknowledgement (200 instead of 201) and stores nothing."""
    oid = await caller(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not 0 < len(key) <= MAX_KEY:
        raise invalid(f"send an Idempotency-Key header of 1 to {MAX_KEY} characters")
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise invalid("text: required string")
    ack = await request.app[CHATS].send(
        oid,
        request.match_info["chat"],
        text,
        key=key,
        reply_to=int_field(body, "reply_to", required=False),
    )
    return json_response(ack_json(ack), status=200 if ack.duplicate else 201)


@routes.post("/api/v1/chats/{chat}/read")
async def mark_read(request: web.Request) -> web.Response:
    """Move the caller's read position forward to ``{"seq": n}``."""
    oid = await caller(request)
    chat_id = request.match_info["chat"]
    seq = int_field(await json_body(request), "seq", required=True) or 0
    read = await request.app[CHATS].mark_read(oid, chat_id, seq)
    return json_response({"chat": chat_id, "read_seq": read})
