"""Links in a text, as the content filter refuses them in chats with minors.

The links are found by a maintained recogniser, ``linkify-it-py`` (the port of
markdown-it's ``linkify-it``: schemes, ``www.``, bare domains, e-mail addresses, Unicode
domains), with every top-level domain of the Public Suffix List as ``tldextract`` bundles
it (its snapshot only: nothing is fetched). Before it looks, the text is undisguised into a
*view*, each character of which remembers where it stood in the text:

* look-alikes from other alphabets and full-width forms are folded (``ｖｋ．ｃｏｍ``, Greek
  ``ο``; :mod:`.lookalikes`), the other dots (``。`` ``｡`` ``․``) become ``.``, and
  invisible characters (zero-width spaces, joiners: Unicode's format characters) go;
* written-out or bracketed dots become dots: ``vk . com``, ``vk .com``, ``vk[.]com``,
  ``vk(.)com``, ``vk (dot) com``, ``vk точка com``, ``vk,com``, ``vk. com``;
* in a word that has Latin letters, Cyrillic look-alikes become Latin (``vk.сом`` with
  Cyrillic с, о).

Pure: no I/O after the suffix list is read from the package, once per process.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import tldextract
from linkify_it import LinkifyIt

from .lookalikes import fold

__all__ = ["find_links", "has_link"]

# Top-level domains that are more often a file's extension, when nothing else (a scheme,
# "www.", a path, an "@") says a link is meant: "main.py", "readme.md", "фото.zip".
_FILE_EXTENSIONS = frozenset({"py", "md", "sh", "zip", "mov"})
# Top-level domains that a dot with a space after it still reaches: "vk. com". Only these,
# so that a sentence's end before a word ("пока. me too") stays a sentence.
_SPACED_TLDS = "com|ru|рф|su|net|org"
_DOTS = str.maketrans("。｡․﹒．…", "......")
# Something a recogniser could take for a link; a view without one has none.
_CANDIDATE = re.compile(r"://|www\.|@|[^\W_]\.[^\W\d_]{2}", re.IGNORECASE)
# A dot written out or in brackets, between two parts of an address.
_DISGUISED_DOT = re.compile(
    rf"""
      \s*[\[({{<]\s*(?:\.|dot|точка|тчк)\s*[\])}}>]\s*  # vk[.]com, vk(.)com, vk (dot) com
    | (?<=[a-z0-9])\s+(?:dot|точка|тчк)\s+(?=[a-z0-9])  # vk dot com, vk точка com
    | (?<=[a-z0-9])\s+\.\s*(?=[a-z0-9])                  # vk . com, vk .com
    | (?<=[a-z0-9])(?:\.\s+|\s*,\s*)(?=(?:{_SPACED_TLDS})(?![\w-]))  # vk. com, vk,com
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Cyrillic letters that look like Latin ones, read as Latin in a word with Latin letters.
_CYRILLIC_AS_LATIN = str.maketrans("аеокмрсуххіјѕԁһԛԝАВЕКМНОРСТХУ", "aeokmpcyxxijsdhqwABEKMHOPCTXY")
_LATIN = re.compile(r"[a-zA-Z]")
_SPACE_OR_BRACKET = re.compile(r"[\s,\[({<]")
_WORD = re.compile(r"\S+")
# A text (its look-alikes folded) with no Latin letter, no "@" and no Russian top-level
# domain after a dot has no link.
_LATIN_OR_AT = re.compile(r"[a-zA-Z@]")
_RUSSIAN_TLD = re.compile(r"[.．。｡․﹒…]\s*[а-яё]{2}")


# linkify-it reads ASCII local parts only: "иван@почта.рф" is an address all the same.
_MAILBOX = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[\w-]+\.)+(?P<tld>[\w-]{2,})(?![\w-])")


@functools.cache
def _top_level_domains() -> frozenset[str]:
    suffixes = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    ).tlds
    return frozenset(suffix.rsplit(".", 1)[-1] for suffix in suffixes)


