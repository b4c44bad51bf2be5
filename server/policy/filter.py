"""The content filter of chats with minors: obscene Russian words and links.

Pure: no I/O (apart from reading the bundled word list once per process), no clock, no
asyncio. The chat service decides which chats are filtered and what happens to a message
that matches (``docs/content-filter.md``); this module only finds the words and links.

How words are found. The text is encoded in cp1251, one byte per character (every Russian
letter has one), so that an index in the bytes is an index in the text; characters cp1251
lacks (emoji, other alphabets) become ``?``. Whitespace stays whitespace, letters, digits,
``@`` and ``$`` stay, everything else becomes ``.``. Then, per *token* (a run between
whitespace) and per *piece* (a run of letters and digits in a token):

* lower case, ``ё`` -> ``е``, ``й`` -> ``и``;
* Latin look-alikes and digits become Cyrillic letters (``x`` -> ``х``, ``3`` -> ``з``,
  ``@`` -> ``а``); a piece wholly in Latin letters is also transliterated
  (``blyat`` -> ``блят``) and both forms are checked;
* each run of a repeated letter is written once (``хууууй`` -> ``хуи``).

A piece is checked alone, and pieces of a token one to three punctuation characters apart
(``пиз.да``, ``х.у.й``) are also joined and checked together; so are one-letter words one
to three characters apart (``х у й``). A match covers whole pieces, so masking never leaves
half a word, and its span is the span of those pieces in the original text. The built-in
list lives in ``data/obscene_ru.txt`` (its format is described at its top).

What was found in a token is remembered per filter, and what the list says of a word is
remembered per process (both bounded), so a message of words seen before costs a few set
operations.
"""

from __future__ import annotations

import functools
import importlib.resources
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from .links import find_links, has_link
from .lookalikes import fold

__all__ = [
    "ContentFilter",
    "Match",
    "WordListError",
    "check_word",
    "find_links",
    "has_link",
    "parse_word_list",
]

WORD_LIST = "obscene_ru.txt"

# A single-byte code page that holds all Russian letters: index i of the encoded text is
# character i of the text, and bytes regular expressions are fast on it.
_ENCODING = "cp1251"
_WHITESPACE = frozenset(b" \n")
_DOT = ord(".")
_BANG = re.compile(rb"(?<=[A-Za-z\xc0-\xff\xa8\xb8])!(?=[A-Za-z\xc0-\xff\xa8\xb8])")  # б!я
_I = "и".encode(_ENCODING)
_LETTER_CODES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\xa8\xb8"
) | frozenset(range(0xC0, 0x100))
_U_AS_Y = bytes.maketrans(b"uU", "уУ".encode(_ENCODING))
_MAX_JOINED_PIECES = 12  # х.у.й: how many pieces may be joined into one word
_MAX_JOINED_LENGTH = 24  # and how long the joined word may get
_MIN_JOINED_LENGTH = 3  # "Е.Б." (initials) is not joined into a word
_CACHE_LIMIT = 50_000  # words remembered by the word list; emptied when full
_TOKEN_LIMIT = 8_192  # tokens remembered by each filter (there is one filter per school list)


def _cp(text: str) -> bytes:
    return text.encode(_ENCODING)


def _encoded(text: str) -> bytes:
    """The text in the single-byte code page: one byte a character.

    Look-alikes of letters from other alphabets are folded first (:func:`fold`); what is
    still missing becomes ``?``.
    """
    try:
        return text.encode(_ENCODING)
    except UnicodeEncodeError:
        return fold(text).encode(_ENCODING, "replace")


def _bang_between_letters(raw: bytes) -> bool:
    """Whether a ``!`` stands between two letters (a quick test before :data:`_BANG`)."""
    at = raw.find(b"!", 1)
    while 0 < at < len(raw) - 1:
        if raw[at - 1] in _LETTER_CODES and raw[at + 1] in _LETTER_CODES:
            return True
        at = raw.find(b"!", at + 1)
    return False


