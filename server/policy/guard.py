"""The safety checks as the services ask them: the policy, fed from the store.

:class:`Guard` reads what a decision needs (profiles from the roster, a
chat's facts, a school's settings) and hands it to the pure rules of
:mod:`server.policy.policy`, the content filter and the send limits.
Profiles are kept until the roster changes (:meth:`Guard.forget_roster`),
a chat's facts until one of the chat's own events changes them (the guard
follows the chat's topic on the bus, where every node's events of that chat
pass) or the roster changes, a school's settings for a few seconds.  A
refusal raises a
:class:`~server.errors.ZvonokError` with a stable code; the caller stores
nothing.
"""

from __future__ import annotations

import datetime
import functools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from server.bus import Bus, Event, chat_topic
from server.clock import Clock
from server.errors import chats as ce
from server.errors import safety as se
from server.model.chats import ChatKind, EventKind
from server.model.safety import ChatFacts
from server.roster.model import Profile, Role
from server.store.base import Store

from .filter import ContentFilter, has_link
from .limits import SendLimits, Tier, tier_of
from .policy import Action, ClassPlace, may_in_class, may_in_school, may_reply
from .settings import SchoolSettings, parse_settings, strictest

MAX_PROFILES = 50_000  # profiles (and school settings) kept in memory at most
SETTINGS_TTL = 5.0  # seconds a school's settings are reused before being read again
MAX_CHATS = 10_000  # chats whose facts are kept (and whose topics followed), least recent out
_DAY = 86_400.0
_EPOCH = datetime.date(1970, 1, 1)

# The kinds of chat event that leave a chat's facts as they were; any other
# sequenced event (members, moderation, a kind added later) makes them stale.
_FACTLESS = frozenset(
    kind.value for kind in (EventKind.MESSAGE, EventKind.EDIT, EventKind.DELETE, EventKind.REACTION)
)


@dataclass(frozen=True, slots=True)
class PostPermit:
    """What a post may go ahead as: its text (masked, perhaps) and whether
    its author moderates the chat (and so may post in announcements mode)."""

    text: str
    moderator: bool
    masked: bool


@functools.lru_cache(maxsize=64)
def _content_filter(words: tuple[str, ...]) -> ContentFilter:
    return ContentFilter(words)


def _screened(tier: Tier, settings: SchoolSettings, text: str) -> tuple[str, bool]:
    """A school's filter and link rule on one text: the text as it may be stored
    (masked, if the school masks) and whether it was masked (docs/content-filter.md)."""
    if settings.links == "teachers_only" and tier is not Tier.STAFF and has_link(text):
        raise se.link_forbidden()
    content = _content_filter(settings.words)
    if not content.blocks(text):
        return text, False
    if settings.filter == "block":
        raise se.content_blocked()
    return content.mask(text), True


def schools_of(profile: Profile | None, *roles: Role) -> set[str]:
    if profile is None:
        return set()
    wanted = roles or tuple(Role)
    return {held.school_id for held in profile.roles if held.role in wanted}


