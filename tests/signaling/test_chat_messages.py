"""The chat messages on the wire: round trips, golden bytes and bad bodies."""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from signaling import chat as c
from signaling import errors as codes
from signaling.client import Client
from signaling.codec import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Envelope,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from signaling.errors import ProtocolError
from signaling.fields import MAX_SAFE_INT
from signaling.messages import Hello, Limits, Message, Welcome
from tests.signaling.test_room_messages import CLIENT_SAMPLES as ROOM_CLIENT_SAMPLES
from tests.signaling.test_room_messages import SERVER_SAMPLES as ROOM_SERVER_SAMPLES
from tests.signaling.test_safety_messages import CLIENT_SAMPLES as SAFETY_CLIENT_SAMPLES
from tests.signaling.test_safety_messages import SERVER_SAMPLES as SAFETY_SERVER_SAMPLES

PERSON = {
    "oid": 1,
    "last_name": "Иванова",
    "first_name": "Мария",
    "middle_name": None,
    "full_name": "Иванова Мария",
    "birth_date": "2014-03-08",
}
PROFILE = {"person": PERSON, "roles": [], "classes": [], "children": []}
"""A whole profile: the welcome's is typed (signaling.messages.Profile)."""
EVENT = {
    "chat": "class:5a",
    "seq": 43,
    "kind": "message",
    "author": 1000100003,
    "at": 1_800_000_000.25,
    "data": {"id": 43, "text": "Завтра экскурсия", "reply_to": None},
}
SUMMARY = {
    "id": "class:5a",
    "kind": "class",
    "title": "5А",
    "school_id": "sosh-1",
    "class_id": "5a",
    "members": 28,
    "last_seq": 43,
    "read_seq": 40,
    "unread": 2,
    "last_message": EVENT,
    "peer": None,
}

CHAT_CLIENT_SAMPLES: list[Message] = [
    c.Sync(positions={"class:5a": 41, "direct:1:2": 0}),
    c.Sync(positions={}),
    c.ListChats(),
    c.GetChat(chat="class:5a"),
    c.GetDetails(chat="class:5a"),
    c.Send(chat="class:5a", text="Добрый день!", key="k-1"),
    c.Send(chat="class:5a", text="Да", key="k-2", reply_to=17),
    c.Edit(chat="class:5a", message_id=17, text="исправлено"),
    c.Edit(chat="class:5a", message_id=17, text="исправлено", key="k-3"),
    c.Delete(chat="class:5a", message_id=17),
    c.Delete(chat="class:5a", message_id=17, key="k-4"),
    c.React(chat="class:5a", message_id=17, emoji="👍"),
    c.React(chat="class:5a", message_id=17, emoji="👨‍👩‍👧", on=False, key="k-5"),
    c.History(chat="class:5a"),
    c.History(chat="class:5a", before=120, after=40, limit=200),
    c.MarkRead(chat="class:5a", seq=42),
    c.Typing(chat="class:5a"),
    c.OpenDirect(person=1000100003),
    c.CreateGroup(school="sosh-1", title="Кружок робототехники", members=[1, 2, 3]),
    c.CreateGroup(school="sosh-1", title="Пусто", members=[], key="k-6"),
    c.ChangeMembers(chat="group:7"),
    c.ChangeMembers(chat="group:7", add=(4, 5), remove=(1,)),
    c.QueryPresence(people=[1000100003, 1000100004]),
]
"""One or more sample of every chat message a client sends (for test_codec too)."""

