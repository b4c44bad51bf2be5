"""What the dictionary run may find: listed obscene lemmas and known false positives.

Read by ``bench/filter_vocabulary.py`` and ``tests/safety/test_filter_vocabulary.py``
from ``tests/safety/vocabulary.txt`` (its format is at its top).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LISTING = Path(__file__).with_name("vocabulary.txt")


@dataclass(frozen=True)
class Vocabulary:
    obscene: frozenset[str]  # lemmas (or forms) that are мат: blocking them is right
    false: dict[str, str]  # lemmas (or forms) blocked although clean, with why
    clean: dict[str, str]  # forms that must pass although an obscene lemma has them too

    def kind(self, word: str, lemmas: Iterable[str]) -> str | None:
        """``"obscene"``, ``"shared"`` (a form of an obscene and of a clean lemma),
        ``"false"`` or None (unlisted) for a blocked form."""
        names = {word.replace("ё", "е"), *(lemma.replace("ё", "е") for lemma in lemmas)}
        if names & self.obscene:
            return "shared" if names & self.false.keys() else "obscene"
        if names & self.false.keys():
            return "false"
        return None


def load_vocabulary(path: Path = LISTING) -> Vocabulary:
    obscene: set[str] = set()
    false: dict[str, str] = {}
    clean: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        kind, _, rest = text.partition(" ")
        words, _, why = rest.partition(":")
        if kind == "obscene":
            obscene.update(word.replace("ё", "е") for word in words.split())
        elif kind in ("false", "pass") and why.strip():
            table = false if kind == "false" else clean
            table.update((word.replace("ё", "е"), why.strip()) for word in words.split())
        else:
            raise ValueError(f"{path.name}:{number}: 'obscene WORD...' or '{kind} WORD...: why'")
    return Vocabulary(frozenset(obscene), false, clean)
