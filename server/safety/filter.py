"""The content filter of chats with minors: obscene Russian words and links.

Pure: no I/O (apart from reading the bundled word list once per process), no clock, no
asyncio. The chat service decides which chats are filtered and what happens to a message
that matches (``docs/content-filter.md``); this module only finds the words and links.

How words are found. The text is brought to a *normalized* form of the same length, one
byte per character in cp1251 (which holds every Russian letter), so that an index in it is
an index in the original text:

* lower case, ``ё`` -> ``е``, ``й`` -> ``и``; whitespace becomes a space or a line break,
  every other character that is not a letter, a digit, ``@`` or ``$`` becomes ``.``;
* Latin look-alikes and digits become Cyrillic letters (``x`` -> ``х``, ``3`` -> ``з``,
  ``@`` -> ``а``). A word written wholly in Latin letters is also transliterated
  (``blyat`` -> ``блят``) and both forms are checked.

A *piece* is a run of letters and digits. Each piece is checked after collapsing runs of
a repeated letter (``хууууй`` -> ``хуи``). Pieces separated by one to three punctuation
characters (``пиз.да``), or single letters separated by spaces (``х у й``), are also
joined and checked together. A match always covers whole pieces, so masking never leaves
half a word, and its span is the span of those pieces in the original text.

The built-in list lives in ``data/obscene_ru.txt`` (its format is described at its top).
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["ContentFilter", "Match", "check_word", "find_links", "has_link"]

WORD_LIST = "obscene_ru.txt"

# A single-byte code page that holds all Russian letters: index i of the encoded text is
# character i of the text, and bytes regular expressions are fast on it.
_ENCODING = "cp1251"
_SEP = frozenset(b" .\n")  # after normalization, every byte that is not in a piece
_MAX_JOINED_PIECES = 12  # х.у.й: how many pieces may be joined into one word
_MAX_JOINED_LENGTH = 24  # and how long the joined word may get
_MIN_JOINED_LENGTH = 3  # "Е.Б." (initials) is not joined into a word
_CACHE_LIMIT = 50_000  # words remembered per cache; the cache is emptied when full


def _cp(text: str) -> bytes:
    return text.encode(_ENCODING)


def _lower_table() -> bytes:
    """Letters, digits, ``@``, ``$`` to lower case; whitespace to `` ``/``\\n``; rest to ``.``."""
    table = bytearray(range(256))
    for code in range(256):
        try:
            char = bytes([code]).decode(_ENCODING)
        except UnicodeDecodeError:
            table[code] = ord(".")
            continue
        if char in "\n\r\x0b\x0c":
            table[code] = ord("\n")
        elif char.isspace():
            table[code] = ord(" ")
        elif char.isalnum() or char in "@$":
            folded = char.lower().replace("ё", "е").replace("й", "и")
            encoded = folded.encode(_ENCODING, "replace")
            if len(encoded) == 1 and encoded != b"?":
                table[code] = encoded[0]
        else:
            table[code] = ord(".")
    return bytes(table)


# Latin letters that look like Cyrillic ones, digits and signs, other Cyrillic alphabets.
_LOOKALIKES = dict(zip("abcehkmoptxyunr0346@$іїєўѕ", "авсенкмортхуипгозчбасииеус", strict=True))


def _lookalike_table() -> bytes:
    table = bytearray(range(256))
    for source, target in _LOOKALIKES.items():
        table[_cp(source)[0]] = _cp(target)[0]
    return bytes(table)


_LOWER = _lower_table()
_LOOKALIKE = _lookalike_table()
_LATIN_LETTERS = bytes(range(ord("a"), ord("z") + 1))
_NOT_LATIN_LETTERS = bytes(code for code in range(256) if code not in _LATIN_LETTERS)
_REPEAT = re.compile(rb"(.)\1+", re.DOTALL)
_LATIN_PIECE = re.compile(rb"[0-9@$]*[a-z][a-z0-9@$]*")
_PUNCT_GAP = re.compile(rb"\.{1,3}([^ .\n]+)")  # 1-3 punctuation characters and a piece
# One-letter pieces one to three separators apart (in b" " + text + b" ", all separators b" ").
_SINGLES = re.compile(rb" [^ ](?: {1,3}[^ ](?= ))+")
_SPACE = ord(" ")
_SPACED = bytes(ord(" ") if code in _SEP else code for code in range(256))  # one separator

# Transliteration of words written in Latin letters (after lower-casing).
_TRANSLIT = {
    **dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхииклмнопкрстуввхиз", strict=True)),
    **dict(zip("0346@$", "озчбас", strict=True)),
    **{"shch": "щ", "sch": "щ", "sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц"},
    **{"ya": "я", "yu": "ю", "yo": "е", "ye": "е"},  # j is too often English: jobless
}
_TRANSLIT_BYTES = {_cp(source): _cp(target) for source, target in _TRANSLIT.items()}
_TRANSLIT_TOKEN = re.compile(rb"shch|sch|[sczk]h|ts|y[aeou]|.", re.DOTALL)
_CONSONANTS = frozenset(_cp("бвгджзклмнпрстфхцчшщ"))
_HARD_SIGN = _cp("ъ")
_SHORT_I = _cp("и")  # й, normalized
_YE = _cp("е")


def _normalize(text: str) -> tuple[bytes, bytes]:
    """The text lower-cased (``low``) and with look-alikes folded (``skel``), same length."""
    raw = text.encode(_ENCODING, "replace")
    if len(raw) != len(text):  # a single-byte code page gives one byte a character
        raw = b"".join(char.encode(_ENCODING, "replace")[:1] or b"?" for char in text)
    low = raw.translate(_LOWER)
    return low, low.translate(_LOOKALIKE)


def _collapse(word: bytes) -> bytes:
    """Each run of a repeated letter written once: хууууй -> хуи."""
    return _REPEAT.sub(rb"\1", word)


def _transliterate(latin: bytes) -> bytes:
    """A lower-case Latin word in Cyrillic: blyat -> блят, otyebis -> отъебис."""
    out = bytearray()
    for token in _TRANSLIT_TOKEN.findall(latin):
        if token in (b"ye", b"yo") and out:
            if out[-1] in _CONSONANTS:  # podyob -> подъеб
                out += _HARD_SIGN
            elif out[-1] == _YE[0]:  # eyeball -> еиебал, not ееба(л)
                out += _SHORT_I
        out += _TRANSLIT_BYTES.get(token, token)
    return bytes(out)


def _is_latin(low: bytes) -> bool:
    return _LATIN_PIECE.fullmatch(low) is not None


# The word list --------------------------------------------------------------------------

_VOWELS = frozenset("аеиоуыэюя")
_PATTERN = re.compile(r"[а-яъь\[\]()|?*.$]+")
_DOUBLED = re.compile(r"([а-я])\1")
_OPTIONS = {
    "prefixes": ("any", "required"),
    "translit": ("no", "only"),
    "hard": None,
    "anywhere": None,
}

_Info = tuple[bytes, bool]  # (the collapsed word, whether the built-in list matches it)


class WordListError(ValueError):
    """The word list file is malformed."""


class _WordList:
    """The compiled built-in list, and what it said about the pieces seen so far."""

    __slots__ = ("_allow", "_plain", "_translit", "_translit_seen", "anywhere", "listed", "words")

    def __init__(
        self,
        plain: re.Pattern[bytes],
        translit: re.Pattern[bytes],
        allow: re.Pattern[bytes],
        anywhere: re.Pattern[bytes],
    ) -> None:
        self._plain = plain
        self._translit = translit
        self._allow = allow
        # Found (searched) in every word that the plain list matches, and in longer words
        # around it: a quick test that joining pieces cannot give a listed word.
        self.anywhere = anywhere
        self.words: dict[bytes, bytes] = {}  # piece (normalized) -> its collapsed word
        self.listed: dict[bytes, bytes] = {}  # the same, for the pieces the list matches
        self._translit_seen: dict[bytes, _Info] = {}

    def _matches(self, pattern: re.Pattern[bytes], word: bytes) -> bool:
        return pattern.match(word) is not None and self._allow.fullmatch(word) is None

    def learn(self, pieces: set[bytes]) -> None:
        """Check the pieces not seen yet: then ``words`` has every piece."""
        new = pieces.difference(self.words)
        if len(self.words) + len(new) > _CACHE_LIMIT:
            self.words.clear()
            self.listed.clear()
            new = pieces
        for raw in new:
            word = _collapse(raw)
            self.words[raw] = word
            if self._matches(self._plain, word):
                self.listed[raw] = word

    def plain(self, raw: bytes) -> _Info:
        """A normalized piece (or joined pieces): its collapsed form, and if it is listed."""
        word = self.words.get(raw)
        if word is None:
            self.learn({raw})
            word = self.words[raw]
        return word, raw in self.listed

    def translit(self, latin: bytes) -> _Info:
        """A lower-case Latin word: its transliteration, collapsed, and if it is listed."""
        info = self._translit_seen.get(latin)
        if info is None:
            word = _collapse(_transliterate(latin))
            info = (word, self._matches(self._translit, word))
            if len(self._translit_seen) >= _CACHE_LIMIT:
                self._translit_seen.clear()
            self._translit_seen[latin] = info
        return info


def _compile(sources: list[str]) -> re.Pattern[bytes]:
    if not sources:
        return re.compile(rb"(?!)")
    return re.compile(_cp("|".join(f"(?:{source})" for source in sources)), re.DOTALL)


def _parse_options(fields: list[str], where: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for field in fields:
        name, _, value = field.partition("=")
        if name not in _OPTIONS or name in options:
            raise WordListError(f"{where}: unknown or repeated option {field!r}")
        allowed = _OPTIONS[name]
        if (allowed is None and value) or (allowed is not None and value not in allowed):
            raise WordListError(f"{where}: bad value in {field!r}")
        options[name] = value
    if "anywhere" in options and "prefixes" in options:
        raise WordListError(f"{where}: 'anywhere' and 'prefixes' exclude each other")
    if "hard" in options and "prefixes" not in options:
        raise WordListError(f"{where}: 'hard' needs 'prefixes'")
    return options


def _check_pattern(pattern: str, where: str) -> None:
    if _PATTERN.fullmatch(pattern) is None or "й" in pattern:
        raise WordListError(f"{where}: {pattern!r}: use lower-case Russian letters (и for й)")
    if _DOUBLED.search(pattern):
        raise WordListError(f"{where}: {pattern!r}: write a repeated letter once")
    try:
        re.compile(pattern)
    except re.error as error:
        raise WordListError(f"{where}: {pattern!r}: {error}") from None


def _prefix_part(prefixes: list[str], options: dict[str, str]) -> str:
    if "anywhere" in options:
        return ".*?"
    mode = options.get("prefixes")
    if mode is None:
        return ""
    if "hard" in options:  # a prefix ending in a consonant needs ъ or ь: съеб, not себе
        prefixes = [p if p[-1] in _VOWELS else p + "[ъь]" for p in prefixes]
    any_prefix = "(?:" + "|".join(sorted(prefixes, key=len, reverse=True)) + ")"
    return any_prefix + ("?" if mode == "any" else "")


def parse_word_list(text: str, name: str = WORD_LIST) -> _WordList:
    """Compile a word list in the format described at the top of ``data/obscene_ru.txt``."""
    prefixes: list[str] = []
    rules: list[tuple[str, str, dict[str, str], str]] = []
    allowed: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{name}:{number}"
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        kind, rest = fields[0], fields[1:]
        if kind == "prefix":
            for prefix in rest:
                if re.fullmatch(r"[а-яъь]+", prefix) is None or "й" in prefix:
                    raise WordListError(f"{where}: bad prefix {prefix!r}")
            prefixes.extend(rest)
        elif kind in ("root", "word", "allow"):
            if not rest:
                raise WordListError(f"{where}: {kind} without a pattern")
            _check_pattern(rest[0], where)
            if kind == "allow":
                if len(rest) > 1:
                    raise WordListError(f"{where}: allow takes no options")
                allowed.append(rest[0])
            else:
                rules.append((kind, rest[0], _parse_options(rest[1:], where), where))
        else:
            raise WordListError(f"{where}: unknown kind {kind!r}")
    plain: list[str] = []
    translit: list[str] = []
    bodies: list[str] = []
    for kind, pattern, options, where in rules:
        if options.get("prefixes") and not prefixes:
            raise WordListError(f"{where}: prefixes used, but the list has none")
        body = pattern.replace("$", r"\Z")
        source = f"{_prefix_part(prefixes, options)}(?:{body})"
        if kind == "word":
            source += r"\Z"
        mode = options.get("translit")
        if mode != "only":
            plain.append(source)
            bodies.append(pattern.replace("$", ""))
        if mode != "no":
            translit.append(source)
    allow = _compile(allowed)
    return _WordList(_compile(plain), _compile(translit), allow, _compile(bodies))


@functools.cache
def _word_list() -> _WordList:
    """The built-in list, read and compiled once per process."""
    resource = importlib.resources.files(__package__ or "server.safety") / "data" / WORD_LIST
    return parse_word_list(resource.read_text(encoding="utf-8"))


# Finding words --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """A filtered word in a text."""

    start: int  # index in the original text
    end: int  # exclusive, in the original text
    word: str  # the normalized form that matched (for logs and tests; never shown to users)


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    skel: bytes  # normalized, look-alikes folded
    low: bytes | None  # lower case, if the piece is wholly Latin (to be transliterated)
    spaced: bool  # whether whitespace separates it from the piece before (х у й)


def _pieces(low: bytes, skel: bytes, cluster: list[tuple[int, int]]) -> list[_Piece]:
    pieces: list[_Piece] = []
    before = cluster[0][0]
    for start, end in cluster:
        latin = low[start:end]
        spaced = bool(skel[before:start].translate(None, b"."))  # not only punctuation
        piece = _Piece(start, end, skel[start:end], latin if _is_latin(latin) else None, spaced)
        pieces.append(piece)
        before = end
    return pieces


def _occurrences(skel: bytes, piece: bytes) -> Iterator[int]:
    """Where ``piece`` stands in ``skel`` as a whole piece."""
    size = len(piece)
    position = skel.find(piece)
    while position >= 0:
        end = position + size
        if (position == 0 or skel[position - 1] in _SEP) and (
            end == len(skel) or skel[end] in _SEP
        ):
            yield position
        position = skel.find(piece, position + 1)


def _is_initial(text: str, left: tuple[int, int], right: tuple[int, int]) -> bool:
    """``Б.Лаптева``: a capital letter and a dot before a capitalized word are an initial."""
    return (
        left[1] - left[0] == 1
        and text[left[0]].isupper()
        and right[1] - right[0] >= 2
        and text[right[0]].isupper()
        and not text[right[0] : right[1]].isupper()
    )


def _clusters(text: str, skel: bytes) -> list[list[tuple[int, int]]]:
    """Runs of pieces that may be one disguised word: ``пиз.да``, ``х у й``."""
    spaced = skel.translate(_SPACED)
    links: set[tuple[int, int, int, int]] = set()
    for gap in _PUNCT_GAP.finditer(skel):
        gap_start, right_start = gap.start(), gap.start(1)
        if gap_start == 0 or skel[gap_start - 1] in _SEP:
            continue  # no piece right before, or more than three characters between
        left = (spaced.rfind(b" ", 0, gap_start) + 1, gap_start)
        right = (right_start, gap.end())
        if not _is_initial(text, left, right):
            links.add((*left, *right))
    for run in _SINGLES.finditer(b" " + spaced + b" "):
        # where the run's letters stand in skel (the b" " in front shifts them by one)
        places = [run.start() + at - 1 for at, char in enumerate(run[0]) if char != _SPACE]
        for a, b in itertools.pairwise(places):
            if b"\n" not in skel[a + 1 : b]:
                links.add((a, a + 1, b, b + 1))
    clusters: list[list[tuple[int, int]]] = []
    for left_start, left_end, right_start, right_end in sorted(links):
        if clusters and clusters[-1][-1] == (left_start, left_end):
            clusters[-1].append((right_start, right_end))
        else:
            clusters.append([(left_start, left_end), (right_start, right_end)])
    return clusters


def _extra_forms(entry: str) -> tuple[set[bytes], bool]:
    """A school's word: its normalized forms, and whether it is a stem (``дурак*``)."""
    word = entry.strip()
    stem = word.endswith("*")
    if stem:
        word = word[:-1]
    if not word or "*" in word or any(char.isspace() for char in word):
        raise ValueError(f"{entry!r}: one word, with '*' only at its end")
    try:
        raw = word.encode(_ENCODING)
    except UnicodeEncodeError:
        raise ValueError(f"{entry!r}: only Russian and Latin letters, digits and signs") from None
    low = raw.translate(_LOWER).replace(b".", b"")  # ё-моё -> емое
    forms = {_collapse(low.translate(_LOOKALIKE))}
    if _is_latin(low):
        forms.add(_collapse(_transliterate(low)))
    if any(len(form) < 2 for form in forms):
        raise ValueError(f"{entry!r}: at least two letters")
    return forms, stem


