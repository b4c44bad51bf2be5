"""The demo school the embedded default starts with.

``server/data/demo-school.json`` is an ordinary roster file (see
``docs/roster.md``): one school, classes 5А and 5Б with their teachers, about
25 students each and their parents.  A fresh database gets it so that the
server can be tried without an ESIA connection or a real school's data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from .diff import ImportReport
from .document import RosterDocument, load_roster_file


class RosterStore(Protocol):
    """What seeding needs of a store: the roster below it knows no more of one."""

    async def has_roster(self) -> bool: ...

    async def import_roster(self, doc: RosterDocument) -> ImportReport: ...


DEMO_ROSTER: Path = Path(__file__).resolve().parent.parent / "data" / "demo-school.json"


async def seed_demo(store: RosterStore) -> ImportReport | None:
    """Import the demo school into an empty roster; ``None`` if there was one already.

    Only an empty roster is seeded, so a real school's data is never mixed
    with the demo.  Two servers seeding at once are harmless: importing the
    same file twice changes nothing.
    """
    if await store.has_roster():
        return None
    document = await asyncio.to_thread(load_roster_file, DEMO_ROSTER)
    return await store.import_roster(document)