@functools.cache
def _recogniser() -> LinkifyIt:
    options = {"fuzzy_link": True, "fuzzy_email": True, "fuzzy_ip": False}
    return LinkifyIt(options=options).tlds(sorted(_top_level_domains()), False)


@functools.cache
def _format_characters() -> re.Pattern[str]:
    """Unicode's format characters (zero-width spaces, joiners, marks of direction)."""
    codes = [code for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"]
    return re.compile("[" + "".join(re.escape(chr(code)) for code in codes) + "]+")


def _replaced(
    view: str, places: list[int] | None, pattern: re.Pattern[str], by: str
) -> tuple[str, list[int] | None]:
    """Each match of ``pattern`` in ``view`` replaced ``by``, with the places kept."""
    if pattern.search(view) is None:
        return view, places
    if places is None:
        places = list(range(len(view)))
    parts: list[str] = []
    kept: list[int] = []
    position = 0
    for found in pattern.finditer(view):
        parts.append(view[position : found.start()])
        kept.extend(places[position : found.start()])
        if by:
            parts.append(by)
            kept.append(places[found.start()])
        position = found.end()
    parts.append(view[position:])
    kept.extend(places[position:])
    return "".join(parts), kept


def _view(text: str) -> tuple[str, list[int] | None]:
    """The undisguised (already folded) text, and where each of its characters stands in ``text``
    (None: where it stands in the view)."""
    view = text.translate(_DOTS)
    places: list[int] | None = None
    if not view.isascii():
        view, places = _replaced(view, places, _format_characters(), "")
    if not view.isascii() or _SPACE_OR_BRACKET.search(view) is not None:
        view, places = _replaced(view, places, _DISGUISED_DOT, ".")
    if not view.isascii():
        view = _WORD.sub(_as_latin, view)  # one character for one: the places stay
    return view, places


def _as_latin(word: re.Match[str]) -> str:
    text = word[0]
    return text.translate(_CYRILLIC_AS_LATIN) if _LATIN.search(text) else text


def _is_meant(raw: str, schema: str) -> bool:
    """Whether a bare domain is a link and not a sentence or a file name."""
    if schema or "@" in raw or raw.lower().startswith("www."):
        return True
    host = re.split(r"[/?#:]", raw, maxsplit=1)[0]
    tld = host.rsplit(".", 1)[-1]
    if not (tld.islower() or tld.isupper()):
        return False  # "в Москву.Me too": a sentence whose space was forgotten
    return host != raw or tld.lower() not in _FILE_EXTENSIONS


def find_links(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of links in ``text``, ordered.

    Links are URLs with a scheme, ``www.`` addresses, domains of any top-level domain with
    or without a path (``vk.com/id1``, ``t.me/name``, ``пример.рф``), however written
    (see the module's docstring), and e-mail addresses (children must not swap contacts
    either).
    """
    try:
        text.encode("cp1251")
        folded = text  # nothing to fold
    except UnicodeEncodeError:
        folded = fold(text)
    if _LATIN_OR_AT.search(folded) is None and _RUSSIAN_TLD.search(folded) is None:
        return []  # the quick answer: no Latin letter, no "@", no Russian domain
    view, places = _view(folded)
    if _CANDIDATE.search(view) is None:
        return []
    matches = _recogniser().match(view) or []
    found = [(m.index, m.last_index) for m in matches if _is_meant(m.raw, m.schema)]
    if "@" in view:
        tlds = _top_level_domains()
        for mailbox in _MAILBOX.finditer(view):
            start, end = mailbox.span()
            if mailbox["tld"].lower() in tlds and not any(
                start < until and other < end for other, until in found
            ):
                found.append((start, end))
    if places is None:
        return sorted(found)
    return sorted((places[start], places[end - 1] + 1) for start, end in found)


def has_link(text: str) -> bool:
    """Whether ``text`` has a link (see :func:`find_links`)."""
    return bool(find_links(text))