def _decoded(code: int) -> str | None:
    try:
        return bytes([code]).decode(_ENCODING)
    except UnicodeDecodeError:
        return None


def _cased_table() -> bytes:
    """Letters, digits, ``@``, ``$`` kept; whitespace to a space or line break; rest to ``.``."""
    table = bytearray(range(256))
    for code in range(256):
        char = _decoded(code)
        if char is None:
            table[code] = ord(".")
        elif char in "\n\r\x0b\x0c":
            table[code] = ord("\n")
        elif char.isspace():
            table[code] = ord(" ")
        elif not (char.isalnum() or char in "@$"):
            table[code] = ord(".")
    return bytes(table)


def _lower_table() -> bytes:
    """Letters to lower case, ``ё`` to ``е``, ``й`` to ``и`` (after :func:`_cased_table`)."""
    table = bytearray(range(256))
    for code in range(256):
        char = _decoded(code)
        if char is not None and char.isalpha():
            folded = char.lower().replace("ё", "е").replace("й", "и")
            encoded = folded.encode(_ENCODING, "replace")
            if len(encoded) == 1 and encoded != b"?":
                table[code] = encoded[0]
    return bytes(table)


def _letters(test: Callable[[str], bool]) -> frozenset[int]:
    return frozenset(code for code in range(256) if (char := _decoded(code)) and test(char))


_CASED = _cased_table()
_UPPER = _letters(str.isupper)
_LOWERCASE = _letters(str.islower)


# Latin letters that look like Cyrillic ones, digits and signs, other Cyrillic alphabets.
# Other alphabets' look-alikes (Greek, full-width, ...) are folded to these first
# (lookalikes.py).  i, z, 1, 9 are read as и, з, и, я: "пiзда", "zалупа", "п1зда", "бл9".
_LOOKALIKES = dict(
    zip("abcehkmoptxyunriz013469@$іїєўѕ", "авсенкмортхуипгизоизчбяасииеус", strict=True)
)


def _lookalike_table() -> bytes:
    table = bytearray(range(256))
    for source, target in _LOOKALIKES.items():
        table[_cp(source)[0]] = _cp(target)[0]
    return bytes(table)


_LOWER = _lower_table()
_LOOKALIKE = _lookalike_table()
_REPEAT = re.compile(rb"(.)\1+", re.DOTALL)
_FIRST_GROUP = operator.itemgetter(1)
_LATIN_PIECE = re.compile(rb"[0-9@$]*[a-z][a-z0-9@$]*")
_PIECE = re.compile(rb"[^.]+")  # in a token
# Three or more one-letter pieces one to sixteen separators apart (in b" " + text + b" ", with
# every separator b" "): a word spelled out (х у й), if they are one-letter words.
_SINGLES = re.compile(rb" [^ ](?: {1,%d}[^ ](?= )){2,}" % 16)
_SPACE = ord(" ")
_SEPARATORS = b". \n"  # what stands between pieces after _CASED
_ASCII_LETTER = re.compile(rb"[a-z]")  # after _LOWER
_SPACED = bytes(ord(" ") if code in b".\n" else code for code in range(256))

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


def _collapse(word: bytes) -> bytes:
    """Each run of a repeated letter written once: хууууй -> хуи."""
    return _REPEAT.sub(_FIRST_GROUP, word)  # a C callable: faster than a template


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


@functools.lru_cache(maxsize=4096)
def _spans_two(before: bytes, after: bytes) -> bool:
    """Whether transliterating two Latin pieces together differs from one by one (s|h)."""
    return _transliterate(before + after) != _transliterate(before) + _transliterate(after)


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
_K = TypeVar("_K")
_V = TypeVar("_V")


class WordListError(ValueError):
    """The word list file is malformed."""


