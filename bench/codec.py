"""Codec benchmark: the schema codec against the hand-written one, in the same run.

The hand-written codec (each message's ``decode``/``encode`` over
``signaling.fields.Body``) is no longer in the tree: this script takes
``signaling/`` as it was at ``--old`` (default: the last commit with it) out
of git with ``git archive``, imports it as ``old_signaling``, and times both
codecs on the same frames, alternately, in one process.  For each frame it
prints the best per-operation time of each and their ratio; decode is what
the server does with a client's frame (or the Python client with a server's),
encode is one message to its frame's bytes.  See docs/performance.md.

    .venv/bin/python bench/codec.py
    .venv/bin/python bench/codec.py --rounds 9 --number 20000
"""

from __future__ import annotations

import argparse
import importlib
import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OLD_CODEC = "4e095ee"  # the last commit of the hand-written codec (main before issue 13)

TEXT = "Добрый день! Завтра экскурсия в музей, сбор в 9:00 у школы."
KEY = "0b6f8c2e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"
CHAT = "class:sosh-1-5a"


@dataclass(frozen=True)
class Case:
    """One frame: how to build its message from a signaling package, and which side
    decodes it."""

    name: str
    build: Callable[[ModuleType], Any]
    server_decodes: bool  # a client's frame (the server decodes it) or a server's


CASES: tuple[Case, ...] = (
    Case(
        "send",
        lambda s: s.chat.Send(chat=CHAT, text=TEXT, key=KEY, reply_to=41),
        server_decodes=True,
    ),
    Case("read", lambda s: s.chat.MarkRead(chat=CHAT, seq=43), server_decodes=True),
    Case("typing", lambda s: s.chat.Typing(chat=CHAT), server_decodes=True),
    Case("ping", lambda s: s.messages.Ping(), server_decodes=True),
    Case(
        "react",
        lambda s: s.chat.React(chat=CHAT, message_id=43, emoji="👍", key=KEY),
        server_decodes=True,
    ),
    Case(
        "hello+resume",
        lambda s: s.messages.Hello(
            version=1,
            token="e" * 900,
            client="web/1.0",
            resume={f"class:c{i}": i for i in range(8)},
        ),
        server_decodes=True,
    ),
    Case(
        "chat.event",
        lambda s: s.chat.ChatEventMsg(
            chat=CHAT,
            seq=43,
            kind="message",
            author=1000100003,
            at=1_800_000_000.25,
            data={"id": 43, "text": TEXT, "reply_to": None},
        ),
        server_decodes=False,
    ),
    Case(
        "ack",
        lambda s: s.chat.AckMsg(chat=CHAT, seq=43, message_id=43, duplicate=False),
        server_decodes=False,
    ),
    Case(
        "receipt",
        lambda s: s.chat.Receipt(chat=CHAT, person=1000100101, seq=43),
        server_decodes=False,
    ),
    Case(
        "room.participant",
        lambda s: s.rooms.ParticipantChanged(
            room="Xb3kq9P0c1mZ2VtA",
            person=1000100101,
            change="hand",
            state={
                "person": 1000100101,
                "name": "Белов Артём Дмитриевич",
                "role": "student",
                "status": "present",
                "hand": True,
                "muted": ["microphone"],
                "forbidden": [],
            },
        ),
        server_decodes=False,
    ),
)


class Package:
    """A signaling package: its codec and message modules."""

    def __init__(self, name: str) -> None:
        self.codec = importlib.import_module(f"{name}.codec")
        self.chat = importlib.import_module(f"{name}.chat")
        self.messages = importlib.import_module(f"{name}.messages")
        self.rooms = importlib.import_module(f"{name}.rooms")


def load_old(rev: str, into: Path) -> Package:
    """``signaling/`` at ``rev``, imported as the package ``old_signaling``."""
    archive = subprocess.run(  # noqa: S603 - our own git, our own revision
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "signaling"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "signaling").rename(into / "old_signaling")
    sys.path.insert(0, str(into))
    return Package("old_signaling")


def best(fn: Callable[[], object], number: int, rounds: int) -> float:
    """The fastest of ``rounds`` timings of ``number`` calls, in µs per call."""
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD_CODEC, help=f"git revision (default {OLD_CODEC})")
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=7, help="timings per figure (best kept)")
    args = parser.parse_args(argv)
    print(f"{platform.node()} · Python {platform.python_version()} · {platform.machine()}")
    new = Package("signaling")
    with tempfile.TemporaryDirectory() as tmp:
        old = load_old(args.old, Path(tmp))
        return run(old, new, args.number, args.rounds)


def run(old: Package, new: Package, number: int, rounds: int) -> int:
    print(f"best of {rounds} × {number:,} calls; µs per call; old = hand-written, new = msgspec")
    print()
    header = f"{'frame':<18}{'bytes':>6} | {'decode old':>10} {'new':>7} {'ratio':>6}"
    header += f" | {'encode old':>10} {'new':>7} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    sums = [0.0, 0.0, 0.0, 0.0]
    for case in CASES:
        old_message, new_message = case.build(old), case.build(new)
        frame = new.codec.encode(new_message, 7 if case.server_decodes else None)
        old_frame = old.codec.encode(old_message, 7 if case.server_decodes else None)
        decode_old, decode_new = (
            (old.codec.decode_client_frame, new.codec.decode_client_frame)
            if case.server_decodes
            else (old.codec.decode_server_frame, new.codec.decode_server_frame)
        )
        # The same bytes mean the same message to both codecs.
        assert decode_new(old_frame).message == new_message  # noqa: S101
        assert decode_old(frame).message == old_message  # noqa: S101
        figures = [
            best(partial(decode_old, frame), number, rounds),
            best(partial(decode_new, frame), number, rounds),
            best(partial(old.codec.encode, old_message, 7), number, rounds),
            best(partial(new.codec.encode, new_message, 7), number, rounds),
        ]
        sums = [a + b for a, b in zip(sums, figures, strict=True)]
        print(_row(case.name, len(frame), figures))
    print("-" * len(header))
    print(_row("all of the above", 0, sums))
    return 0


def _row(name: str, size: int, f: Sequence[float]) -> str:
    shown = f"{size:>6}" if size else " " * 6
    return (
        f"{name:<18}{shown} | {f[0]:>10.2f} {f[1]:>7.2f} {f[0] / f[1]:>5.1f}×"
        f" | {f[2]:>10.2f} {f[3]:>7.2f} {f[2] / f[3]:>5.1f}×"
    )


if __name__ == "__main__":
    sys.exit(main())
