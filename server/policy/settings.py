"""A school's safety settings: what its admins choose (docs/safety.md).

Stored as the JSON of the settings that differ from the defaults; read
back, validated and merged here.  A chat that spans several schools (a
direct chat) takes the strictest of its schools' settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from server.errors import ZvonokError
from server.errors.safety import SETTINGS_INVALID

from .filter import check_word
from .policy import DEFAULT_OVERSIGHT_AGE

FilterMode = Literal["block", "mask"]
LinkPolicy = Literal["allowed", "teachers_only"]

MAX_WORDS = 1000
MAX_WORD = 64
MAX_AGE = 18


@dataclass(frozen=True, slots=True)
class SchoolSettings:
    oversight_age: int = DEFAULT_OVERSIGHT_AGE
    filter: FilterMode = "block"
    links: LinkPolicy = "teachers_only"
    words: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "oversight_age": self.oversight_age,
            "filter": self.filter,
            "links": self.links,
            "words": list(self.words),
        }

    def changes(self) -> dict[str, Any]:
        """The settings that differ from the defaults (what is stored)."""
        default = SchoolSettings().to_json()
        return {k: v for k, v in self.to_json().items() if default[k] != v}


def _invalid(message: str) -> ZvonokError:
    return ZvonokError(SETTINGS_INVALID, message)


def parse_settings(
    data: Mapping[str, Any], base: SchoolSettings | None = None, *, change: bool = False
) -> SchoolSettings:
    """Settings from JSON: the keys given replace those of ``base``.

    Unknown keys and bad values raise ``settings.invalid``.  A ``change``
    (an admin's request) is also refused ``words`` the content filter
    cannot use (several words, ``*`` but at the end, one letter), naming
    the entry; stored settings are read as they are, so an entry stored
    before this check never stops a post (the filter skips it).
    """
    current = (base or SchoolSettings()).to_json()
    unknown = set(data) - set(current)
    if unknown:
        raise _invalid(f"unknown setting(s): {', '.join(sorted(map(str, unknown)))}")
    merged = {**current, **data}
    age = merged["oversight_age"]
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_AGE:
        raise _invalid(f"oversight_age: an integer from 0 to {MAX_AGE}")
    if merged["filter"] not in ("block", "mask"):
        raise _invalid("filter: 'block' or 'mask'")
    if merged["links"] not in ("allowed", "teachers_only"):
        raise _invalid("links: 'allowed' or 'teachers_only'")
    words = merged["words"]
    if not isinstance(words, list | tuple) or len(words) > MAX_WORDS:
        raise _invalid(f"words: a list of at most {MAX_WORDS} words")
    cleaned: list[str] = []
    for word in words:
        if not isinstance(word, str) or not 0 < len(word.strip()) <= MAX_WORD:
            raise _invalid(f"words: each a word of 1 to {MAX_WORD} characters")
        if change and "words" in data:
            try:
                check_word(word)
            except ValueError as exc:
                raise _invalid(f"words: {exc}") from exc
        cleaned.append(word.strip())
    return SchoolSettings(
        oversight_age=age,
        filter=merged["filter"],
        links=merged["links"],
        words=tuple(dict.fromkeys(cleaned)),
    )


def strictest(settings: Iterable[SchoolSettings]) -> SchoolSettings:
    """One set of settings for a chat of several schools: block over mask,
    teachers-only links over allowed, every school's words."""
    items = list(settings)
    if not items:
        return SchoolSettings()
    return SchoolSettings(
        oversight_age=max(s.oversight_age for s in items),
        filter="block" if any(s.filter == "block" for s in items) else "mask",
        links="teachers_only" if any(s.links == "teachers_only" for s in items) else "allowed",
        words=tuple(dict.fromkeys(w for s in items for w in s.words)),
    )
