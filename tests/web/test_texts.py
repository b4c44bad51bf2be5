"""Every chat refusal a person can meet has a Russian sentence in web/src/texts.ts.

The codes are read from the error catalogue (``signaling.errors.CODES``,
whose chat section docs/protocol.md's "Chat error codes" table is made
from), so a code added there without its sentence in the page fails here
(the page would show its generic «Что-то пошло не так» instead).
"""

from __future__ import annotations

import re
from pathlib import Path

from signaling.errors import CODES

ROOT = Path(__file__).resolve().parents[2]
# Refusals of requests this client does not make yet: none since the panels
# (groups, moderation, reports) came, whose codes are in PANEL_REFUSALS.
NOT_YET: frozenset[str] = frozenset()


def chat_error_codes() -> set[str]:
    return {code for code, entry in CODES.items() if entry.section == "chat"}


def page_codes() -> set[str]:
    texts = (ROOT / "web" / "src" / "texts.ts").read_text(encoding="utf-8")
    # The codes of REFUSALS and of PANEL_REFUSALS (the only quoted keys at that depth).
    tables = texts.split("const PANEL_REFUSALS", 1)[1]
    return set(re.findall(r'^  "([a-z_.]+)":', tables, flags=re.MULTILINE))


def test_every_chat_refusal_has_its_russian_sentence() -> None:
    codes = chat_error_codes()
    assert len(codes) > 15  # the table was found and read
    missing = sorted(codes - NOT_YET - page_codes())
    assert not missing, f"add these codes to REFUSALS in web/src/texts.ts: {missing}"


def test_the_page_names_only_codes_the_server_has() -> None:
    assert not sorted(page_codes() - set(CODES))