CHAT_SERVER_SAMPLES: list[Message] = [
    c.AckMsg(chat="class:5a", seq=43, message_id=43, duplicate=False),
    c.AckMsg(chat="class:5a", seq=43, message_id=43, duplicate=True),
    c.ChatEventMsg(**EVENT),
    c.ChatEventMsg(
        chat="class:5a",
        seq=44,
        kind="members",
        author=None,
        at=1_800_000_001.0,
        data={"added": [5], "removed": []},
    ),
    c.ChatEventMsg(chat="x", seq=0, kind="future.kind", author=1, at=0.0, data={}),
    c.Gap(chat="class:5a", from_seq=42, to_seq=1541),
    c.Gap(chat="class:5a", from_seq=7, to_seq=7),
    c.Synced(positions={"class:5a": 1541}),
    c.ChatList(chats=[SUMMARY, {**SUMMARY, "id": "staff:sosh-1", "last_message": None}]),
    c.ChatList(chats=[]),
    c.ChatInfo(chat=SUMMARY),
    c.ChatDetails(
        chat="class:5a",
        members=[
            {
                "oid": 1000100003,
                "full_name": "Морозова Ирина Александровна",
                "roles": ["teacher"],
                "moderator": True,
                "muted_until": None,
            }
        ],
        owner=None,
        moderator=False,
        announcements=False,
        pinned=17,
        muted_until=1800000000.0,
    ),
    c.ChatRemoved(chat="group:7"),
    c.HistoryPage(chat="class:5a", events=[EVENT], more=True),
    c.HistoryPage(chat="class:5a", events=[], more=False),
    c.Marked(chat="class:5a", read_seq=42),
    c.TypingNotice(chat="class:5a", person=1000100003),
    c.Receipt(chat="class:5a", person=1000100003, seq=42),
    c.Presence(person=1000100003, online=True, last_seen=None),
    c.Presence(person=1000100003, online=False, last_seen=1_800_000_000.5),
    c.PresenceList(
        people=[
            {"person": 1000100003, "online": True, "last_seen": None},
            {"person": 1000100004, "online": False, "last_seen": 1_800_000_000.5},
        ]
    ),
]
"""One or more sample of every chat message a server sends (for test_codec too)."""

CORE_TYPES = {"hello", "reauth", "ping", "welcome", "reauthed", "pong", "error"}
CORE_TYPES |= {"session.expiring", "goodbye"}


def pack(obj: object) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("message", CHAT_CLIENT_SAMPLES, ids=lambda m: m.TYPE)
@pytest.mark.parametrize("request_id", [None, 5, "req-1"])
def test_client_chat_messages_round_trip(message: Message, request_id: int | str | None) -> None:
    assert decode_client_frame(encode(message, request_id)) == Envelope(message, request_id)


@pytest.mark.parametrize("message", CHAT_SERVER_SAMPLES, ids=lambda m: m.TYPE)
@pytest.mark.parametrize("request_id", [None, 5])
def test_server_chat_messages_round_trip(message: Message, request_id: int | None) -> None:
    assert decode_server_frame(encode(message, request_id)) == Envelope(message, request_id)


def test_every_chat_and_safety_type_is_registered_and_has_a_sample() -> None:
    safety = {m.TYPE for m in (*SAFETY_CLIENT_SAMPLES, *SAFETY_SERVER_SAMPLES)}
    safety |= {m.TYPE for m in (*ROOM_CLIENT_SAMPLES, *ROOM_SERVER_SAMPLES)}
    assert {m.TYPE for m in CHAT_CLIENT_SAMPLES} == set(CLIENT_MESSAGES) - CORE_TYPES - safety
    assert {m.TYPE for m in CHAT_SERVER_SAMPLES} == set(SERVER_MESSAGES) - CORE_TYPES - safety
    for message in CHAT_CLIENT_SAMPLES:
        assert CLIENT_MESSAGES[message.TYPE] is type(message)
    for message in CHAT_SERVER_SAMPLES:
        assert SERVER_MESSAGES[message.TYPE] is type(message)


def test_typing_is_one_type_string_with_a_class_per_direction() -> None:
    assert CLIENT_MESSAGES["typing"] is c.Typing
    assert SERVER_MESSAGES["typing"] is c.TypingNotice
    frame = encode(c.TypingNotice(chat="class:5a", person=3))
    # A client's typing decoded by the server ignores the person field.
    assert decode_client_frame(frame).message == c.Typing(chat="class:5a")
    error = _error(encode(c.Typing(chat="class:5a")), server=True)
    assert "typing.person" in error.message


