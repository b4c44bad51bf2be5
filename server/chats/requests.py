"""Chat requests arriving on a WebSocket session, answered with one reply each.

The connection hands every chat message here; refusals are raised as
:class:`~server.errors.ZvonokError` and become ``error`` frames with the
request's id.
"""

from __future__ import annotations

from server.errors import ZvonokError
from signaling import chat as wire
from signaling.codec import RequestId
from signaling.messages import Message

from . import errors as e
from .feed import ChatFeed
from .model import Ack
from .presence import Presence
from .service import ChatService

CHAT_REQUESTS: tuple[type[Message], ...] = (
    wire.Sync,
    wire.ListChats,
    wire.GetChat,
    wire.Send,
    wire.Edit,
    wire.Delete,
    wire.React,
    wire.History,
    wire.MarkRead,
    wire.Typing,
    wire.OpenDirect,
    wire.CreateGroup,
    wire.ChangeMembers,
    wire.QueryPresence,
)


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

    async def handle(self, message: Message, rid: RequestId | None) -> Message | None:
        """The reply to ``message``; ``None`` when it has none (or was sent already)."""
        oid, chats = self._oid, self._service
        match message:
            case wire.Sync(positions=positions):
                await self._feed.sync(positions, rid)  # replies itself, after the catch-up
                return None
            case wire.ListChats():
                return wire.ChatList(chats=[c.to_json() for c in await chats.chats(oid)])
            case wire.GetChat(chat=chat_id):
                return wire.ChatInfo(chat=(await chats.chat(oid, chat_id)).to_json())
            case wire.Send(chat=chat_id, text=text, key=key, reply_to=reply_to):
                return ack_message(await chats.send(oid, chat_id, text, key=key, reply_to=reply_to))
            case wire.Edit(chat=chat_id, message_id=message_id, text=text, key=key):
                return ack_message(await chats.edit(oid, chat_id, message_id, text, key=key))
            case wire.Delete(chat=chat_id, message_id=message_id, key=key):
                return ack_message(await chats.delete(oid, chat_id, message_id, key=key))
            case wire.React(chat=chat_id, message_id=message_id, emoji=emoji, on=on, key=key):
                return ack_message(
                    await chats.react(oid, chat_id, message_id, emoji, on=on, key=key)
                )
            case wire.History(chat=chat_id, before=before, after=after, limit=limit):
                events, more = await chats.history(
                    oid, chat_id, before=before, after=after, limit=limit
                )
                return wire.HistoryPage(
                    chat=chat_id, events=[ev.to_json() for ev in events], more=more
                )
            case wire.MarkRead(chat=chat_id, seq=seq):
                return wire.Marked(chat=chat_id, read_seq=await chats.mark_read(oid, chat_id, seq))
            case wire.Typing(chat=chat_id):
                if not self._feed.is_member(chat_id):
                    raise e.chat_not_found(chat_id)
                await chats.typing(oid, chat_id)
                return None
            case wire.OpenDirect(person=person):
                return wire.ChatInfo(chat=(await chats.open_direct(oid, person)).to_json())
            case wire.CreateGroup(school=school, title=title, members=members, key=key):
                summary = await chats.create_group(oid, school, title, members, key=key)
                return wire.ChatInfo(chat=summary.to_json())
            case wire.ChangeMembers(chat=chat_id, add=add, remove=remove):
                summary = await chats.change_members(oid, chat_id, add, remove)
                return wire.ChatInfo(chat=summary.to_json())
            case wire.QueryPresence(people=people):
                return wire.PresenceList(people=await self._presence.query(oid, people))
            case other:
                raise ZvonokError("message.unknown_type", f"{other.TYPE} is not a chat request")