class _WordList:
    """The compiled built-in list, and what it said about the words seen so far."""

    __slots__ = (
        "_allow",
        "_plain",
        "_plain_seen",
        "_translit",
        "_translit_seen",
        "anywhere",
        "anywhere_translit",
    )

    def __init__(
        self,
        plain: re.Pattern[bytes],
        translit: re.Pattern[bytes],
        allow: re.Pattern[bytes],
        anywhere: tuple[re.Pattern[bytes], re.Pattern[bytes]],
    ) -> None:
        self._plain = plain
        self._translit = translit
        self._allow = allow
        # Found (searched) in every word that the plain (transliterated) list matches, and
        # in longer words around it: a quick test that joined pieces cannot match.
        self.anywhere, self.anywhere_translit = anywhere
        self._plain_seen: dict[bytes, _Info] = {}
        self._translit_seen: dict[bytes, _Info] = {}

    def plain(self, skel: bytes) -> _Info:
        """A normalized piece (or joined pieces): its collapsed word, and if it is listed."""
        info = self._plain_seen.get(skel)
        if info is None:
            info = self._check(self._plain, _collapse(skel))
            _remember(self._plain_seen, skel, info)
        return info

    def translit(self, latin: bytes) -> _Info:
        """A lower-case Latin word: its transliteration, collapsed, and if it is listed."""
        info = self._translit_seen.get(latin)
        if info is None:
            info = self._check(self._translit, _collapse(_transliterate(latin)))
            _remember(self._translit_seen, latin, info)
        return info

    def _check(self, pattern: re.Pattern[bytes], word: bytes) -> _Info:
        listed = pattern.match(word) is not None and self._allow.fullmatch(word) is None
        return word, listed


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Remember in a cache that is emptied when it is full (memory stays bounded)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


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
    translit_bodies: list[str] = []
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
            translit_bodies.append(pattern.replace("$", ""))
    anywhere = (_compile(bodies), _compile(translit_bodies))
    return _WordList(_compile(plain), _compile(translit), _compile(allowed), anywhere)


@functools.cache
def _word_list() -> _WordList:
    """The built-in list, read and compiled once per process."""
    resource = importlib.resources.files(__package__ or "server.policy") / "data" / WORD_LIST
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
    short: bool  # one letter, or a number (the т or 80 of т.е., 80-е)


_Found = tuple[tuple[int, int, bytes], ...]  # (start, end, normalized word) of each match
_NOTHING: _Found = ()


def _occurrences(text: bytes, token: bytes) -> Iterator[int]:
    """Where ``token`` stands in ``text`` between whitespace (or the text's ends)."""
    size = len(token)
    position = text.find(token)
    while position >= 0:
        end = position + size
        if (position == 0 or text[position - 1] in _WHITESPACE) and (
            end == len(text) or text[end] in _WHITESPACE
        ):
            yield position
        position = text.find(token, position + 1)


def _is_initial(token: bytes, left: tuple[int, int], right: tuple[int, int]) -> bool:
    """``Б.Лаптева``: a capital letter and a dot before a capitalized word are an initial."""
    return (
        left[1] - left[0] == 1
        and token[left[0]] in _UPPER
        and right[1] - right[0] >= 2
        and token[right[0]] in _UPPER
        and any(code in _LOWERCASE for code in token[right[0] + 1 : right[1]])
    )


def _one_letter(cased: bytes, at: int) -> bool:
    """Whether the letter at ``at`` is a word of its own: ``х``, ``х,``, ``(х)``.

    One punctuation character before it and two after at most: a masked word next to a
    letter leaves three or more (``х.***``), so masking never makes new spelled-out words.
    """
    before = at - 1 if at > 0 and cased[at - 1] == _DOT else at
    if before > 0 and cased[before - 1] not in _WHITESPACE:
        return False
    after = at + 1
    for _ in range(2):
        if after < len(cased) and cased[after] == _DOT:
            after += 1
    return after == len(cased) or cased[after] in _WHITESPACE


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
    low = raw.translate(_CASED).translate(_LOWER).replace(b".", b"")  # ё-моё -> емое
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