def test_server_only_chat_types_are_refused_from_a_client() -> None:
    for kind in ("ack", "chat.event", "gap", "synced", "chat.list", "presence"):
        assert _error(pack({"type": kind, "body": {}})).code == codes.MESSAGE_UNKNOWN_TYPE
    for kind in ("send", "sync", "chats", "history", "presence.query"):
        assert _error(pack({"type": kind}), server=True).code == codes.MESSAGE_UNKNOWN_TYPE


def test_chat_event_mirrors_the_models_to_json() -> None:
    from server.model.chats import ChatEvent, EventKind

    event = ChatEvent("class:5a", 43, EventKind.MESSAGE, 7, 1.5, {"id": 43, "text": "x"})
    message = c.ChatEventMsg(**event.to_json())
    assert message.encode() == event.to_json()
    assert decode_server_frame(encode(message)).message == message


# -- defaults and optional fields ---------------------------------------------------------


def test_defaults_when_optional_fields_are_missing_or_nil() -> None:
    def client(kind: str, body: dict[str, Any]) -> Message:
        return decode_client_frame(pack({"type": kind, "body": body})).message

    base = {"chat": "g", "message_id": 1}
    assert client("react", {**base, "emoji": "👍"}) == c.React(chat="g", message_id=1, emoji="👍")
    assert client("react", {**base, "emoji": "👍", "on": None}) == c.React(
        chat="g", message_id=1, emoji="👍", on=True
    )
    assert client("react", {**base, "emoji": "👍", "on": False}) == c.React(
        chat="g", message_id=1, emoji="👍", on=False
    )
    assert client("history", {"chat": "g"}) == c.History(chat="g", limit=50)
    assert client("history", {"chat": "g", "limit": None, "before": None}) == c.History(chat="g")
    assert client("group.members", {"chat": "g"}) == c.ChangeMembers(chat="g", add=(), remove=())
    assert client("group.members", {"chat": "g", "add": None, "remove": [2]}) == c.ChangeMembers(
        chat="g", remove=(2,)
    )
    assert client("send", {"chat": "g", "text": "t", "key": "k", "reply_to": None}) == c.Send(
        chat="g", text="t", key="k"
    )
    assert client("chats", {"anything": 1}) == c.ListChats()


def test_optional_fields_are_omitted_when_unset() -> None:
    assert c.Send(chat="g", text="t", key="k").encode() == {"chat": "g", "text": "t", "key": "k"}
    assert c.Edit(chat="g", message_id=1, text="t").encode() == {
        "chat": "g",
        "message_id": 1,
        "text": "t",
    }
    assert c.Delete(chat="g", message_id=1).encode() == {"chat": "g", "message_id": 1}
    assert c.History(chat="g").encode() == {"chat": "g", "limit": 50}
    assert msgpack.unpackb(encode(c.ListChats())) == {"type": "chats"}
    # Server events keep nil values, as the model's to_json does.
    assert c.Presence(person=1, online=True, last_seen=None).encode()["last_seen"] is None
    assert "author" in c.ChatEventMsg(**{**EVENT, "author": None}).encode()


# -- hello with resume ---------------------------------------------------------------------


def test_hello_resume_round_trips_and_is_omitted_when_none() -> None:
    for resume in (None, {}, {"class:5a": 41, "direct:1:2": 0}):
        hello = Hello(version=1, token="t", client="c", resume=resume)
        assert decode_client_frame(encode(hello, 1)) == Envelope(hello, 1)
    assert "resume" not in Hello(version=1, token="t", client="c").encode()
    assert Hello(version=1, token="t", client="c", resume={}).encode()["resume"] == {}
    nil = pack({"type": "hello", "body": {"v": 1, "token": "t", "client": "c", "resume": None}})
    assert decode_client_frame(nil).message == Hello(version=1, token="t", client="c")


