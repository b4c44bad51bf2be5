"""The content filter (interim: replaced by the full module)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LOOKALIKE = str.maketrans(
    {"a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о", "p": "р",
     "t": "т", "x": "х", "y": "у", "u": "и", "n": "п", "r": "г", "0": "о", "3": "з", "4": "ч",
     "6": "б", "@": "а", "$": "с", "ё": "е", "й": "и"}
)
_ROOTS = re.compile(
    r"^(?:на|по|о|от|за|вы|до|у|при|про|раз|пере|съ|въ|отъ|разъ|подъ|изъ|объ)?"
    r"(?:ху[иеяю]|пизд|еб|бля|муда[кч]|мудил|пид[оа]?р|г[ао]ндон|залуп|шлюх|дроч)"
)
_LINK = re.compile(
    r"(?i)\b(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*\.(?:ru|рф|su|com|net|org|io|me|info)"
    r"\b(?:/\S*)?|\S+@\S+\.\w+)"
)


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    word: str


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word.casefold().translate(_LOOKALIKE))


class ContentFilter:
    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._extra = {_squeeze(w) for w in extra_words}

    def find(self, text: str) -> list[Match]:
        found: list[Match] = []
        for token in re.finditer(r"\S+(?:\s\S(?=\s|$))*", text):
            raw = token.group()
            letters = "".join(ch for ch in raw if ch.isalnum() or ch in "@$")
            word = _squeeze(letters)
            if _ROOTS.match(word) or word in self._extra:
                found.append(Match(token.start(), token.end(), word))
        return found

    def mask(self, text: str) -> str:
        out = list(text)
        for m in self.find(text):
            for i in range(m.start, m.end):
                if text[i].isalnum() or text[i] in "@$.":
                    out[i] = "*"
        return "".join(out)

    def blocks(self, text: str) -> bool:
        return bool(self.find(text))


def find_links(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _LINK.finditer(text)]


def has_link(text: str) -> bool:
    return bool(_LINK.search(text))
