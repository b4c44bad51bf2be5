"""Profiles the guard keeps never outlive a roster change, with a real store.

The one case the socket tests cannot time: a profile read that began before
a roster change and returns after the guard was told of it.  Its answer is
the old roster's; kept, the old rights would last until the next change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.clock import ManualClock
from server.policy.guard import Guard
from server.policy.limits import SendLimits
from server.roster.demo import DEMO_ROSTER, seed_demo
from server.roster.document import parse_roster
from server.roster.model import Profile, Role
from server.store import SqlStore
from tests.conftest import Database, relaxed_chat

pytestmark = pytest.mark.both_engines

TEACHER = 1000100003  # class teacher of 5A
TIMEOUT = 5.0


class HeldProfiles:
    """The real store, whose profile reads the test lets finish when it says."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def profile(self, oid: int) -> Profile | None:
        found = await self._store.profile(oid)
        self.read.set()
        await self.release.wait()
        return found


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    await seed_demo(opened)
    yield opened
    await opened.close()


def is_teacher(profile: Profile | None) -> bool:
    return profile is not None and any(r.role is Role.TEACHER for r in profile.roles)


async def test_a_profile_read_overtaken_by_a_roster_change_is_not_kept(
    store: SqlStore,
) -> None:
    held = HeldProfiles(store)
    clock = ManualClock()
    limits = SendLimits(relaxed_chat(), clock)
    guard = Guard(held, clock, limits=limits)  # type: ignore[arg-type]
    reading = asyncio.get_running_loop().create_task(guard.profile(TEACHER))
    async with asyncio.timeout(TIMEOUT):
        await held.read.wait()  # read from the roster as it was

    roster = json.loads(DEMO_ROSTER.read_text("utf-8"))
    school = roster["schools"][0]
    school["staff"] = [s for s in school["staff"] if s["oid"] != TEACHER]
    for klass in school["classes"]:
        if klass.get("class_teacher") == TEACHER:
            klass["class_teacher"] = 1000100004
        klass["subject_teachers"] = [t for t in klass["subject_teachers"] if t["oid"] != TEACHER]
    await store.import_roster(parse_roster(roster))
    guard.forget_roster()  # as the import through the server and the roster watch do

    held.release.set()
    async with asyncio.timeout(TIMEOUT):
        assert is_teacher(await reading)  # the read that began before: the old roster
    assert not is_teacher(await guard.profile(TEACHER))  # and it was not kept