def test_hello_repr_hides_the_token_and_the_positions() -> None:
    text = repr(Hello(version=1, token="secret", client="c", resume={"class:5a": 41}))
    assert "secret" not in text
    assert "class:5a" not in text
    assert "resume=<1 chats>" in text
    assert "resume=None" in repr(Hello(version=1, token="secret", client="c"))


@pytest.mark.parametrize(
    "resume",
    [
        [1, 2],
        {"": 1},
        {"x" * 129: 1},
        {"c": -1},
        {"c": MAX_SAFE_INT + 1},
        {"c": True},
        {"c": 1.0},
        {"c": "1"},
        {b"c": 1},
        {str(i): 0 for i in range(10_001)},
    ],
)
def test_hello_bad_resume_is_refused(resume: object) -> None:
    body = {"v": 1, "token": "t", "client": "c", "resume": resume}
    error = _error(pack({"type": "hello", "id": 4, "body": body}), max_size=1 << 20)
    assert error.code == codes.MESSAGE_INVALID
    assert "hello.resume" in error.message
    assert error.request_id == 4


def test_hello_resume_accepts_the_limits() -> None:
    resume = {f"c{i}": MAX_SAFE_INT for i in range(10_000)}
    resume["x" * 128] = 0
    del resume["c0"]
    hello = Hello(version=1, token="t", client="c", resume=resume)
    assert decode_client_frame(encode(hello), max_size=1 << 20).message == hello


async def test_client_connect_sends_resume() -> None:
    hellos: list[Hello] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        assert msg.type is WSMsgType.BINARY
        envelope = decode_client_frame(msg.data)
        assert isinstance(envelope.message, Hello)
        hellos.append(envelope.message)
        welcome = Welcome(
            session_id="s",
            protocol=1,
            server="test",
            profile=PROFILE,
            limits=Limits(max_frame=65536, max_text=4096, frames_per_second=20.0, frame_burst=60),
            heartbeat=20.0,
            expires_at=1_800_000_000.0,
        )
        await ws.send_bytes(encode(welcome, envelope.request_id))
        await ws.send_bytes(encode(c.Synced(positions={"class:5a": 41})))
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    async with TestServer(app) as server:
        url = str(server.make_url("/ws"))
        async with await Client.connect(url, "tok", resume={"class:5a": 41}) as client:
            assert await client.next_event(timeout=5) == c.Synced(positions={"class:5a": 41})
        async with await Client.connect(url, "tok"):
            pass
    assert [h.resume for h in hellos] == [{"class:5a": 41}, None]


# -- golden bytes --------------------------------------------------------------------------


def test_golden_bytes_of_send() -> None:
    frame = encode(c.Send(chat="c:1", text="hi", key="k", reply_to=7), 2)
    assert msgpack.unpackb(frame) == {
        "type": "send",
        "id": 2,
        "body": {"chat": "c:1", "text": "hi", "key": "k", "reply_to": 7},
    }
    assert frame.hex() == (
        "83"  # map of 3
        "a474797065a473656e64"  # "type": "send"
        "a2696402"  # "id": 2
        "a4626f647984"  # "body": map of 4
        "a463686174a3633a31"  # "chat": "c:1"
        "a474657874a26869"  # "text": "hi"
        "a36b6579a16b"  # "key": "k"
        "a87265706c795f746f07"  # "reply_to": 7
    )


