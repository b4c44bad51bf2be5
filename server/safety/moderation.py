"""What a chat's moderators do: delete, mute, announcements-only, pin, remove.

Each action is checked against the policy (the actor moderates the chat,
docs/safety.md), stored as a chat event together with its audit row in one
transaction, and then published, so every member sees it in the chat's
order, with who did it.
"""

from __future__ import annotations

from typing import Any

from server.chats.service import ChatService
from server.clock import Clock
from server.errors import chats as ce
from server.errors import safety as se
from server.model.chats import Ack, ChatKind
from server.model.safety import AuditRecord, ChatFacts
from server.policy.guard import Guard
from server.roster.model import Profile
from server.store.base import Store


class Moderation:
    """Moderator actions on behalf of one person at a time."""

    def __init__(self, store: Store, chats: ChatService, clock: Clock) -> None:
        self._store = store
        self._chats = chats
        self._guard: Guard = chats.guard
        self._clock = clock

    async def _moderator(self, oid: int, chat_id: str) -> tuple[Profile, ChatFacts]:
        """The actor's profile and the chat, if the actor moderates it.

        A member who does not moderate is told so; to anyone else the chat
        does not exist.
        """
        facts = await self._guard.facts(chat_id)
        actor = await self._guard.profile(oid)
        if actor is None or not await self._guard.is_moderator(actor, facts):
            if oid in facts.members:
                raise se.not_moderator()
            raise ce.chat_not_found(chat_id)
        return actor, facts

    async def _audit(
        self,
        actor: Profile,
        facts: ChatFacts,
        action: str,
        *,
        target: int | None = None,
        message_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        return AuditRecord(
            school_id=await self._guard.audit_school(actor, facts),
            actor=actor.person.oid,
            action=action,
            chat_id=facts.id,
            target=target,
            message_id=message_id,
            details=details or {},
        )

    async def delete(self, oid: int, chat_id: str, message_id: int, *, key: str | None) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        audit = await self._audit(actor, facts, "message.delete", message_id=message_id)
        ack = await self._store.moderator_delete(
            chat_id=chat_id,
            actor=oid,
            message_id=message_id,
            key=key,
            now=self._clock.time(),
            audit=audit,
        )
        if not ack.duplicate:
            await self._chats.publish(ack.event)
        return ack

    async def mute(self, oid: int, chat_id: str, person: int, seconds: int) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        await self._check_target(facts, oid, person)
        until = self._clock.time() + seconds
        data = {"action": "mute", "person": person, "until": until}
        details = {"seconds": seconds, "until": until}
        audit = await self._audit(actor, facts, "member.mute", target=person, details=details)
        return await self._moderate(facts, oid, data, audit)

    async def unmute(self, oid: int, chat_id: str, person: int) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        data = {"action": "unmute", "person": person}
        audit = await self._audit(actor, facts, "member.unmute", target=person)
        return await self._moderate(facts, oid, data, audit)

    async def announcements(self, oid: int, chat_id: str, on: bool) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        data = {"action": "announcements", "on": on}
        audit = await self._audit(actor, facts, "chat.announcements", details={"on": on})
        return await self._moderate(facts, oid, data, audit)

    async def pin(self, oid: int, chat_id: str, message_id: int | None) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        if message_id is None:
            data: dict[str, Any] = {"action": "unpin"}
            audit = await self._audit(actor, facts, "message.unpin", message_id=facts.pinned)
        else:
            data = {"action": "pin", "id": message_id}
            audit = await self._audit(actor, facts, "message.pin", message_id=message_id)
        return await self._moderate(facts, oid, data, audit)

    async def remove(self, oid: int, chat_id: str, person: int) -> Ack:
        actor, facts = await self._moderator(oid, chat_id)
        if facts.kind is not ChatKind.GROUP:
            raise ce.Conflict(
                ce.CHAT_MEMBERS_FIXED, f"the members of a {facts.kind.value} chat follow the roster"
            )
        if person == facts.owner:
            raise se.invalid("the owner cannot be removed from their group")
        if person not in facts.members:
            raise se.invalid(f"person {person} is not a member of this chat")
        audit = await self._audit(actor, facts, "member.remove", target=person)
        change = await self._store.moderator_remove(
            chat_id=chat_id, actor=oid, person=person, now=self._clock.time(), audit=audit
        )
        if change is None:  # pragma: no cover - checked as a member just above
            raise se.invalid(f"person {person} is not a member of this chat")
        await self._chats.publish_membership(change)
        return Ack(change.event)

    async def _check_target(self, facts: ChatFacts, oid: int, person: int) -> None:
        if person == oid:
            raise se.invalid("a moderator cannot mute themselves")
        if person not in facts.members:
            raise se.invalid(f"person {person} is not a member of this chat")
        if await self._guard.is_moderator(await self._guard.profile(person), facts):
            raise se.invalid("a moderator of the chat cannot be muted")

    async def _moderate(
        self, facts: ChatFacts, oid: int, data: dict[str, Any], audit: AuditRecord
    ) -> Ack:
        ack = await self._store.moderate(
            chat_id=facts.id, actor=oid, data=data, now=self._clock.time(), audit=audit
        )
        await self._chats.publish(ack.event)
        return ack
