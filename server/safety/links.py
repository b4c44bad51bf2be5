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
_DOTS = {"。": ".", "｡": ".", "․": ".", "﹒": ".", "．": ".", "…": "."}
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
# A text without a letter outside the Russian alphabet (Latin, full-width, Greek...) and
# without a Russian top-level domain after a dot has no link: the quick answer.
_HINT = re.compile(r"[^\W\d_а-яА-ЯёЁ]|[.．。｡․﹒]\s*[а-яё]{2}|@")


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


def _view(text: str) -> tuple[str, list[int]]:
    """The undisguised text, and where each of its characters stands in ``text``."""
    folded = fold(text)
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(folded):
        if unicodedata.category(char) == "Cf":  # zero-width space, joiners, marks of direction
            continue
        chars.append(_DOTS.get(char, char))
        origin.append(index)
    view = "".join(chars)
    if view.isascii() and _SPACE_OR_BRACKET.search(view) is None:
        return view, origin  # no dot to undisguise, no Cyrillic letter
    parts: list[str] = []
    places: list[int] = []
    position = 0
    for dot in _DISGUISED_DOT.finditer(view):
        parts.append(view[position : dot.start()])
        places.extend(origin[position : dot.start()])
        parts.append(".")
        places.append(origin[dot.start()])
        position = dot.end()
    parts.append(view[position:])
    places.extend(origin[position:])
    view = "".join(parts)
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
    if _HINT.search(text) is None:
        return []
    view, places = _view(text)
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
    return sorted((places[start], places[end - 1] + 1) for start, end in found)


def has_link(text: str) -> bool:
    """Whether ``text`` has a link (see :func:`find_links`)."""
    return bool(find_links(text))