def test_golden_bytes_of_chat_event() -> None:
    event = c.ChatEventMsg(chat="c:1", seq=5, kind="message", author=None, at=1.5, data={"id": 5})
    frame = encode(event)
    assert msgpack.unpackb(frame) == {
        "type": "chat.event",
        "body": {
            "chat": "c:1",
            "seq": 5,
            "kind": "message",
            "author": None,
            "at": 1.5,
            "data": {"id": 5},
        },
    }
    assert frame.hex() == (
        "82"  # map of 2 (no id: an event)
        "a474797065aa636861742e6576656e74"  # "type": "chat.event"
        "a4626f647986"  # "body": map of 6
        "a463686174a3633a31"  # "chat": "c:1"
        "a373657105"  # "seq": 5
        "a46b696e64a76d657373616765"  # "kind": "message"
        "a6617574686f72c0"  # "author": nil
        "a26174cb3ff8000000000000"  # "at": 1.5 (float 64)
        "a46461746181a26964" + "05"  # "data": {"id": 5}
    )


# -- bad bodies ----------------------------------------------------------------------------

LONG_TEXT = "я" * (c.MAX_TEXT_WIRE + 1)

BAD_CLIENT_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("sync", {}, "sync.positions"),
    ("sync", {"positions": [["c", 1]]}, "sync.positions"),
    ("sync", {"positions": {"c": -1}}, "sync.positions"),
    ("sync", {"positions": {"c": None}}, "sync.positions"),
    ("chat.get", {}, "chat.get.chat"),
    ("chat.get", {"chat": ""}, "chat.get.chat"),
    ("chat.get", {"chat": "c" * 129}, "chat.get.chat"),
    ("chat.get", {"chat": 5}, "chat.get.chat"),
    ("chat.details", {}, "chat.details.chat"),
    ("chat.details", {"chat": ""}, "chat.details.chat"),
    ("send", {"text": "t", "key": "k"}, "send.chat"),
    ("send", {"chat": "c", "key": "k"}, "send.text"),
    ("send", {"chat": "c", "text": "", "key": "k"}, "send.text"),
    ("send", {"chat": "c", "text": LONG_TEXT, "key": "k"}, "send.text"),
    ("send", {"chat": "c", "text": b"bytes", "key": "k"}, "send.text"),
    ("send", {"chat": "c", "text": "t"}, "send.key"),
    ("send", {"chat": "c", "text": "t", "key": ""}, "send.key"),
    ("send", {"chat": "c", "text": "t", "key": "k" * 129}, "send.key"),
    ("send", {"chat": "c", "text": "t", "key": "k", "reply_to": -1}, "send.reply_to"),
    ("send", {"chat": "c", "text": "t", "key": "k", "reply_to": "1"}, "send.reply_to"),
    ("send", {"chat": "c", "text": "t", "key": "k", "reply_to": 2**53}, "send.reply_to"),
    ("edit", {"chat": "c", "text": "t"}, "edit.message_id"),
    ("edit", {"chat": "c", "message_id": True, "text": "t"}, "edit.message_id"),
    ("edit", {"chat": "c", "message_id": 1.0, "text": "t"}, "edit.message_id"),
    ("edit", {"chat": "c", "message_id": 1}, "edit.text"),
    ("edit", {"chat": "c", "message_id": 1, "text": "t", "key": 1}, "edit.key"),
    ("delete", {"chat": "c"}, "delete.message_id"),
    ("delete", {"chat": "c", "message_id": 1, "key": ""}, "delete.key"),
    ("react", {"chat": "c", "message_id": 1}, "react.emoji"),
    ("react", {"chat": "c", "message_id": 1, "emoji": ""}, "react.emoji"),
    ("react", {"chat": "c", "message_id": 1, "emoji": "x" * 17}, "react.emoji"),
    ("react", {"chat": "c", "message_id": 1, "emoji": "👍", "on": 1}, "react.on"),
    ("react", {"chat": "c", "message_id": 1, "emoji": "👍", "on": "true"}, "react.on"),
    ("react", {"chat": "c", "message_id": 1, "emoji": "👍", "key": "k" * 129}, "react.key"),
    ("history", {}, "history.chat"),
    ("history", {"chat": "c", "limit": 0}, "history.limit"),
    ("history", {"chat": "c", "limit": 201}, "history.limit"),
    ("history", {"chat": "c", "limit": True}, "history.limit"),
    ("history", {"chat": "c", "before": -1}, "history.before"),
    ("history", {"chat": "c", "after": "5"}, "history.after"),
    ("read", {"chat": "c"}, "read.seq"),
    ("read", {"chat": "c", "seq": -5}, "read.seq"),
    ("typing", {}, "typing.chat"),
    ("direct.open", {}, "direct.open.person"),
    ("direct.open", {"person": 0}, "direct.open.person"),
    ("direct.open", {"person": "1"}, "direct.open.person"),
    ("group.create", {"title": "t", "members": []}, "group.create.school"),
    ("group.create", {"school": "s" * 65, "title": "t", "members": []}, "group.create.school"),
    ("group.create", {"school": "s", "members": []}, "group.create.title"),
    ("group.create", {"school": "s", "title": "", "members": []}, "group.create.title"),
    ("group.create", {"school": "s", "title": "t" * 201, "members": []}, "group.create.title"),
    ("group.create", {"school": "s", "title": "t"}, "group.create.members"),
    ("group.create", {"school": "s", "title": "t", "members": 1}, "group.create.members"),
    ("group.create", {"school": "s", "title": "t", "members": {"1": 1}}, "group.create.members"),
    ("group.create", {"school": "s", "title": "t", "members": [1, 0]}, "group.create.members[1]"),
    ("group.create", {"school": "s", "title": "t", "members": [True]}, "group.create.members[0]"),
    ("group.create", {"school": "s", "title": "t", "members": [1.0]}, "group.create.members[0]"),
    ("group.create", {"school": "s", "title": "t", "members": [None]}, "group.create.members[0]"),
    (
        "group.create",
        {"school": "s", "title": "t", "members": list(range(1, 502))},
        "group.create.members",
    ),
    ("group.create", {"school": "s", "title": "t", "members": [], "key": 0}, "group.create.key"),
    ("group.members", {"add": [1]}, "group.members.chat"),
    ("group.members", {"chat": "c", "add": [-1]}, "group.members.add[0]"),
    ("group.members", {"chat": "c", "remove": "1"}, "group.members.remove"),
    ("group.members", {"chat": "c", "add": [2**53]}, "group.members.add[0]"),
    ("presence.query", {}, "presence.query.people"),
    ("presence.query", {"people": [1, "2"]}, "presence.query.people[1]"),
    ("presence.query", {"people": [1] * 501}, "presence.query.people"),
]

