"""Validation of untrusted message bodies.

:class:`Body` wraps the decoded msgpack map of one message and hands out
typed fields, raising :class:`~signaling.errors.ProtocolError` with the code
``message.invalid`` and a message naming the field (``hello.token: ...``).
Unknown keys are ignored so that older servers accept newer clients' extra
fields; missing or mistyped known fields are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import MESSAGE_INVALID, ProtocolError

MAX_SAFE_INT = 2**53 - 1  # the largest integer a JavaScript client holds exactly


class Body:
    """Typed access to the fields of one message body."""

    __slots__ = ("_data", "_name")

    def __init__(self, data: Mapping[str, Any], name: str) -> None:
        self._data = data
        self._name = name

    def _fail(self, key: str, expected: str) -> ProtocolError:
        return ProtocolError(MESSAGE_INVALID, f"{self._name}.{key}: expected {expected}")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self._data or self._data[key] is None:
            if required:
                raise ProtocolError(MESSAGE_INVALID, f"{self._name}.{key}: required")
            return None
        return self._data[key]

    def text(self, key: str, *, max_len: int, min_len: int = 1) -> str:
        return self._str(key, self._get(key, True), max_len, min_len)

    def opt_text(self, key: str, *, max_len: int, min_len: int = 1) -> str | None:
        value = self._get(key, False)
        return None if value is None else self._str(key, value, max_len, min_len)

    def integer(self, key: str, *, lo: int = 0, hi: int = MAX_SAFE_INT) -> int:
        return self._int(key, self._get(key, True), lo, hi)

    def opt_integer(self, key: str, *, lo: int = 0, hi: int = MAX_SAFE_INT) -> int | None:
        value = self._get(key, False)
        return None if value is None else self._int(key, value, lo, hi)

    def number(self, key: str, *, lo: float = 0.0, hi: float = 1e12) -> float:
        return self._float(key, self._get(key, True), lo, hi)

    def opt_number(self, key: str, *, lo: float = 0.0, hi: float = 1e12) -> float | None:
        value = self._get(key, False)
        return None if value is None else self._float(key, value, lo, hi)

    def map(self, key: str) -> dict[str, Any]:
        value = self._get(key, True)
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self._fail(key, "a map with string keys")
        return value

    def _str(self, key: str, value: Any, max_len: int, min_len: int) -> str:
        if not isinstance(value, str) or not min_len <= len(value) <= max_len:
            raise self._fail(key, f"a string of {min_len} to {max_len} characters")
        return value

    def _int(self, key: str, value: Any, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self._fail(key, f"an integer from {lo} to {hi}")
        return value

    def _float(self, key: str, value: Any, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        result = float(value)
        if not math.isfinite(result) or not lo <= result <= hi:
            raise self._fail(key, f"a number from {lo:g} to {hi:g}")
        return result
