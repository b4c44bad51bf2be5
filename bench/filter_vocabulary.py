"""Every word form of a full Russian dictionary through the content filter.

The OpenCorpora dictionary that ``pymorphy3-dicts-ru`` ships (about three million
distinct forms) is read with ``pymorphy3``; each form goes through the built-in filter
alone, as a message of one word. A form that the filter blocks is *accounted for* when one
of its lemmas is listed in ``tests/safety/vocabulary.txt``, as an obscene word or as a
known false positive; the rest are printed, to be fixed (in the word list) or listed.

    .venv/bin/python bench/filter_vocabulary.py            # every form (about a minute)
    .venv/bin/python bench/filter_vocabulary.py --every 50 # a sample
    .venv/bin/python bench/filter_vocabulary.py --speed    # the filter's speed only

Counts and the command's output are recorded in docs/content-filter.md. ``--speed``
times the filter on messages of the benchmark's kind (docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pymorphy3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.policy.filter import ContentFilter, has_link
from tests.safety.vocabulary import Vocabulary, load_vocabulary


def forms(analyzer: pymorphy3.MorphAnalyzer, every: int = 1) -> Iterator[str]:
    """The dictionary's distinct word forms, in its (sorted) order; every ``every``-th."""
    previous = None
    count = 0
    for word in analyzer.dictionary.words.iterkeys():
        if word == previous:
            continue
        previous = word
        if count % every == 0:
            yield word
        count += 1


def lemmas(analyzer: pymorphy3.MorphAnalyzer, word: str) -> set[str]:
    return {parse.normal_form for parse in analyzer.parse(word)}


def run(every: int, vocabulary: Vocabulary) -> int:
    analyzer = pymorphy3.MorphAnalyzer()
    content = ContentFilter()
    checked = 0
    blocked: list[str] = []
    started = time.perf_counter()
    filter_time = 0.0
    for word in forms(analyzer, every):
        checked += 1
        before = time.perf_counter()
        hit = content.blocks(word)
        filter_time += time.perf_counter() - before
        if hit:
            blocked.append(word)
    elapsed = time.perf_counter() - started
    kinds: Counter[str] = Counter()
    unlisted: list[tuple[str, set[str]]] = []
    for word in blocked:
        found = lemmas(analyzer, word)
        kind = vocabulary.kind(word, found)
        kinds[kind or "unlisted"] += 1
        if kind is None:
            unlisted.append((word, found))
    print(f"forms checked: {checked:,} (every {every})")
    print(f"blocked: {len(blocked):,}")
    print(f"  obscene (listed lemmas): {kinds['obscene']:,}")
    print(f"  shared by an obscene and a clean lemma: {kinds['shared']:,}")
    print(f"  known false positives (listed): {kinds['false']:,}")
    print(f"  unlisted: {kinds['unlisted']:,}")
    print(f"time: {elapsed:.1f} s in all, {filter_time:.1f} s in the filter")
    print(f"filter: {filter_time / max(checked, 1) * 1e6:.2f} µs a form")
    for word, found in unlisted:
        print(f"UNLISTED {word} ({', '.join(sorted(found))})")
    return 1 if unlisted else 0


def speed(rounds: int) -> None:
    """The link check and the word filter on messages like the fan-out benchmark's
    (a new number in each, so the filter's per-token memory does not answer)."""
    texts = [
        f"{n} Ребята, завтра контрольная по математике, повторите параграф 12. Удачи!"
        for n in range(rounds)
    ]
    content = ContentFilter()
    started = time.perf_counter()
    for text in texts:
        has_link(text)
    links = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        content.blocks(text)
    words = time.perf_counter() - started
    print(
        f"{rounds:,} messages: links {links / rounds * 1e6:.2f} µs, "
        f"words {words / rounds * 1e6:.2f} µs a message"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=1, help="check every N-th form only")
    parser.add_argument("--speed", action="store_true", help="time the filter only")
    parser.add_argument("--rounds", type=int, default=100_000)
    args = parser.parse_args()
    if args.speed:
        speed(args.rounds)
        return 0
    return run(args.every, load_vocabulary())


if __name__ == "__main__":
    sys.exit(main())
