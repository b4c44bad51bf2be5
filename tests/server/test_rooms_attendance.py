"""The attendance CSV itself: quoting, formulas, open intervals (no server)."""

from __future__ import annotations

import csv
import io

from server.model.rooms import AttendanceRow, RoomRole
from server.rooms.attendance import HEADER, attendance_csv

T0 = 1_800_000_000.0


def test_names_are_quoted_and_never_run_as_formulas() -> None:
    rows = [
        AttendanceRow(1, 'Иванова "Мария", мл.', RoomRole.PARENT, T0, T0 + 61.9),
        AttendanceRow(2, '=HYPERLINK("x")', RoomRole.STAFF, T0, None),
        AttendanceRow(3, "-Пётр\nПетров", RoomRole.STUDENT, T0 + 5, T0 + 1),
    ]
    text = attendance_csv(rows, now=T0 + 30)
    assert text.endswith("\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(HEADER)
    assert parsed[1] == [
        "1",
        'Иванова "Мария", мл.',
        "parent",
        "2027-01-15T08:00:00Z",
        "2027-01-15T08:01:01Z",
        "61",
    ]
    assert parsed[2] == ["2", '\'=HYPERLINK("x")', "staff", "2027-01-15T08:00:00Z", "", "30"]
    assert parsed[3][1] == "'-Пётр\nПетров" and parsed[3][5] == "0"  # never negative
    assert text.encode("utf-8").decode("utf-8") == text


def test_an_empty_room_has_only_the_header() -> None:
    assert attendance_csv([], now=T0) == ",".join(HEADER) + "\r\n"