class Guard:
    """Safety decisions for the chat, moderation and people services."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        limits: SendLimits,
        bus: Bus | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._bus = bus
        self.limits = limits
        # Profiles change only with the roster: kept until it changes (the
        # roster watch and in-server imports call forget_roster()).
        self._profiles: dict[int, Profile | None] = {}
        # Settings change by an admin's request, perhaps on another node.
        self._settings: dict[str, tuple[float, SchoolSettings]] = {}
        # The chats whose topics we follow, least recently used first, with
        # their facts while no event since said otherwise (None: read again).
        # Without a bus nothing would tell us of a change: nothing is kept.
        self._chats: OrderedDict[str, ChatFacts | None] = OrderedDict()
        self._changes = 0  # counts invalidations, so a read overtaken by one is not kept
        self._day: tuple[int, datetime.date] = (-1, _EPOCH)  # today(), by days since 1970
        # Whether a person moderates a chat, with the facts and profile it was
        # decided on: good while both are still the ones kept (either is
        # replaced when the chat's events or the roster change them).
        self._moderates: dict[tuple[str, int], tuple[ChatFacts, Profile, bool]] = {}

    def forget_roster(self) -> None:
        """The roster changed: read every profile, and every chat's facts, afresh.

        (A chat's members' birth dates come from the roster; its members
        change by events of its own, which a roster import writes too.)
        """
        self._profiles.clear()
        self._chats = OrderedDict.fromkeys(self._chats)
        self._changes += 1

    def forget_settings(self, school_id: str) -> None:
        self._settings.pop(school_id, None)

    def today(self) -> datetime.date:
        """Today's date in UTC (the day a birth date is compared with)."""
        day = int(self._clock.time() // _DAY)
        if day != self._day[0]:
            self._day = (day, _EPOCH + datetime.timedelta(days=day))
        return self._day[1]

    # -- reading --------------------------------------------------------------

    async def profile(self, oid: int) -> Profile | None:
        """The person's roster profile as it is now (``None``: not in it)."""
        if oid in self._profiles:
            return self._profiles[oid]
        changes = self._changes
        profile = await self._store.profile(oid)
        if changes != self._changes:
            # The roster changed while we read: this answer may predate it.
            # Used once, never kept, or the old rights would outlive the change.
            return profile
        if len(self._profiles) >= MAX_PROFILES:
            self._profiles.clear()
        self._profiles[oid] = profile
        return profile

    async def person(self, oid: int) -> Profile:
        """The profile of a person named in a request; ``person.not_found``."""
        profile = await self.profile(oid)
        if profile is None:
            raise ce.NotFound(ce.PERSON_NOT_FOUND, f"no person {oid} in the roster")
        return profile

    async def facts(self, chat_id: str, *, member: int | None = None) -> ChatFacts:
        """The chat's facts (``chat.not_found`` if there is no such chat).

        Kept in memory until an event of the chat or a roster change says
        they changed.  With ``member``, kept facts that do not list that
        person are read again before they are believed: a member added on
        another node may post before its event reaches this one.  (A
        member removed elsewhere is refused by the store, which checks
        membership in the transaction that stores a post.)
        """
        kept = self._chats.get(chat_id)
        if kept is not None:
            self._chats.move_to_end(chat_id)
            if member is None or member in kept.members:
                return kept
        elif chat_id not in self._chats and self._bus is not None:
            # Follow first, read second: an event committed after the read
            # began is then seen by _on_chat_event, never lost in between.
            await self._bus.subscribe(chat_topic(chat_id), self._on_chat_event)
            self._chats.setdefault(chat_id, None)
        changes = self._changes
        facts = await self._store.chat_facts(chat_id)
        if facts is None:
            if chat_id in self._chats and self._chats[chat_id] is None:
                del self._chats[chat_id]  # no such chat: do not follow it
                await self._unfollow(chat_id)
            raise ce.chat_not_found(chat_id)
        if changes == self._changes and chat_id in self._chats:
            self._chats[chat_id] = facts
            self._chats.move_to_end(chat_id)
        await self._unfollow_beyond(MAX_CHATS)
        return facts

    def _on_chat_event(self, topic: str, event: Event) -> None:
        """A bus handler: an event of a followed chat (never blocks, never raises)."""
        if event.get("resync"):  # events may have been lost: forget the chat's facts
            chat = event.get("chat")
            if isinstance(chat, str) and chat in self._chats:
                self._chats[chat] = None
            self._changes += 1
            return
        if event.get("seq") is None or event.get("kind") in _FACTLESS:
            return  # typing, receipts; posts and reactions change no fact
        chat_id = event.get("chat")
        if isinstance(chat_id, str) and chat_id in self._chats:
            self._chats[chat_id] = None
        self._changes += 1

    async def _unfollow_beyond(self, limit: int) -> None:
        while len(self._chats) > limit:
            oldest, _ = self._chats.popitem(last=False)
            await self._unfollow(oldest)

    async def _unfollow(self, chat_id: str) -> None:
        if self._bus is not None:
            await self._bus.unsubscribe(chat_topic(chat_id), self._on_chat_event)

    async def settings(self, school_id: str) -> SchoolSettings:
        now = self._clock.monotonic()
        cached = self._settings.get(school_id)
        if cached is not None and now - cached[0] < SETTINGS_TTL:
            return cached[1]
        stored = await self._store.school_settings([school_id])
        settings = parse_settings(stored.get(school_id, {}))
        if len(self._settings) >= MAX_PROFILES:
            self._settings.clear()
        self._settings[school_id] = (now, settings)
        return settings

    async def chat_settings(self, facts: ChatFacts) -> SchoolSettings:
        """The chat's school's settings; for a direct chat, the strictest of
        its members' schools."""
        if facts.school_id is not None:
            return await self.settings(facts.school_id)
        schools: set[str] = set()
        for oid in facts.members:
            schools |= schools_of(await self.profile(oid))
        return strictest([await self.settings(school) for school in sorted(schools)])

    # -- decisions ----------------------------------------------------------------

    async def is_moderator(self, actor: Profile | None, facts: ChatFacts) -> bool:
        """Whether ``actor`` moderates the chat (docs/safety.md, "Moderation")."""
        if actor is None:
            return False
        kind = facts.kind
        if kind in (ChatKind.CLASS, ChatKind.CLASS_PARENTS):
            if facts.class_id is None or facts.school_id is None:
                return False
            place = ClassPlace(facts.class_id, facts.school_id)
            return may_in_class(actor, Action.MODERATE_CLASS, place)
        if kind is ChatKind.STAFF or kind is ChatKind.GROUP:
            if self.owns(actor, facts):
                return True
            return facts.school_id is not None and may_in_school(
                actor, Action.MODERATE_SCHOOL, facts.school_id
            )
        # A direct chat: the admins of its members' schools.
        admin_of = schools_of(actor, Role.ADMIN)
        if not admin_of:
            return False
        for oid in facts.members:
            if admin_of & schools_of(await self.profile(oid)):
                return True
        return False

    async def moderators(self, facts: ChatFacts) -> set[int]:
        """Everyone who moderates the chat (the recipients of its reports)."""
        if facts.kind in (ChatKind.CLASS, ChatKind.CLASS_PARENTS) and facts.class_id is not None:
            found = await self._store.class_teachers(facts.class_id)
            if facts.school_id is not None:
                found |= await self._store.school_admins([facts.school_id])
            return found
        if facts.kind in (ChatKind.STAFF, ChatKind.GROUP) and facts.school_id is not None:
            found = await self._store.school_admins([facts.school_id])
            if facts.owner is not None and self.owns(await self.profile(facts.owner), facts):
                found.add(facts.owner)
            return found
        schools: set[str] = set()
        for oid in facts.members:
            schools |= schools_of(await self.profile(oid))
        return await self._store.school_admins(sorted(schools))

    @staticmethod
    def owns(actor: Profile | None, facts: ChatFacts) -> bool:
        """Whether ``actor`` holds the powers of the group's owner now: she is
        its stored owner *and* may ``own_group`` in its school (is its staff).

        Being the stored owner is no right by itself: a teacher who leaves
        the staff and stays on the roster (as a parent, say) stays a member
        of her groups, and loses their moderation and their members.
        """
        return (
            actor is not None
            and facts.kind is ChatKind.GROUP
            and facts.owner == actor.person.oid
            and facts.school_id is not None
            and may_in_school(actor, Action.OWN_GROUP, facts.school_id)
        )

    async def audit_school(self, actor: Profile, facts: ChatFacts) -> str | None:
        """The school whose admins read the audit row of an action in this chat."""
        if facts.school_id is not None:
            return facts.school_id
        admin_of = schools_of(actor, Role.ADMIN)
        for oid in facts.members:
            shared = admin_of & schools_of(await self.profile(oid))
            if shared:
                return min(shared)
        return None

    async def check_post(self, oid: int, facts: ChatFacts, text: str) -> PostPermit:
        """Everything but the mute and announcements checks, which the store
        makes in the transaction that stores the post (docs/safety.md)."""
        if oid not in facts.members:
            raise ce.chat_not_found(facts.id)
        actor = await self.profile(oid)
        await self._check_still_allowed(oid, actor, facts)
        moderator = await self._moderates_kept(actor, facts)
        tier = tier_of(actor, facts.school_id)
        text, masked = await self._filtered(tier, facts, text)
        await self.limits.take(oid, facts.id, tier)
        return PostPermit(text=text, moderator=moderator, masked=masked)

    async def _moderates_kept(self, actor: Profile | None, facts: ChatFacts) -> bool:
        """:meth:`is_moderator`, remembered while the facts and the profile are current."""
        if actor is None:
            return False
        key = (facts.id, actor.person.oid)
        kept = self._moderates.get(key)
        if kept is not None and kept[0] is facts and kept[1] is actor:
            return kept[2]
        moderator = await self.is_moderator(actor, facts)
        if len(self._moderates) >= MAX_PROFILES:
            self._moderates.clear()
        self._moderates[key] = (facts, actor, moderator)
        return moderator

    async def _check_still_allowed(self, oid: int, actor: Profile | None, facts: ChatFacts) -> None:
        """The roster may have changed since the person joined the chat."""
        if facts.kind is ChatKind.DIRECT:
            others = [m for m in facts.members if m != oid]
            other = await self.profile(others[0]) if others else None
            if actor is None or other is None or not may_reply(actor, other):
                raise ce.forbidden("you may no longer write to this person")
        elif facts.kind is ChatKind.GROUP and not self._in_school(actor, facts.school_id):
            raise ce.forbidden("you are no longer in this group's school")

    @staticmethod
    def _in_school(actor: Profile | None, school_id: str | None) -> bool:
        if school_id is None:
            return True
        return actor is not None and may_in_school(actor, Action.BE_ADDED_TO_GROUP, school_id)

    async def _filtered(self, tier: Tier, facts: ChatFacts, text: str) -> tuple[str, bool]:
        if not facts.has_minor(self.today()):
            return text, False
        return _screened(tier, await self.chat_settings(facts), text)

    async def check_text(self, actor: Profile | None, school_id: str, text: str) -> str:
        """A text that is not a post but is shown to others (a group's or a room's
        title, a moderator's note to a reporter), as it may be stored.

        The same filter and link rule as a post in a chat with minors, by the
        school's settings: such a text reaches the school's children wherever it is
        shown, so it is always filtered.  Returns the text, masked if the school
        masks; raises ``content.link_forbidden`` or ``content.blocked``.
        """
        settings = await self.settings(school_id)
        return _screened(tier_of(actor, school_id), settings, text)[0]

    async def take_send(self, oid: int, actor: Profile | None, school_id: str | None) -> None:
        """Charge a send that is not a post in a chat (creating a group)."""
        await self.limits.take(oid, None, tier_of(actor, school_id))

    async def check_group_members(
        self, actor: Profile, school_id: str, people: Sequence[int]
    ) -> None:
        """``actor`` may fill a group of ``school_id`` with ``people``."""
        if not may_in_school(actor, Action.ADD_TO_GROUP, school_id):
            raise ce.forbidden("only the school's teachers and admins fill its groups")
        for oid in sorted(set(people)):
            if oid == actor.person.oid:
                continue
            person = await self.person(oid)
            if not may_in_school(person, Action.BE_ADDED_TO_GROUP, school_id):
                raise ce.forbidden(f"person {oid} is not of school {school_id}")
