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
MAX_CHAT_ID = 128  # characters of a chat id on the wire
MAX_POSITIONS = 10_000  # chats in one ``resume``, ``sync`` or ``synced`` map


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

    def opt_map(self, key: str) -> dict[str, Any] | None:
        return None if self._get(key, False) is None else self.map(key)

    def boolean(self, key: str) -> bool:
        return self._bool(key, self._get(key, True))

    def opt_boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        return default if value is None else self._bool(key, value)

    def int_list(
        self, key: str, *, max_items: int, lo: int = 0, hi: int = MAX_SAFE_INT
    ) -> list[int]:
        return self._int_list(key, self._get(key, True), max_items, lo, hi)

    def opt_int_list(
        self, key: str, *, max_items: int, lo: int = 0, hi: int = MAX_SAFE_INT
    ) -> list[int] | None:
        value = self._get(key, False)
        return None if value is None else self._int_list(key, value, max_items, lo, hi)

    def list_of_maps(self, key: str, max_items: int) -> list[dict[str, Any]]:
        """A list of at most ``max_items`` maps with string keys (their values unchecked)."""
        value = self._get(key, True)
        if not isinstance(value, list) or len(value) > max_items:
            raise self._fail(key, f"a list of at most {max_items} maps")
        for index, item in enumerate(value):
            if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
                raise self._fail(f"{key}[{index}]", "a map with string keys")
        return value

    def positions(self, key: str, *, max_items: int) -> dict[str, int]:
        """``{chat id: seq}``: at most ``max_items`` chat ids of 1 to
        :data:`MAX_CHAT_ID` characters, each to an integer from 0 to 2**53-1."""
        value = self._get(key, True)
        if not isinstance(value, dict) or len(value) > max_items:
            raise self._fail(key, f"a map of at most {max_items} chat ids to sequence numbers")
        for chat, seq in value.items():
            if not isinstance(chat, str) or not 1 <= len(chat) <= MAX_CHAT_ID:
                raise self._fail(key, f"chat ids of 1 to {MAX_CHAT_ID} characters as keys")
            if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SAFE_INT:
                raise self._fail(
                    f"{key}[{chat[:MAX_CHAT_ID]!r}]", f"an integer from 0 to {MAX_SAFE_INT}"
                )
        return value

    def opt_positions(self, key: str, *, max_items: int) -> dict[str, int] | None:
        return None if self._get(key, False) is None else self.positions(key, max_items=max_items)

    def _bool(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def _int_list(self, key: str, value: Any, max_items: int, lo: int, hi: int) -> list[int]:
        if not isinstance(value, list) or len(value) > max_items:
            raise self._fail(key, f"a list of at most {max_items} integers")
        for index, item in enumerate(value):
            self._int(f"{key}[{index}]", item, lo, hi)
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
