"""A room's attendance as CSV, for the host to download (``attendance.csv``).

One row per interval a person was present (a person who dropped out and
came back has two), in the order they came.  Columns::

    person_oid,full_name,role,joined_at,left_at,seconds

Times are ISO 8601 in UTC (``2027-01-15T08:00:00Z``); ``left_at`` is empty
for someone still present, whose ``seconds`` count up to now.  The text is
UTF-8 (names are Cyrillic), quoted by the :mod:`csv` module where needed,
and a cell that a spreadsheet would take for a formula (``=``, ``+``, ``-``,
``@``) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from server.model.rooms import AttendanceRow, iso_utc

HEADER = ("person_oid", "full_name", "role", "joined_at", "left_at", "seconds")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """Keep a spreadsheet from running a name as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def attendance_csv(rows: Sequence[AttendanceRow], now: float) -> str:
    """The CSV text of ``rows`` (header first), as of ``now``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.person,
                _text(row.full_name),
                row.role.value,
                iso_utc(row.joined_at),
                "" if row.left_at is None else iso_utc(row.left_at),
                row.seconds(now),
            )
        )
    return out.getvalue()
