"""How log lines look: plain text, or one JSON object per line for log
collectors (``log_format = "json"``), each with the session or request it
belongs to.

The id lives in a context variable: a WebSocket connection sets
``session=<id>`` when it starts serving (its tasks inherit it), and the
HTTP middleware sets ``request=<id>`` for each request and returns it as
``X-Request-Id``. A line made outside both (start-up, a sweep) has none.
The lines hold what :mod:`server.logsafety` left of each record: tokens
are scrubbed when a record is made, whatever format prints it.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTEXT: ContextVar[tuple[str, str] | None] = ContextVar("zvonok_log_context", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


def in_session(session_id: str) -> None:
    """What is logged from here on in this task (and the tasks it starts) is the session's."""
    CONTEXT.set(("session", session_id))


class ContextFilter(logging.Filter):
    """Puts the session or request of the line on the record (``context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = CONTEXT.get()
        record.context_pair = context
        record.context = "" if context is None else f" [{context[0]} {context[1]}]"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, session or
    request, and an exception's (scrubbed) traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, "context_pair", None)
        if context is not None:
            line[context[0]] = context[1]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, log_format: str) -> None:
    """The process's one handler, on stderr, in ``log_format``."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each HTTP request's lines carry its id, and so does its response."""
    request_id = secrets.token_hex(6)
    CONTEXT.set(("request", request_id))
    response = await handler(request)
    response.headers["X-Request-Id"] = request_id
    return response