BAD_SERVER_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("ack", {"chat": "c", "seq": 1, "message_id": 1}, "ack.duplicate"),
    ("ack", {"chat": "c", "seq": 1, "message_id": 1, "duplicate": 0}, "ack.duplicate"),
    ("ack", {"chat": "c", "seq": -1, "message_id": 1, "duplicate": False}, "ack.seq"),
    ("ack", {"chat": "c", "seq": 1, "duplicate": False}, "ack.message_id"),
    ("chat.event", {**EVENT, "kind": ""}, "chat.event.kind"),
    ("chat.event", {**EVENT, "kind": "k" * 33}, "chat.event.kind"),
    ("chat.event", {**EVENT, "kind": 1}, "chat.event.kind"),
    ("chat.event", {**EVENT, "data": [1]}, "chat.event.data"),
    ("chat.event", {**EVENT, "data": None}, "chat.event.data"),
    ("chat.event", {**EVENT, "data": {b"k": 2}}, "chat.event.data"),
    ("chat.event", {**EVENT, "author": 0}, "chat.event.author"),
    ("chat.event", {**EVENT, "author": "me"}, "chat.event.author"),
    ("chat.event", {**EVENT, "at": "now"}, "chat.event.at"),
    ("chat.event", {**EVENT, "at": float("nan")}, "chat.event.at"),
    ("chat.event", {**EVENT, "seq": None}, "chat.event.seq"),
    ("chat.event", {**EVENT, "chat": None}, "chat.event.chat"),
    ("gap", {"chat": "c", "to_seq": 5}, "gap.from_seq"),
    ("gap", {"chat": "c", "from_seq": 5}, "gap.to_seq"),
    ("gap", {"chat": "c", "from_seq": 5, "to_seq": 4}, "gap.to_seq"),
    ("synced", {"positions": {"c": 1.5}}, "synced.positions"),
    ("synced", {}, "synced.positions"),
    ("chat.list", {}, "chat.list.chats"),
    ("chat.list", {"chats": {"c": {}}}, "chat.list.chats"),
    ("chat.list", {"chats": [SUMMARY, "c"]}, "chat.list.chats[1]"),
    ("chat.list", {"chats": [{b"k": 1}]}, "chat.list.chats[0]"),
    ("chat.list", {"chats": [{}] * 10_001}, "chat.list.chats"),
    ("chat.info", {"chat": "class:5a"}, "chat.info.chat"),
    (
        "chat.details",
        {
            "chat": "class:5a",
            "members": [],
            "owner": None,
            "moderator": False,
            "announcements": False,
            "pinned": None,
            "muted_until": -1.0,
        },
        "chat.details.muted_until",
    ),
    ("chat.removed", {"chat": {}}, "chat.removed.chat"),
    ("history.page", {"chat": "c", "events": [EVENT]}, "history.page.more"),
    ("history.page", {"chat": "c", "events": [EVENT], "more": "no"}, "history.page.more"),
    ("history.page", {"chat": "c", "events": [None], "more": False}, "history.page.events[0]"),
    ("marked", {"chat": "c"}, "marked.read_seq"),
    ("typing", {"chat": "c", "person": 0}, "typing.person"),
    ("receipt", {"chat": "c", "person": 1}, "receipt.seq"),
    ("receipt", {"chat": "c", "seq": 1}, "receipt.person"),
    ("presence", {"person": 1, "last_seen": None}, "presence.online"),
    ("presence", {"person": 1, "online": 1}, "presence.online"),
    ("presence", {"person": 1, "online": True, "last_seen": -1.0}, "presence.last_seen"),
    ("presence.list", {"people": [1]}, "presence.list.people[0]"),
    ("presence.list", {"people": [{}] * 501}, "presence.list.people"),
]


