"""Persistent storage behind one small interface, chosen by DSN at start-up.

``sqlite:///abs/path.db`` or ``sqlite:relative/path.db`` gives the embedded
:class:`~server.store.sqlite.SqliteStore`; an optional ``?synchronous=NORMAL``
relaxes its durability.  ``postgresql://user@host:port/database`` gives
:class:`~server.store.postgres.PostgresStore`, the store several nodes
share; its password comes from the environment or a file, never from the
DSN (:func:`server.store.postgres.parse_dsn`).  Both are the one
:class:`~server.store.sqlstore.SqlStore` over an engine.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from server.errors import ConfigError

from .base import Store
from .postgres import PostgresStore, parse_dsn
from .sqlite import SqliteStore
from .sqlstore import SqlStore

__all__ = ["PostgresStore", "SqlStore", "SqliteStore", "Store", "create_store"]


def create_store(dsn: str) -> SqlStore:
    """The store a DSN names, not yet opened (call ``await store.open()``).

    Raises :class:`ConfigError` for a scheme or option this server does not
    know, so a typo stops start-up instead of creating a stray database.
    """
    parts = urlsplit(dsn)
    if parts.scheme in ("postgresql", "postgres"):
        return PostgresStore(parse_dsn(dsn))
    if parts.scheme != "sqlite":
        scheme = parts.scheme or "(none)"
        raise ConfigError(
            f"unsupported store DSN scheme {scheme!r}: "
            "use sqlite:///path.db or postgresql://user@host/database"
        )
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
