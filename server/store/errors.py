"""Errors of the storage layer that are not a client's business.

A database that cannot be reached or fails is
:class:`server.errors.StoreUnavailable` (a client may retry).  A schema that
does not fit this server is a :class:`MigrationError`: retrying will not help,
an operator must act, so it stops start-up instead.
"""

from __future__ import annotations


class MigrationError(Exception):
    """The database schema and this server's migrations disagree.

    Raised by ``Store.open()`` when a migration file is malformed, when an
    applied migration was edited afterwards (its checksum changed), or when
    the database was migrated by a newer server.
    """


class IntegrityViolation(Exception):
    """The database refused a write for breaking a constraint (a key, a
    foreign key, a check).

    Each engine raises it from its driver's own error, at the edge of the
    transaction, so the code above the engines never names a driver.  The
    transaction was rolled back.  The store's checks come before its writes,
    so this means a conflict nobody foresaw (a roster file against stored
    rows) or a bug, never a refusal a client should see.
    """