def _error(data: bytes, *, server: bool = False, max_size: int = 1 << 20) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        if server:
            decode_server_frame(data)
        else:
            decode_client_frame(data, max_size=max_size)
    return info.value


@pytest.mark.parametrize(("kind", "body", "field"), BAD_CLIENT_BODIES)
def test_bad_client_bodies(kind: str, body: dict[str, Any], field: str) -> None:
    error = _error(pack({"type": kind, "id": 9, "body": body}))
    assert error.code == codes.MESSAGE_INVALID
    assert error.message.startswith(f"{field}:") or error.message.startswith(f"{field}[")
    assert error.request_id == 9


@pytest.mark.parametrize(("kind", "body", "field"), BAD_SERVER_BODIES)
def test_bad_server_bodies(kind: str, body: dict[str, Any], field: str) -> None:
    error = _error(pack({"type": kind, "body": body}), server=True)
    assert error.code == codes.MESSAGE_INVALID
    assert error.message.startswith(f"{field}:") or error.message.startswith(f"{field}[")


# Well-formed strings that are not one emoji: the chat cannot take them as a reaction.
NOT_ONE_EMOJI = ["x", "хуй", "vk.com", "👍👍", " 👍", "❤", "1", "#", "🇷", "\u200d", "👍\u200d"]


@pytest.mark.parametrize("text", NOT_ONE_EMOJI)
def test_a_reaction_that_is_not_one_emoji_is_chat_invalid(text: str) -> None:
    body = {"chat": "c", "message_id": 1, "emoji": text}
    error = _error(pack({"type": "react", "id": 9, "body": body}))
    assert (error.code, error.request_id) == (codes.CHAT_INVALID, 9)
    assert error.message.startswith("react.emoji:")
    assert not c.is_reaction(text)


