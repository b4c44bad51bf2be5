"""No credential reaches a log: every record is scrubbed when it is made.

A token must never be logged (docs/auth.md), but our code is not the only
writer: aiohttp logs a malformed request with its exception, whose message
quotes the offending header (an oversized ``Authorization`` holds the
token's header and the start of its claims), and any exception's text may
quote what a client sent.  So instead of trusting each call site,
:func:`install` puts :class:`Redactor` in the record factory, which every
record of the process passes through when it is made, whatever logger or
handler it goes to: the message is formatted and scrubbed there, and an
exception's traceback is formatted, scrubbed and kept as text only (the
exception object, whose ``str`` may still hold the secret, is dropped from
the record).  :func:`install_on_handlers` adds the same filter to the
handlers ``zvonok`` installs, for records made before the factory or by
another one.

Scrubbing replaces with ``[redacted]``: JWT-shaped strings (``eyJ...``, the
start of every JSON object in base64url), the value after ``Bearer``, the
value of anything named like a credential (``Authorization:``,
``token=``, ``"secret": ...``), and long base64url runs that mix upper
case, lower case and digits, so a fragment cut from a token's middle goes
too.  Session ids (16 characters) and ``sha256:`` fingerprints (hex)
survive.

:class:`RequestLog` is aiohttp's server log for our runner: a client's
malformed request (``HttpProcessingError``: bad request line, header too
long, too many headers) is its fault, not ours, so it is one INFO line with
the error's class and status instead of an ERROR traceback quoting its
bytes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

REDACTED = "[redacted]"

_CREDENTIAL_NAME = (
    r"[\w-]*(?:authorization|cookie|token|secret|password|passwd|pwd|credential|api[_-]?key)"
)
_DONE = r"(?!\[redacted\])"  # so that scrubbing twice changes nothing
_VALUE = rf"""(?:(?:bearer|basic)\s+)?{_DONE}[^\s'",;&)}}\]]+"""
_SEPARATOR = r"""['"]?\s*[:=]\s*(?:b?['"])?"""
_NAMED = re.compile(rf"(?i)(?P<name>{_CREDENTIAL_NAME})(?P<sep>{_SEPARATOR}){_DONE}{_VALUE}")
_BEARER = re.compile(rf"(?i)\b(?P<scheme>bearer)\s+{_DONE}[^\s'\"]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)*")
_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])")
_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]"), re.compile("[a-z]"), re.compile("[0-9]")


def _run(match: re.Match[str]) -> str:
    run = match.group(0)
    if _UPPER.search(run) and _LOWER.search(run) and _DIGIT.search(run):
        return REDACTED
    return run


def redact(text: str) -> str:
    """``text`` with everything that may be (a piece of) a credential replaced."""
    text = _NAMED.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _RUN.sub(_run, text)


_formatter = logging.Formatter()


class Redactor(logging.Filter):
    """Scrubs a record in place; never drops one.  Applying it twice is harmless."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, as text
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info is not None:
            if not record.exc_text and record.exc_info[0] is not None:
                record.exc_text = _formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_REDACTOR = Redactor()


class _RedactingFactory:
    """The record factory with :class:`Redactor` after the one it wraps."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        _REDACTOR.filter(record)
        return record


def install() -> None:
    """Scrub every log record this process makes from now on.  Idempotent."""
    if not isinstance(logging.getLogRecordFactory(), _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(logging.getLogRecordFactory()))


def install_on_handlers(logger: logging.Logger | None = None) -> None:
    """Add :class:`Redactor` to the handlers of ``logger`` (the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if _REDACTOR not in handler.filters:
            handler.addFilter(_REDACTOR)


class RequestLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, with a client's malformed request as one INFO line."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            del kwargs["exc_info"]
            level = min(level, logging.INFO)
            msg = f"{msg}: %s (HTTP %d)"
            args = (*args, type(exc).__name__, exc.code)
        super().log(level, msg, *args, **kwargs)
