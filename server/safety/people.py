"""Finding people and a parent's view of a young child's chats.

The people search shows exactly those the rules let the searcher talk to
(``find`` in docs/safety.md); oversight shows a parent the list of their
young child's chats and with whom, never their content.
"""

from __future__ import annotations

from typing import Any

from server.errors import chats as ce
from server.policy.guard import Guard, schools_of
from server.policy.policy import DEFAULT_OVERSIGHT_AGE, may_find, may_oversee
from server.policy.settings import parse_settings
from server.roster.model import Person, Role, collation_key
from server.roster.model import SchoolRole as RosterRole
from server.store.base import Store
from signaling.messages import SchoolRole
from signaling.safety import PersonFound

MAX_FOUND = 50
MAX_CANDIDATES = 500  # name matches looked at per search, before the rules


def _role(role: RosterRole) -> SchoolRole:
    return {"school_id": role.school_id, "school_name": role.school_name, "role": role.role.value}


def _entry(person: Person, roles: list[SchoolRole]) -> PersonFound:
    return {"oid": person.oid, "full_name": person.full_name, "roles": roles}


class People:
    def __init__(self, store: Store, guard: Guard) -> None:
        self._store = store
        self._guard = guard

    async def find(self, oid: int, query: str) -> list[PersonFound]:
        """People whose name contains every word of ``query``, among those
        ``oid`` may find, sorted by name."""
        words = [collation_key(word) for word in query.split()]
        actor = await self._guard.profile(oid)
        if actor is None or not words:
            return []
        candidates = {p.oid: p for p in await self._store.school_people(sorted(schools_of(actor)))}
        for child in actor.children:
            candidates.setdefault(child.person.oid, child.person)
        named = sorted(
            (p for p in candidates.values() if all(w in collation_key(p.full_name) for w in words)),
            key=Person.sort_key,
        )[:MAX_CANDIDATES]
        found: list[PersonFound] = []
        for person in named:
            profile = await self._guard.profile(person.oid)
            if profile is not None and may_find(actor, profile):
                found.append(_entry(person, [_role(role) for role in profile.roles]))
                if len(found) >= MAX_FOUND:
                    break
        return found

    async def child_chats(self, oid: int, child_oid: int) -> list[dict[str, Any]]:
        """The chats of ``child_oid`` and their members, for an overseeing parent."""
        parent = await self._guard.profile(oid)
        child = await self._store.profile(child_oid)
        if parent is None or child is None:
            raise ce.NotFound(ce.PERSON_NOT_FOUND, f"no child {child_oid} of yours")
        if child_oid not in {c.person.oid for c in parent.children}:
            raise ce.NotFound(ce.PERSON_NOT_FOUND, f"no child {child_oid} of yours")
        schools = sorted(schools_of(child, Role.STUDENT))
        stored = await self._store.school_settings(schools)
        ages = {s: parse_settings(stored.get(s, {})).oversight_age for s in schools}
        if not may_oversee(parent, child, today=self._guard.today(), oversight_age=ages):
            oldest = max(ages.values(), default=DEFAULT_OVERSIGHT_AGE)
            raise ce.forbidden(
                f"parents see the chat list of children under {oldest} only "
                "(the school's oversight age)"
            )
        names: dict[int, str] = {}
        out: list[dict[str, Any]] = []
        for chat_id, kind, title, members in await self._store.chat_list_of(child_oid):
            listed = []
            for member in members:
                if member not in names:
                    person = await self._store.person(member)
                    names[member] = person.full_name if person is not None else str(member)
                listed.append({"oid": member, "full_name": names[member]})
            out.append({"id": chat_id, "kind": kind, "title": title, "members": listed})
        return out
