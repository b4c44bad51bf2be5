"""Persistent storage behind one small interface, chosen by DSN at start-up.

``sqlite:///abs/path.db`` or ``sqlite:relative/path.db`` gives the embedded
:class:`~server.store.sqlite.SqliteStore`; an optional ``?synchronous=NORMAL``
relaxes its durability.  PostgreSQL will come as another implementation of
:class:`~server.store.base.Store`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from server.errors import ConfigError

from .base import Store
from .sqlite import SqliteStore

__all__ = ["SqliteStore", "Store", "create_store"]


def create_store(dsn: str) -> Store:
    """The store a DSN names, not yet opened (call ``await store.open()``).

    Raises :class:`ConfigError` for a scheme or option this server does not
    know, so a typo stops start-up instead of creating a stray database.
    """
    parts = urlsplit(dsn)
    if parts.scheme != "sqlite":
        scheme = parts.scheme or "(none)"
        raise ConfigError(f"unsupported store DSN scheme {scheme!r}: use sqlite:///path.db")
    if parts.netloc:
        raise ConfigError(
            f"invalid SQLite DSN {dsn!r}: use sqlite:///absolute/path.db or sqlite:relative/path.db"
        )
    path = unquote(parts.path)
    if not path or Path(path).name == ":memory:":
        # The store needs two connections to one database: a file.
        raise ConfigError(f"invalid SQLite DSN {dsn!r}: it needs a file path")
    options = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(options) - {"synchronous"})
    if unknown:
        raise ConfigError(f"unknown SQLite DSN option(s): {', '.join(unknown)}")
    synchronous = options.get("synchronous", ["FULL"])[-1]
    return SqliteStore(Path(path), synchronous=synchronous)
