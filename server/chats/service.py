"""What people do in chats, for the WebSocket and the HTTP API alike.

:class:`ChatService` validates a request, applies the per-person send rate,
has the store commit it (the store checks membership and authorship in the
same transaction that takes the sequence number), and only then publishes
the committed event on the bus.  An acknowledgement therefore always names
an event that is durably stored, and a retried request with the same
idempotency key gets the first acknowledgement back without a second event.

Who may do what is the safety policy's (``docs/safety.md``): every request
asks the :class:`~server.policy.guard.Guard` first, which reads the roster
as it is at that moment.  Muting and announcements-only are checked by the
store in the transaction that stores a post.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from server.bus import Bus, chat_topic, person_topic
from server.clock import Clock
from server.config import ChatConfig
from server.errors import StoreUnavailable, ZvonokError
from server.errors import chats as e
from server.metrics import Metrics
from server.model.chats import (
    Ack,
    ChatEvent,
    ChatKind,
    ChatSummary,
    EventKind,
    MembershipChange,
    Retry,
)
from server.policy.guard import Guard
from server.policy.limits import Tier
from server.policy.policy import Action, may_in_school, may_message
from server.roster.model import ROLE_ORDER
from server.store.base import Store
from signaling.chat import ChatDetails, MemberEntry, Receipt, TypingNotice, is_reaction
from signaling.codec import encode

from .feed import event_frame

log = logging.getLogger(__name__)

MAX_GROUP_MEMBERS = 500
END = 2**53  # past every sequence number: "before END" is the latest page


class ChatService:
    """Chat operations on behalf of one signed-in person at a time."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        config: ChatConfig,
        *,
        max_text: int,
        guard: Guard,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self._store = store
        self._bus = bus
        self._clock = clock
        self._config = config
        self._max_text = max_text
        self.guard = guard  # made by the app (server/app.py), with the send limits it holds

    # -- changes (sequenced, stored, published after commit) -------------------

    async def send(
        self, oid: int, chat_id: str, text: str, *, key: str, reply_to: int | None = None
    ) -> Ack:
        self._check_text(text)
        try:
            facts = await self.guard.facts(chat_id, member=oid)
            permit = await self.guard.check_post(oid, facts, text)
        except ZvonokError as refusal:
            # A retry of a post that was stored gets its first ack back, even
            # if its author may no longer post (or not this fast).  Looked up
            # only now, so that a post that goes ahead reads nothing more.
            retry = Retry(oid, key, EventKind.MESSAGE, chat_id, "post", (text, reply_to), 0)
            return await self._replayed(refusal, retry)
        ack = await self._store.post(
            chat_id=chat_id,
            author=oid,
            text=permit.text,
            reply_to=reply_to,
            key=key,
            now=self._now(),
            moderator=permit.moderator,
        )
        await self._published(ack)
        return dataclasses.replace(ack, masked=permit.masked) if permit.masked else ack

    async def edit(
        self, oid: int, chat_id: str, message_id: int, text: str, *, key: str | None = None
    ) -> Ack:
        self._check_text(text)
        try:
            facts = await self.guard.facts(chat_id, member=oid)
            permit = await self.guard.check_post(oid, facts, text)
        except ZvonokError as refusal:
            if key is None:
                raise
            retry = Retry(oid, key, EventKind.EDIT, chat_id, "edit", (message_id, text), 1)
            return await self._replayed(refusal, retry)
        ack = await self._store.edit(
            chat_id=chat_id,
            author=oid,
            message_id=message_id,
            text=permit.text,
            key=key,
            now=self._now(),
            moderator=permit.moderator,
        )
        await self._published(ack)
        return dataclasses.replace(ack, masked=permit.masked) if permit.masked else ack

    async def delete(
        self, oid: int, chat_id: str, message_id: int, *, key: str | None = None
    ) -> Ack:
        try:
            await self._take(oid, chat_id)
        except ZvonokError as refusal:
            if key is None:
                raise
            retry = Retry(oid, key, EventKind.DELETE, chat_id, "delete", (message_id,))
            return await self._replayed(refusal, retry)
        ack = await self._store.delete(
            chat_id=chat_id, actor=oid, message_id=message_id, key=key, now=self._now()
        )
        await self._published(ack)
        return ack

    async def react(
        self,
        oid: int,
        chat_id: str,
        message_id: int,
        emoji: str,
        *,
        on: bool = True,
        key: str | None = None,
    ) -> Ack:
        if not is_reaction(emoji):  # the codec checks the wire; this, every other way in
            raise ZvonokError(e.CHAT_INVALID, "a reaction is an emoji")
        try:
            await self._take(oid, chat_id)
        except ZvonokError as refusal:
            if key is None:
                raise
            args = (message_id, emoji, on)
            retry = Retry(oid, key, EventKind.REACTION, chat_id, "react", args)
            return await self._replayed(refusal, retry)
        ack = await self._store.react(
            chat_id=chat_id,
            actor=oid,
            message_id=message_id,
            emoji=emoji,
            on=on,
            key=key,
            now=self._now(),
        )
        await self._published(ack)
        return ack

    async def open_direct(self, oid: int, other: int) -> ChatSummary:
        if other == oid:
            raise ZvonokError(e.CHAT_INVALID, "a direct chat needs another person")
        theirs = await self.guard.person(other)
        mine = await self.guard.profile(oid)
        if mine is None or not may_message(mine, theirs):
            raise e.forbidden("the school's rules do not let you write to this person")
        summary, change = await self._store.open_direct(a=oid, b=other, now=self._now())
        if change is not None:
            await self.publish_membership(change)
        return summary

    async def create_group(
        self, oid: int, school_id: str, title: str, members: Sequence[int], *, key: str | None
    ) -> ChatSummary:
        title = title.strip()
        if not title:
            raise ZvonokError(e.CHAT_INVALID, "a group needs a title")
        if len(set(members)) > MAX_GROUP_MEMBERS:
            raise ZvonokError(e.CHAT_INVALID, f"a group has at most {MAX_GROUP_MEMBERS} members")
        creator = await self.guard.profile(oid)
        if creator is None or not may_in_school(creator, Action.CREATE_GROUP, school_id):
            raise e.forbidden("only the school's teachers and admins create groups")
        await self.guard.check_group_members(creator, school_id, members)
        title = await self.guard.check_text(creator, school_id, title)  # members see it
        await self.guard.take_send(oid, creator, school_id)
        summary, change = await self._store.create_group(
            creator=oid, school_id=school_id, title=title, members=members, key=key, now=self._now()
        )
        await self.publish_membership(change)
        return summary

    async def change_members(
        self, oid: int, chat_id: str, add: Sequence[int], remove: Sequence[int]
    ) -> ChatSummary:
        summary = await self._store.chat(oid, chat_id)
        # Whose request this is comes before what it asks: a non-owner is
        # told so (``chat.not_owner``), whoever they would add, and so is an
        # owner who is no longer staff of the group's school (the roster is
        # asked now: ownership is no right kept).  The store checks the
        # owner and the members again in the transaction that changes them.
        facts = await self.guard.facts(chat_id, member=oid)
        if facts.kind is not ChatKind.GROUP:
            raise e.members_fixed(facts.kind.value)
        actor = await self.guard.profile(oid)
        if facts.owner != oid:
            raise e.not_owner()
        if actor is None or not self.guard.owns(actor, facts):
            raise e.not_owner(
                "the owner of a group changes its members only while staff of its school"
            )
        if add and summary.school_id is not None:
            await self.guard.check_group_members(actor, summary.school_id, add)
        change = await self._store.change_members(
            chat_id=chat_id, actor=oid, add=add, remove=remove, now=self._now()
        )
        if change is not None:
            await self.publish_membership(change)
            summary = await self._store.chat(oid, chat_id)
        return summary

    # -- reading --------------------------------------------------------------

    async def chats(self, oid: int) -> list[ChatSummary]:
        return await self._store.chats(oid)

    async def chat(self, oid: int, chat_id: str) -> ChatSummary:
        return await self._store.chat(oid, chat_id)

    async def details(self, oid: int, chat_id: str) -> ChatDetails:
        """Who is in the chat and its moderation state, for a member or a
        moderator of it.  Membership is read from the store now, not from
        kept facts, so a member removed a moment ago is refused."""
        members = await self._store.chat_members(chat_id)
        facts = await self._store.chat_facts(chat_id)
        if facts is None:
            raise e.chat_not_found(chat_id)
        if all(m.oid != oid for m in members):
            await self._check_moderator_reads(oid, chat_id)
        guard = self.guard
        asker_moderates = await guard.is_moderator(await guard.profile(oid), facts)
        now = self._now()

        def live(until: float | None) -> float | None:
            return until if until is not None and until > now else None

        entries: list[MemberEntry] = []
        own_mute: float | None = None
        for member in members:
            profile = await guard.profile(member.oid)
            roles = sorted(
                {
                    r.role
                    for r in (profile.roles if profile is not None else ())
                    if facts.school_id is None or r.school_id == facts.school_id
                },
                key=ROLE_ORDER.__getitem__,
            )
            if member.oid == oid:
                own_mute = live(member.muted_until)
            entries.append(
                {
                    "oid": member.oid,
                    "full_name": member.full_name,
                    "roles": [role.value for role in roles],
                    "moderator": await guard.is_moderator(profile, facts),
                    "muted_until": live(member.muted_until)
                    if asker_moderates or member.oid == oid
                    else None,
                }
            )
        return ChatDetails(
            chat=chat_id,
            members=entries,
            owner=facts.owner,
            moderator=asker_moderates,
            announcements=facts.announcements,
            pinned=facts.pinned,
            muted_until=own_mute,
        )

    async def history(
        self,
        oid: int,
        chat_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
    ) -> tuple[list[ChatEvent], bool]:
        """A page of events in ascending order, and whether there are more
        in the direction paged (older with ``before`` or by default, newer
        with ``after``)."""
        limit = max(1, min(limit, self._config.history_page))
        newer = after is not None and before is None
        lower, upper = after or 0, None if newer else (before if before is not None else END)
        # A member's page is read in the snapshot that finds them a member:
        # a removal is either before it (nothing) or after it (nothing of
        # what followed the removal is in the page).
        events = await self._store.member_events(
            chat_id, oid, after=lower, before=upper, limit=limit + 1
        )
        if events is None:
            await self._check_moderator_reads(oid, chat_id)
            events = await self._store.events(chat_id, after=lower, before=upper, limit=limit + 1)
        if newer:
            return events[:limit], len(events) > limit
        return events[-limit:], len(events) > limit

    # -- read positions and typing (not sequenced) ------------------------------

    async def mark_read(self, oid: int, chat_id: str, seq: int) -> int:
        read = await self._store.mark_read(chat_id=chat_id, oid=oid, seq=seq)
        frame = encode(Receipt(chat=chat_id, person=oid, seq=read))
        await self._bus.publish(chat_topic(chat_id), {"chat": chat_id, "frame": frame})
        return read

    async def typing(self, oid: int, chat_id: str) -> None:
        """Tell the chat's other members that ``oid`` is typing, if she is
        one of them now (the store says, not the connection's feed, which
        may not have heard of a removal yet).  Never stored; dropped first
        under load."""
        if not await self._store.is_member(chat_id, oid):
            raise e.chat_not_found(chat_id)
        frame = encode(TypingNotice(chat=chat_id, person=oid))
        await self._bus.publish(
            chat_topic(chat_id), {"chat": chat_id, "frame": frame, "from": oid, "ephemeral": True}
        )

    # -- publishing -------------------------------------------------------------

    async def _published(self, ack: Ack) -> None:
        if not ack.duplicate:  # a retry's event went out the first time
            await self.publish(ack.event)

    async def publish(self, event: ChatEvent) -> None:
        """Announce a committed event to the chat's subscribers (its members'
        feeds, and the guard, which forgets the chat's facts on a ``kind``
        that changes them)."""
        announced: dict[str, object] = {
            "chat": event.chat,
            "seq": event.seq,
            "kind": event.kind.value,
            "frame": event_frame(event),
            "at": event.at,
        }
        if self.metrics is not None:
            self.metrics.events.labels(event.kind.value).inc()
        if event.kind is EventKind.MEMBERS:
            # Each member's feed drops the chat on the event that removes them.
            announced["removed"] = list(event.data.get("removed", ()))
        await self._bus.publish(chat_topic(event.chat), announced)

    async def publish_membership(self, change: MembershipChange) -> None:
        """Announce a committed membership change, to the chat and to the
        people it added (so their connections subscribe) and removed."""
        event = change.event
        await self.publish(event)
        for oid in change.added:
            await self._bus.publish(person_topic(oid), {"joined": event.chat, "seq": event.seq})
        for oid in change.removed:
            await self._bus.publish(person_topic(oid), {"left": event.chat, "seq": event.seq})

    # -- checks -----------------------------------------------------------------

    async def _replayed(self, refusal: ZvonokError, retry: Retry) -> Ack:
        """The first ack of a refused request if its key stored it already;
        else the refusal stands."""
        if isinstance(refusal, StoreUnavailable):
            raise refusal
        first = await self._store.replayed(retry)
        if first is None:
            raise refusal
        return first

    def _check_text(self, text: str) -> None:
        if not text.strip():
            raise ZvonokError(e.MESSAGE_EMPTY, "the message is empty")
        if len(text) > self._max_text:
            raise ZvonokError(
                e.MESSAGE_TOO_LONG, f"a message has at most {self._max_text} characters"
            )

    async def _take(self, oid: int, chat_id: str) -> None:
        """Charge a change that is not a post (delete, react) at the parents'
        rate: cheap to check, and every role may do at least that much."""
        await self.guard.limits.take(oid, chat_id, Tier.PARENT)

    async def _check_moderator_reads(self, oid: int, chat_id: str) -> None:
        """A moderator who is not a member reads a chat they moderate, never
        a direct one; to anyone else the chat does not exist."""
        facts = await self._store.chat_facts(chat_id)
        if facts is None or facts.kind is ChatKind.DIRECT:
            raise e.chat_not_found(chat_id)
        if not await self.guard.is_moderator(await self.guard.profile(oid), facts):
            raise e.chat_not_found(chat_id)

    def _now(self) -> float:
        return self._clock.time()