def check_word(entry: str) -> None:
    """Raise ``ValueError`` (with the reason) if ``entry`` cannot be a school's filter word.

    :class:`ContentFilter` skips such entries; a settings form can refuse them instead.
    """
    _extra_forms(entry)


class ContentFilter:
    """Finds and masks obscene words: the built-in list and a school's extra words.

    ``extra_words`` are plain words, normalized like the text (case, look-alikes,
    repeated letters) and matched as whole words; an entry ending in ``*`` is a stem and
    also matches longer words (``дурак*`` matches ``дураки``). An entry that cannot be
    used (see :func:`check_word`: several words, ``*`` inside, one letter, emoji) is
    skipped, so a stored setting never breaks posting.
    """

    __slots__ = ("_exact", "_extra_anywhere", "_list", "_stems")

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._list = _word_list()
        exact: set[bytes] = set()
        stems: set[bytes] = set()
        for entry in extra_words:
            try:
                forms, stem = _extra_forms(entry)
            except ValueError:
                continue
            (stems if stem else exact).update(forms)
        self._exact = frozenset(exact)
        self._stems = tuple(sorted(stems))
        every = sorted(exact | stems, key=len, reverse=True)
        self._extra_anywhere = re.compile(b"|".join(map(re.escape, every))) if every else None

    def find(self, text: str) -> list[Match]:
        """The filtered words of ``text``: non-overlapping, ordered by start."""
        if not text:
            return []
        low, skel = _normalize(text)
        found: dict[int, tuple[int, bytes]] = {}  # start -> (end, normalized word)
        # Each piece on its own: one check per distinct piece of the text.
        distinct = set(skel.replace(b".", b" ").split())
        self._list.learn(distinct)
        listed = self._list.listed
        dirty = {piece: listed[piece] for piece in distinct & listed.keys()}
        if self._exact or self._stems:
            words = self._list.words
            for piece in distinct:
                if piece not in dirty and self._extra(words[piece]):
                    dirty[piece] = words[piece]
        for piece, word in dirty.items():
            for start in _occurrences(skel, piece):
                found[start] = (start + len(piece), word)
        # Pieces in Latin letters, transliterated: blyat, pizda.
        if low.translate(None, _NOT_LATIN_LETTERS):
            for latin in _LATIN_PIECE.finditer(low):
                start, end = latin.span()
                if start in found or (start > 0 and low[start - 1] not in _SEP):
                    continue
                if end < len(low) and low[end] not in _SEP:
                    continue
                latin_word = self._latin_word(latin.group())
                if latin_word is not None:
                    found[start] = (end, latin_word)
        # Pieces joined over punctuation or spelled out: пиз.да, х.у.й, х у й.
        for cluster in _clusters(text, skel):
            if not self._may_join(cluster, low, skel):
                continue
            for start, end, joined in self._scan(_pieces(low, skel, cluster)):
                found[start] = (end, joined)
        return [
            Match(start, end, word.decode(_ENCODING))
            for start, (end, word) in sorted(found.items())
        ]

    def mask(self, text: str) -> str:
        """``text`` with each filtered word replaced by as many ``*``: the length is kept."""
        parts: list[str] = []
        position = 0
        for match in self.find(text):
            parts.append(text[position : match.start])
            parts.append("*" * (match.end - match.start))
            position = match.end
        parts.append(text[position:])
        return "".join(parts)

    def blocks(self, text: str) -> bool:
        """Whether ``text`` has a filtered word."""
        return bool(self.find(text))

    # --- checks -----------------------------------------------------------------------

    def _extra(self, word: bytes) -> bool:
        return word in self._exact or (bool(self._stems) and word.startswith(self._stems))

    def _word(self, skel: bytes) -> bytes | None:
        word, listed = self._list.plain(skel)
        return word if listed or self._extra(word) else None

    def _latin_word(self, low: bytes) -> bytes | None:
        word, listed = self._list.translit(low)
        return word if listed or self._extra(word) else None

    def _piece_word(self, piece: _Piece) -> bytes | None:
        word = self._word(piece.skel)
        if word is None and piece.low is not None:
            word = self._latin_word(piece.low)
        return word

    def _joined_word(self, pieces: list[_Piece]) -> bytes | None:
        word, listed = self._list.plain(b"".join(piece.skel for piece in pieces))
        if len(word) >= _MIN_JOINED_LENGTH and (listed or self._extra(word)):
            return word
        if all(piece.low is not None for piece in pieces):
            latin = b"".join(piece.low or b"" for piece in pieces)
            word, listed = self._list.translit(latin)
            if len(word) >= _MIN_JOINED_LENGTH and (listed or self._extra(word)):
                return word
        return None

    def _may_join(self, cluster: list[tuple[int, int]], low: bytes, skel: bytes) -> bool:
        """False if no run of the cluster's pieces can be a filtered word (a quick test).

        A run's normalized word is a part of the whole cluster's, so if no listed root
        (nor a school's word) stands anywhere in the whole, no run matches.
        """
        joined = b"".join([skel[start:end] for start, end in cluster])
        if len(joined) < _MIN_JOINED_LENGTH:
            return False
        if low[cluster[0][0] : cluster[-1][1]].translate(None, _NOT_LATIN_LETTERS):
            return True  # transliteration does not keep parts; scan it
        whole = _collapse(joined)
        if self._list.anywhere.search(whole) is not None:
            return True
        return self._extra_anywhere is not None and self._extra_anywhere.search(whole) is not None

    def _scan(self, pieces: list[_Piece]) -> list[tuple[int, int, bytes]]:
        """The filtered words of a cluster: pieces alone, and joined runs of pieces.

        A piece that matches alone is never joined with others. From each piece the
        shortest matching run is taken, then grown over following one-letter pieces
        (``п.и.з.д.е.ц``); a run is left to a later start that ends no later (so "ну,пиз.да"
        masks "пиз.да" only). Taking the shortest runs makes masking final: nothing in a
        masked text is found again.
        """
        count = len(pieces)
        alone = [self._piece_word(piece) for piece in pieces]
        shortest: dict[int, tuple[int, bytes] | None] = {}

        def run_from(first: int) -> tuple[int, bytes] | None:
            if first not in shortest:
                shortest[first] = None
                size = len(pieces[first].skel)
                for last in range(first + 1, min(count, first + _MAX_JOINED_PIECES)):
                    size += len(pieces[last].skel)
                    if alone[last] is not None or size > _MAX_JOINED_LENGTH:
                        break
                    word = self._joined_word(pieces[first : last + 1])
                    if word is not None:
                        shortest[first] = (last, word)
                        break
            return shortest[first]

        found: list[tuple[int, int, bytes]] = []
        first = 0
        while first < count:
            single = alone[first]
            if single is not None:
                found.append((pieces[first].start, pieces[first].end, single))
                first += 1
                continue
            run = run_from(first)
            if run is None:
                first += 1
                continue
            last, word = run
            later = run_from(first + 1)
            if later is not None and later[0] <= last:
                first += 1
                continue
            spelled = all(len(piece.skel) == 1 for piece in pieces[first : last + 1])
            while (
                last + 1 < count
                and last + 1 - first < _MAX_JOINED_PIECES
                and alone[last + 1] is None
                and len(pieces[last + 1].skel) == 1
                and (spelled or not pieces[last + 1].spaced)  # not "ху.й, а"
            ):
                longer = self._joined_word(pieces[first : last + 2])
                if longer is None:
                    break
                last, word = last + 1, longer
            found.append((pieces[first].start, pieces[last].end, word))
            first = last + 1
        return found