def _merged(
    first: dict[int, tuple[int, bytes]], second: dict[int, tuple[int, bytes]]
) -> dict[int, tuple[int, bytes]]:
    """The matches of two readings of a text, without overlaps (the first one's win)."""
    if not first:
        return second
    merged = dict(first)
    for start, (end, word) in second.items():
        if all(end <= other or start >= until for other, (until, _) in merged.items()):
            merged[start] = (end, word)
    return merged


class ContentFilter:
    """Finds and masks obscene words: the built-in list and a school's extra words.

    ``extra_words`` are plain words, normalized like the text (case, look-alikes,
    repeated letters) and matched as whole words; an entry ending in ``*`` is a stem and
    also matches longer words (``дурак*`` matches ``дураки``). An entry that cannot be
    used (see :func:`check_word`: several words, ``*`` inside, one letter, emoji) is
    skipped, so a stored setting never breaks posting.
    """

    __slots__ = ("_dirty", "_exact", "_extra_anywhere", "_list", "_stems", "_tokens")

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
        # What this filter found in each whitespace-separated token seen so far (offsets
        # in the token), and the tokens in which it found something.
        self._tokens: dict[bytes, _Found] = {}
        self._dirty: dict[bytes, _Found] = {}

    def find(self, text: str) -> list[Match]:
        """The filtered words of ``text``: non-overlapping, ordered by start."""
        if not text:
            return []
        raw = _encoded(text)
        found = self._found(raw.translate(_CASED))
        # Two characters have two readings: "!" between letters is punctuation (на!хуй)
        # or и (п!зда); a Latin u is и by its look (пuзда) or у by its sound (хuй).
        if b"!" in raw and _bang_between_letters(raw):
            found = _merged(found, self._found(_BANG.sub(_I, raw).translate(_CASED)))
        if b"u" in raw or b"U" in raw:
            found = _merged(found, self._found(raw.translate(_U_AS_Y).translate(_CASED)))
        return [
            Match(start, end, word.decode(_ENCODING))
            for start, (end, word) in sorted(found.items())
        ]

    def _found(self, cased: bytes) -> dict[int, tuple[int, bytes]]:
        """start -> (end, normalized word) of each filtered word in the cased text."""
        if self._clean(cased):
            return {}
        found: dict[int, tuple[int, bytes]] = {}  # start -> (end, normalized word)
        # Each token (a run between whitespace) is checked once per filter: its pieces,
        # and pieces joined over the punctuation between them (пиз.да, х.у.й).
        tokens = set(cased.split())
        new = tokens.difference(self._tokens)
        if new:
            if len(self._tokens) + len(new) > _TOKEN_LIMIT:
                self._tokens.clear()
                self._dirty.clear()
                new = tokens
            for token in new:
                in_token = self._token_words(token)
                self._tokens[token] = in_token
                if in_token:
                    self._dirty[token] = in_token
        for token in tokens & self._dirty.keys():
            for position in _occurrences(cased, token):
                for start, end, word in self._dirty[token]:
                    found[position + start] = (position + end, word)
        # Letters spelled out one by one: х у й, х, у, й.
        spaced = cased.translate(_SPACED)
        for run in _SINGLES.finditer(b" " + spaced + b" "):
            letters = [run.start() + at - 1 for at, code in enumerate(run[0]) if code != _SPACE]
            for start, end, word in self._spelled(cased, letters):
                found[start] = (end, word)
        return found

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

    def _clean(self, cased: bytes) -> bool:
        """True if nothing in the text can match: the quick answer for most messages.

        Every word the filter can find (a piece alone, pieces joined across punctuation,
        one-letter words spelled out) is made of pieces that stand in the text in order,
        so its normalized letters are a part of the text's letters with every separator
        taken out; and every listed word (and school word) has a root that
        :meth:`_anywhere` finds in it. So if no root stands anywhere in all the text's
        letters run together, there is nothing to find. Transliterated words do not
        follow this (their letters change), so a text with Latin letters is never clean.
        """
        low = cased.translate(_LOWER)
        if _ASCII_LETTER.search(low) is not None:
            return False
        letters = low.translate(_LOOKALIKE, _SEPARATORS)
        return not self._anywhere(_collapse(letters), self._list.anywhere)

    # --- tokens and runs of letters -----------------------------------------------------

    def _token_words(self, token: bytes) -> _Found:
        """The words in a token, at offsets in it: its pieces alone and joined."""
        low = token.translate(_LOWER)
        skel = low.translate(_LOOKALIKE)
        inner = skel.strip(b".")
        if inner and b"." not in inner:  # the usual word, perhaps with punctuation around it
            start = len(skel) - len(skel.lstrip(b"."))
            end = start + len(inner)
            word = self._alone(inner, _latin(low[start:end]))
            return _NOTHING if word is None else ((start, end, word),)
        spans = [piece.span() for piece in _PIECE.finditer(skel)]
        # Pieces one to three punctuation characters apart may be one word.
        clusters: list[list[tuple[int, int]]] = []
        for left, right in itertools.pairwise(spans):
            if right[0] - left[1] <= 3 and not _is_initial(token, left, right):
                if clusters and clusters[-1][-1] == left:
                    clusters[-1].append(right)
                else:
                    clusters.append([left, right])
        clustered = {span for cluster in clusters for span in cluster}
        found: list[tuple[int, int, bytes]] = []
        for start, end in spans:
            if (start, end) not in clustered:
                word = self._alone(skel[start:end], _latin(low[start:end]))
                if word is not None:
                    found.append((start, end, word))
        for cluster in clusters:
            pieces = [_piece(low, skel, start, end, spaced=False) for start, end in cluster]
            found.extend(self._scan(pieces))
        return tuple(sorted(found))

    def _spelled(self, cased: bytes, letters: list[int]) -> list[tuple[int, int, bytes]]:
        """The words spelled by one-letter words at ``letters`` (one to three apart)."""
        runs: list[list[int]] = [[]]
        for at in letters:
            if not _one_letter(cased, at):
                runs.append([])
            elif runs[-1] and b"\n" in cased[runs[-1][-1] : at]:
                runs.append([at])
            else:
                runs[-1].append(at)
        found: list[tuple[int, int, bytes]] = []
        for run in runs:
            if len(run) < _MIN_JOINED_LENGTH:
                continue
            low = bytes(cased[at] for at in run).translate(_LOWER)
            skel = low.translate(_LOOKALIKE)
            pieces = [_piece(low, skel, index, index + 1, spaced=True) for index in range(len(run))]
            for start, end, word in self._scan(pieces):
                found.append((run[start], run[end - 1] + 1, word))
        return found

    # --- checks -----------------------------------------------------------------------

    def _extra(self, word: bytes) -> bool:
        return word in self._exact or (bool(self._stems) and word.startswith(self._stems))

    def _alone(self, skel: bytes, latin: bytes | None) -> bytes | None:
        """The word of a piece alone, if it is filtered: plain, else transliterated."""
        if len(skel) < 2:  # a letter alone is no word (and nothing is listed so short)
            return None
        word, listed = self._list.plain(skel)
        if listed or self._extra(word):
            return word
        if latin is not None:
            word, listed = self._list.translit(latin)
            if listed or self._extra(word):
                return word
        return None

    def _joined_word(self, skel: bytes, latin: bytes | None) -> bytes | None:
        """The word that joined pieces make, if it is filtered (``latin``: all Latin)."""
        word, listed = self._list.plain(skel)
        if len(word) >= _MIN_JOINED_LENGTH and (listed or self._extra(word)):
            return word
        if latin is not None:
            word, listed = self._list.translit(latin)
            if len(word) >= _MIN_JOINED_LENGTH and (listed or self._extra(word)):
                return word
        return None

    def _may_join(self, pieces: list[_Piece]) -> bool:
        """False if no run of these pieces can make a filtered word (a quick test).

        A run's word is a part of the word of all the pieces; if no listed root (nor a
        school's word) stands anywhere in that, no run matches. The same holds for the
        transliteration of runs of Latin pieces, unless a digraph or ``ye`` spans two
        pieces (``s.h``), which is then left to the full scan.
        """
        joined = b"".join([piece.skel for piece in pieces])
        if len(joined) < _MIN_JOINED_LENGTH:
            return False
        if self._anywhere(_collapse(joined), self._list.anywhere):
            return True
        latin: list[bytes] = []
        for piece in [*pieces, None]:
            if piece is not None and piece.low is not None:
                latin.append(piece.low)
                continue
            if len(latin) >= 2:
                if any(_spans_two(*pair) for pair in itertools.pairwise(latin)):
                    return True
                whole = _collapse(_transliterate(b"".join(latin)))
                if self._anywhere(whole, self._list.anywhere_translit):
                    return True
            latin = []
        return False

    def _anywhere(self, word: bytes, listed: re.Pattern[bytes]) -> bool:
        if listed.search(word) is not None:
            return True
        return self._extra_anywhere is not None and self._extra_anywhere.search(word) is not None

    def _scan(self, pieces: list[_Piece]) -> list[tuple[int, int, bytes]]:
        """The filtered words of a cluster of pieces: pieces alone, and joined runs.

        A piece that matches alone is never joined with others. From each piece the
        shortest matching run is taken, then grown over following one-letter pieces
        (``п.и.з.д.е.ц``); a run is left to a later start that ends no later (so "ну,пиз.да"
        masks "пиз.да" only). Taking the shortest runs makes masking final: nothing in a
        masked text is found again.
        """
        count = len(pieces)
        alone = [self._alone(piece.skel, piece.low) for piece in pieces]
        if not self._may_join(pieces):
            return [
                (piece.start, piece.end, word)
                for piece, word in zip(pieces, alone, strict=True)
                if word is not None
            ]
        shortest: dict[int, tuple[int, bytes] | None] = {}

        def run_from(first: int) -> tuple[int, bytes] | None:
            if first not in shortest:
                shortest[first] = None
                skel, latin = pieces[first].skel, pieces[first].low
                for last in range(first + 1, min(count, first + _MAX_JOINED_PIECES)):
                    piece = pieces[last]
                    skel += piece.skel
                    latin = None if latin is None or piece.low is None else latin + piece.low
                    if alone[last] is not None or len(skel) > _MAX_JOINED_LENGTH:
                        break
                    word = self._joined_word(skel, latin)
                    if word is not None:
                        shortest[first] = (last, word)
                        break
            return shortest[first]

        def after_letter(index: int) -> bool:
            """A letter glued to a letter or number before: т.е.бывает, 80-е,бабушка."""
            return (
                index > 0
                and len(pieces[index].skel) == 1
                and pieces[index - 1].short
                and not pieces[index].spaced
            )

        found: list[tuple[int, int, bytes]] = []
        first = 0
        while first < count:
            single = alone[first]
            if single is not None:
                found.append((pieces[first].start, pieces[first].end, single))
                first += 1
                continue
            run = None
            if not after_letter(first) or (found and found[-1][1] == pieces[first - 1].end):
                run = run_from(first)
            if run is None:
                first += 1
                continue
            last, word = run
            later = None if after_letter(first + 1) else run_from(first + 1)
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
                grown = pieces[first : last + 2]
                latins = [piece.low for piece in grown]
                longer = self._joined_word(
                    b"".join(piece.skel for piece in grown),
                    None if None in latins else b"".join(latin or b"" for latin in latins),
                )
                if longer is None:
                    break
                last, word = last + 1, longer
            found.append((pieces[first].start, pieces[last].end, word))
            first = last + 1
        return found


def _piece(low: bytes, skel: bytes, start: int, end: int, *, spaced: bool) -> _Piece:
    short = end - start == 1 or low[start:end].isdigit()
    return _Piece(start, end, skel[start:end], _latin(low[start:end]), spaced, short)


def _latin(low: bytes) -> bytes | None:
    """The piece if it is wholly Latin (letters, with digits and signs), else None."""
    return low if low.isascii() and _is_latin(low) else None