@pytest.mark.parametrize("text", ["👍", "👍🏿", "🇷🇺", "#️⃣", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🦰"])
def test_emoji_sequences_are_reactions(text: str) -> None:
    assert c.is_reaction(text)
    message = c.React(chat="c", message_id=1, emoji=text)
    assert decode_client_frame(encode(message)).message == message


def test_every_chat_type_has_a_bad_body() -> None:
    client = {kind for kind, _, _ in BAD_CLIENT_BODIES} | {"chats"}  # chats has no fields
    assert client == {m.TYPE for m in CHAT_CLIENT_SAMPLES}
    assert {kind for kind, _, _ in BAD_SERVER_BODIES} == {m.TYPE for m in CHAT_SERVER_SAMPLES}


def test_limits_themselves_are_accepted() -> None:
    top = MAX_SAFE_INT
    samples: list[Message] = [
        c.Send(chat="c" * 128, text="я" * c.MAX_TEXT_WIRE, key="k" * 128, reply_to=top),
        c.React(chat="c", message_id=top, emoji="👩🏻‍❤️‍💋‍👨🏼"),  # ten code points
        c.History(chat="c", before=top, after=0, limit=1),
        c.CreateGroup(school="s" * 64, title="t" * 200, members=[top] * 500),
        c.QueryPresence(people=list(range(1, 501))),
    ]
    for message in samples:
        assert decode_client_frame(encode(message), max_size=1 << 20).message == message


# -- hypothesis ----------------------------------------------------------------------------

chat_ids = st.text(min_size=1, max_size=128)
seqs = st.integers(0, MAX_SAFE_INT)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.builds(
        c.ChatEventMsg,
        chat=chat_ids,
        seq=seqs,
        kind=st.text(min_size=1, max_size=32),
        author=st.none() | st.integers(1, MAX_SAFE_INT),
        at=st.floats(0, 1e12),
        data=st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    )
)
def test_chat_event_round_trips(event: c.ChatEventMsg) -> None:
    assert decode_server_frame(encode(event)).message == event


@given(
    st.builds(
        c.Send,
        chat=chat_ids,
        text=st.text(min_size=1, max_size=2000),
        key=st.text(min_size=1, max_size=128),
        reply_to=st.none() | seqs,
    ),
    st.none() | st.integers(0, MAX_SAFE_INT) | st.text(min_size=1, max_size=64),
)
def test_send_round_trips(send: c.Send, request_id: int | str | None) -> None:
    assert decode_client_frame(encode(send, request_id)) == Envelope(send, request_id)


field_names = ["chat", "text", "key", "reply_to", "message_id", "emoji", "on", "positions"]
field_names += ["before", "after", "limit", "seq", "person", "school", "title", "members"]
field_names += ["add", "remove", "people", "resume", "v", "token", "client"]
server_field_names = [*field_names, "kind", "author", "at", "data", "from_seq", "to_seq"]
server_field_names += ["chats", "events", "more", "read_seq", "online", "last_seen", "duplicate"]


@given(
    st.sampled_from(sorted(CLIENT_MESSAGES)),
    st.dictionaries(st.sampled_from(field_names), json_values, max_size=6),
)
def test_arbitrary_chat_bodies_never_raise_anything_else(kind: str, body: object) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_frame(pack({"type": kind, "body": body}))


@given(
    st.sampled_from(sorted(SERVER_MESSAGES)),
    st.dictionaries(st.sampled_from(server_field_names), json_values, max_size=6),
)
def test_arbitrary_server_bodies_never_raise_anything_else(kind: str, body: object) -> None:
    with contextlib.suppress(ProtocolError):
        decode_server_frame(pack({"type": kind, "body": body}))
