"""The chat part of the HTTP API, for integrations and bots (docs/api.md).

The same :class:`~server.chats.service.ChatService` as the WebSocket serves
it, so the rules are the same: membership, the send rate, and idempotency
keys (``Idempotency-Key`` header) that make a retried send return the first
acknowledgement.
"""

from __future__ import annotations

from aiohttp import web

from server.http_api import caller, invalid, json_response, read_body, read_query
from server.model.chats import Ack
from signaling import http as bodies
from signaling.fields import MAX_KEY
from signaling.http import PostedAck

from .keys import CHATS

routes = web.RouteTableDef()


def ack_json(ack: Ack) -> PostedAck:
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
    query = read_query(request, bodies.HistoryQuery)
    events, more = await request.app[CHATS].history(
        oid,
        chat_id,
        before=query.before,
        after=query.after,
        limit=50 if query.limit is None else query.limit,
    )
    return json_response({"chat": chat_id, "events": [e.to_json() for e in events], "more": more})


@routes.post("/api/v1/chats/{chat}/messages")
async def send(request: web.Request) -> web.Response:
    """Post a message.  ``Idempotency-Key`` is required: the same key again
    returns the first acknowledgement (200 instead of 201) and stores nothing."""
    oid = await caller(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not 0 < len(key) <= MAX_KEY:
        raise invalid(f"send an Idempotency-Key header of 1 to {MAX_KEY} characters")
    body = await read_body(request, bodies.PostMessageBody)
    ack = await request.app[CHATS].send(
        oid, request.match_info["chat"], body.text, key=key, reply_to=body.reply_to
    )
    return json_response(ack_json(ack), status=200 if ack.duplicate else 201)


@routes.post("/api/v1/chats/{chat}/read")
async def mark_read(request: web.Request) -> web.Response:
    """Move the caller's read position forward to ``{"seq": n}``."""
    oid = await caller(request)
    chat_id = request.match_info["chat"]
    body = await read_body(request, bodies.MarkReadBody)
    read = await request.app[CHATS].mark_read(oid, chat_id, body.seq)
    return json_response({"chat": chat_id, "read_seq": read})
