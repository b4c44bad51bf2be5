"""Characters that look like letters the content filter reads, folded to those letters.

The filter reads Russian and Latin letters and digits (the cp1251 code page). Everything
else that looks like one of them is folded to it first, one character for one character,
so that a match still points into the original text:

* Unicode's compatibility forms (NFKC): full-width ``ｘｕｉ``, mathematical ``𝔵𝐮𝐢``,
  circled, superscript letters;
* Unicode's confusables (``confusables.txt`` of UTS #39, as the maintained
  ``confusable-homoglyphs`` package ships it): Greek ``α ο ρ ι``, Cherokee, IPA, small
  capitals and the like, followed from look-alike to look-alike until a letter the
  filter reads is reached;
* accented Latin letters to their base letter (``ë`` -> ``e``, ``í`` -> ``i``);
* a few Greek letters that look like a Cyrillic one but that the confusables file
  pairs with no letter the filter reads (``χ`` -> ``х``, ``λ`` -> ``л``, ``π`` -> ``п``).

Characters of cp1251 are never changed here (the filter has its own rules for them), so a
Russian text is left as it is. Pure: the table is built once per process from the
packages' data.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import deque
from collections.abc import Iterable

from confusable_homoglyphs import confusables

__all__ = ["fold"]

_ENCODING = "cp1251"

# Blocks in which compatibility forms and look-alikes of letters live (besides the keys of
# the confusables data): Latin-1 to IPA, Greek, Cyrillic supplements, phonetic extensions,
# Latin Extended Additional, letterlike symbols, enclosed alphanumerics, full-width forms,
# mathematical alphanumerics.
_BLOCKS = (
    (0x00A0, 0x02AF),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2070, 0x209F),
    (0x2100, 0x214F),
    (0x2460, 0x24FF),
    (0xFF00, 0xFFEF),
    (0x1D400, 0x1D7FF),
    (0x1F130, 0x1F189),
)
# Greek letters that look like a Cyrillic letter the confusables data does not reach.
_GREEK = dict(zip("χΧλΛπΠγΓηκμτΤφΦψδ", "хХлЛпПгГпкмтТфФфд", strict=True))


def _readable(char: str) -> bool:
    """A letter or digit that the filter reads as it is."""
    if not char.isalnum():
        return False
    try:
        return len(char.encode(_ENCODING)) == 1
    except UnicodeEncodeError:
        return False


def _confusable_graph() -> dict[str, set[str]]:
    """Each character's look-alikes, both ways (the data lists one way only)."""
    graph: dict[str, set[str]] = {}
    for char, entry in confusables.confusables_data.items():
        for glyph in entry:
            other = glyph["c"]
            if len(char) == 1 and len(other) == 1:
                graph.setdefault(char, set()).add(other)
                graph.setdefault(other, set()).add(char)
    return graph


def _nearest(char: str, graph: dict[str, set[str]]) -> str | None:
    """The closest look-alike of ``char`` that the filter reads (a letter before a digit)."""
    seen = {char}
    queue = deque([(char, 0)])
    found: list[tuple[int, bool, str]] = []
    while queue:
        current, depth = queue.popleft()
        if found and depth > found[0][0]:
            break
        for other in sorted(graph.get(current, ())):
            if other in seen:
                continue
            seen.add(other)
            if _readable(other):
                found.append((depth, other.isdigit(), other))
            elif depth < 3:
                queue.append((other, depth + 1))
    return min(found)[2] if found else None


def _target(char: str, graph: dict[str, set[str]]) -> str | None:
    if char in _GREEK:
        return _GREEK[char]
    compatible = unicodedata.normalize("NFKC", char)
    if len(compatible) == 1 and _readable(compatible):
        return compatible
    nearest = _nearest(char, graph)
    if nearest is not None:
        return nearest
    base = unicodedata.normalize("NFKD", char)[:1]
    return base if base.isascii() and base.isalpha() else None


def _candidates(graph: dict[str, set[str]]) -> Iterable[str]:
    for low, high in _BLOCKS:
        yield from map(chr, range(low, high + 1))
    yield from graph


@functools.cache
def _table() -> dict[int, str]:
    graph = _confusable_graph()
    table: dict[int, str] = {}
    for char in _candidates(graph):
        if len(char) != 1 or ord(char) in table:
            continue
        try:
            char.encode(_ENCODING)
            continue  # the filter reads it already
        except UnicodeEncodeError:
            pass
        target = _target(char, graph)
        if target is not None:
            table[ord(char)] = target
    return table


def fold(text: str) -> str:
    """``text`` with each look-alike of a letter or digit replaced by it; same length."""
    return text.translate(_table())
