"""A chat's facts kept in memory by the guard, with a real store and real buses.

Two :class:`ChatService` s on one database, each with its own bus, stand for
two server nodes; the test relays one node's chat events to the other, as a
shared (Redis) bus would, at the moment it chooses.  What the socket tests
cannot show with one node: a change made elsewhere counts here once its
event arrives, and a post is never let through on stale facts meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.bus import Event, LocalBus, chat_topic
from server.chats.service import ChatService
from server.clock import ManualClock
from server.errors import ZvonokError
from server.model.chats import class_chat_id, parents_chat_id, staff_chat_id
from server.policy import guard as guard_module
from server.policy.guard import Guard
from server.policy.limits import SendLimits
from server.roster.demo import seed_demo
from server.store import SqlStore
from tests.conftest import Database, relaxed_chat

TEACHER, OTHER_TEACHER = 1000100003, 1000100005
ANYA, BORIS = 1000100101, 1000100102  # students of 5A
pytestmark = pytest.mark.both_engines

SWEAR = "ну и бл.я погода"


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    await seed_demo(opened)
    yield opened
    await opened.close()


def node(store: SqlStore, bus: LocalBus) -> ChatService:
    clock = ManualClock()
    guard = Guard(store, clock, limits=SendLimits(relaxed_chat(), clock), bus=bus)
    return ChatService(store, bus, clock, relaxed_chat(), max_text=4000, guard=guard)


class Relay:
    """Holds one node's events of a chat until the test delivers them to another."""

    def __init__(self) -> None:
        self.held: list[tuple[str, Event]] = []

    def __call__(self, topic: str, event: Event) -> None:
        self.held.append((topic, event))

    async def deliver(self, to: LocalBus) -> None:
        held, self.held = self.held, []
        for topic, event in held:
            await to.publish(topic, event)


async def refused(code: str, service: ChatService, oid: int, chat: str, text: str) -> None:
    with pytest.raises(ZvonokError) as caught:
        await service.send(oid, chat, text, key=f"{oid}:{text}:{code}")
    assert caught.value.code == code


async def test_a_change_made_on_another_node_counts_here_once_its_event_arrives(
    store: SqlStore,
) -> None:
    here_bus, there_bus = LocalBus(), LocalBus()
    here, there = node(store, here_bus), node(store, there_bus)
    group = (
        await here.create_group(TEACHER, "sosh-1", "Учительская", [OTHER_TEACHER], key=None)
    ).id
    await here.send(TEACHER, group, SWEAR, key="adults")  # no minor: unfiltered; facts kept
    relay = Relay()
    await there_bus.subscribe(chat_topic(group), relay)

    await there.change_members(TEACHER, group, add=[ANYA], remove=[])
    # Not yet told: this node still holds the facts it read (no read per post)...
    assert ANYA not in (await here.guard.facts(group)).members
    await relay.deliver(here_bus)
    # ...and once the event is here, the child's presence counts at once.
    assert ANYA in (await here.guard.facts(group)).members
    await refused("content.blocked", here, TEACHER, group, SWEAR)


async def test_a_member_added_elsewhere_posts_here_before_the_event_arrives(
    store: SqlStore,
) -> None:
    here_bus, there_bus = LocalBus(), LocalBus()
    here, there = node(store, here_bus), node(store, there_bus)
    group = (await here.create_group(TEACHER, "sosh-1", "Кружок", [ANYA], key=None)).id
    await here.send(ANYA, group, "привет", key="a1")
    await there.change_members(TEACHER, group, add=[BORIS], remove=[])
    # Kept facts that do not list the author are read again before a refusal.
    ack = await here.send(BORIS, group, "и я тут", key="b1")
    assert ack.event.author == BORIS
    # A member removed elsewhere is refused by the store, whatever is kept here.
    await there.change_members(TEACHER, group, add=[], remove=[ANYA])
    assert ANYA in (await here.guard.facts(group)).members  # not told yet
    await refused("chat.not_found", here, ANYA, group, "а я?")


async def test_a_roster_change_forgets_every_chats_facts(store: SqlStore) -> None:
    here_bus = LocalBus()
    here = node(store, here_bus)
    chat = class_chat_id("sosh-1-5a")
    before = await here.guard.facts(chat)
    assert await here.guard.facts(chat) is before  # kept
    here.guard.forget_roster()
    again = await here.guard.facts(chat)
    assert again == before and again is not before  # read afresh


async def test_the_kept_facts_are_bounded_and_unfollowed_chats_leave_the_bus(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard_module, "MAX_CHATS", 2)
    here_bus = LocalBus()
    here = node(store, here_bus)
    chats = [class_chat_id("sosh-1-5a"), parents_chat_id("sosh-1-5a"), staff_chat_id("sosh-1")]
    first = await here.guard.facts(chats[0])
    for chat in chats[1:]:
        await here.guard.facts(chat)
    assert here_bus.topics == 2  # the least recently used chat is no longer followed
    assert await here.guard.facts(chats[0]) is not first  # and is read again
    # A chat that does not exist is not followed at all.
    with pytest.raises(ZvonokError):
        await here.guard.facts("group:nope")
    assert here_bus.topics == 2