# Links ----------------------------------------------------------------------------------

# Common top-level domains (a link needs ``(?![\w-])`` after one, so their order is free).
_TLD = (
    "(?:ru|рф|рус|su|com|net|org|io|me|info|biz|xyz|online|site|club|ly|gg|tv|cc|co|ua|by|kz"
    "|uk|de|app|dev|link|top|pro|tk)"
)
_LABEL = r"[0-9a-zа-яё](?:[0-9a-zа-яё-]{0,61}[0-9a-zа-яё])?"
_TAIL = r"(?::[0-9]{1,5})?(?:[/?#][^\s]*)?"
_LINK = re.compile(
    rf"""
      \bhttps?://[^\s]+
    | (?<![\w.+-])[\w.+-]+@(?:{_LABEL}\.)+[a-zа-яё]{{2,}}(?![\w-])  # e-mail addresses
    | (?<![\w@.-])www\.(?:{_LABEL}\.)*{_LABEL}{_TAIL}
    | (?<![\w@.-])(?:{_LABEL}\.)+(?P<tld>{_TLD})(?![\w-]){_TAIL}
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Every link has one of these; most messages have none, and this search is quick.
_LINK_HINT = re.compile(rf"://|www\.|@|\.{_TLD}(?![\w-])", re.IGNORECASE)
_TRAILING = ".,:;!?…»\"')]}"


def _trim(text: str, start: int, end: int) -> int:
    """The end of a link without the punctuation that closes the sentence around it."""
    while end > start and text[end - 1] in _TRAILING:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def find_links(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of links in ``text``, ordered.

    Links are ``http(s)://`` URLs, ``www.`` addresses, bare domains with a common
    top-level domain (``vk.com/id1``, ``t.me/name``, ``пример.рф``) and e-mail addresses
    (children must not swap contacts either).
    """
    if _LINK_HINT.search(text) is None:
        return []
    spans: list[tuple[int, int]] = []
    for link in _LINK.finditer(text):
        tld = link["tld"]
        if tld is not None and not (tld.islower() or tld.isupper()):
            continue  # "в Москву.Me too": a sentence without a space after its dot
        start, end = link.span()
        end = _trim(text, start, end)
        if end > start:
            spans.append((start, end))
    return spans


def has_link(text: str) -> bool:
    """Whether ``text`` has a link (see :func:`find_links`)."""
    return bool(find_links(text))
