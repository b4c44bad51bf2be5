"""Chat requests arriving on a WebSocket session, answered with one reply each.

Each handler is marked with the request it serves (:func:`server.dispatch.handles`);
the connection routes every chat message here.  Refusals are raised as
:class:`~server.errors.ZvonokError` and become ``error`` frames with the
request's id.
"""

from __future__ import annotations

from server.dispatch import handles
from server.errors import chats as e
from server.model.chats import Ack
from signaling import chat as wire
from signaling.codec import RequestId
from signaling.schema import given

from .feed import ChatFeed
from .presence import Presence
from .service import ChatService


def ack_message(ack: Ack) -> wire.AckMsg:
    return wire.AckMsg(
        chat=ack.chat,
        seq=ack.seq,
        message_id=ack.message_id,
        duplicate=ack.duplicate,
        masked=ack.masked,
    )


class ChatRequests:
    """The chat side of one person's session."""

    def __init__(
        self, oid: int, *, service: ChatService, presence: Presence, feed: ChatFeed
    ) -> None:
        self._oid = oid
        self._service = service
        self._presence = presence
        self._feed = feed

    @handles(wire.Sync)
    async def sync(self, message: wire.Sync, rid: RequestId | None) -> None:
        await self._feed.sync(message.positions, rid)  # replies itself, after the catch-up

    @handles(wire.ListChats)
    async def list_chats(self, message: wire.ListChats, rid: RequestId | None) -> wire.ChatList:
        return wire.ChatList(chats=[c.to_json() for c in await self._service.chats(self._oid)])

    @handles(wire.GetChat)
    async def get_chat(self, message: wire.GetChat, rid: RequestId | None) -> wire.ChatInfo:
        return wire.ChatInfo(chat=(await self._service.chat(self._oid, message.chat)).to_json())

    @handles(wire.GetDetails)
    async def get_details(
        self, message: wire.GetDetails, rid: RequestId | None
    ) -> wire.ChatDetails:
        return await self._service.details(self._oid, message.chat)

    @handles(wire.Send)
    async def send(self, m: wire.Send, rid: RequestId | None) -> wire.AckMsg:
        ack = await self._service.send(self._oid, m.chat, m.text, key=m.key, reply_to=m.reply_to)
        return ack_message(ack)

    @handles(wire.Edit)
    async def edit(self, m: wire.Edit, rid: RequestId | None) -> wire.AckMsg:
        ack = await self._service.edit(self._oid, m.chat, m.message_id, m.text, key=m.key)
        return ack_message(ack)

    @handles(wire.Delete)
    async def delete(self, m: wire.Delete, rid: RequestId | None) -> wire.AckMsg:
        return ack_message(await self._service.delete(self._oid, m.chat, m.message_id, key=m.key))

    @handles(wire.React)
    async def react(self, m: wire.React, rid: RequestId | None) -> wire.AckMsg:
        ack = await self._service.react(
            self._oid, m.chat, m.message_id, m.emoji, on=m.on, key=given(m.key)
        )
        return ack_message(ack)

    @handles(wire.History)
    async def history(self, m: wire.History, rid: RequestId | None) -> wire.HistoryPage:
        events, more = await self._service.history(
            self._oid, m.chat, before=given(m.before), after=given(m.after), limit=m.limit
        )
        return wire.HistoryPage(chat=m.chat, events=[ev.to_json() for ev in events], more=more)

    @handles(wire.MarkRead)
    async def mark_read(self, m: wire.MarkRead, rid: RequestId | None) -> wire.Marked:
        return wire.Marked(
            chat=m.chat, read_seq=await self._service.mark_read(self._oid, m.chat, m.seq)
        )

    @handles(wire.Typing)
    async def typing(self, m: wire.Typing, rid: RequestId | None) -> None:
        if not self._feed.is_member(m.chat):
            raise e.chat_not_found(m.chat)
        await self._service.typing(self._oid, m.chat)

    @handles(wire.OpenDirect)
    async def open_direct(self, m: wire.OpenDirect, rid: RequestId | None) -> wire.ChatInfo:
        return wire.ChatInfo(chat=(await self._service.open_direct(self._oid, m.person)).to_json())

    @handles(wire.CreateGroup)
    async def create_group(self, m: wire.CreateGroup, rid: RequestId | None) -> wire.ChatInfo:
        summary = await self._service.create_group(
            self._oid, m.school, m.title, m.members, key=m.key
        )
        return wire.ChatInfo(chat=summary.to_json())

    @handles(wire.ChangeMembers)
    async def change_members(self, m: wire.ChangeMembers, rid: RequestId | None) -> wire.ChatInfo:
        summary = await self._service.change_members(self._oid, m.chat, m.add, m.remove)
        return wire.ChatInfo(chat=summary.to_json())

    @handles(wire.QueryPresence)
    async def query_presence(
        self, m: wire.QueryPresence, rid: RequestId | None
    ) -> wire.PresenceList:
        return wire.PresenceList(people=await self._presence.query(self._oid, m.people))
