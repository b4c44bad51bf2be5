"""The chat HTTP API (/api/v1/chats) over a real socket, next to WebSocket members."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from server.clock import ManualClock
from server.roster.model import Role
from signaling.chat import AckMsg, ChatInfo, OpenDirect, Receipt, Send
from signaling.client import RequestError
from tests.conftest import Running, ServerFactory, relaxed_chat
from tests.server.test_chats_ws import (
    CLASS_5A,
    CLASS_TEACHER_5A,
    PARENTS_5A,
    chat_events,
    next_of,
    students_5a,
)

pytestmark = pytest.mark.both_engines

CLASS_5B = "class:sosh-1-5b"  # 5A's students are not members
STAFF = "staff:sosh-1"
_keys = itertools.count(1)
_ABSENT = object()


def key() -> str:
    return f"http-{next(_keys)}"


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]

    @property
    def code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return None if error is None else error["code"]


def chats_url(zvonok: Running, chat: str | None = None, tail: str = "") -> URL:
    """The URL of the chat list, or of ``chat`` (percent-encoded: ids hold ':')."""
    path = "/api/v1/chats" if chat is None else f"/api/v1/chats/{quote(chat, safe='')}{tail}"
    return URL(f"{zvonok.base}{path}", encoded=True)


def bearer(zvonok: Running, oid: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {zvonok.token(oid)}"}


async def call(
    zvonok: Running,
    method: str,
    url: URL | str,
    oid: int | None = None,
    *,
    json: object = _ABSENT,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Reply:
    sent = dict(headers or {})
    if oid is not None:
        sent.update(bearer(zvonok, oid))
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    kwargs: dict[str, Any] = {"headers": sent, "params": params}
    if json is not _ABSENT:
        kwargs["json"] = json
    elif data is not None:
        kwargs["data"] = data
    async with zvonok.http.request(method, url, **kwargs) as response:
        return Reply(response.status, await response.json(), response.headers)


async def post_message(
    zvonok: Running, oid: int, chat: str, text: str, *, idem: str | None = None, **extra: object
) -> Reply:
    return await call(
        zvonok,
        "POST",
        chats_url(zvonok, chat, "/messages"),
        oid,
        json={"text": text, **extra},
        headers={"Idempotency-Key": idem or key()},
    )


async def sent(zvonok: Running, oid: int, chat: str, text: str) -> int:
    """Post a message that must be accepted; its seq."""
    reply = await post_message(zvonok, oid, chat, text)
    assert reply.status == 201, reply.body
    seq: int = reply.body["seq"]
    return seq


async def get_chat(zvonok: Running, oid: int, chat: str) -> dict[str, Any]:
    reply = await call(zvonok, "GET", chats_url(zvonok, chat), oid)
    assert reply.status == 200, reply.body
    summary: dict[str, Any] = reply.body["chat"]
    return summary


async def history(zvonok: Running, oid: int, chat: str, **query: object) -> Reply:
    params = {name: str(value) for name, value in query.items()}
    return await call(zvonok, "GET", chats_url(zvonok, chat, "/events"), oid, params=params)


# -- listing and reading chats ---------------------------------------------------


async def test_a_student_lists_chats_with_unread_counts_and_last_message(
    zvonok: Running,
) -> None:
    anya, boris = students_5a(zvonok)[:2]
    before = await get_chat(zvonok, boris, CLASS_5A)
    await sent(zvonok, anya, CLASS_5A, "Кто идёт на экскурсию?")
    last = await sent(zvonok, anya, CLASS_5A, "Сбор в 9:00 у школы")

    reply = await call(zvonok, "GET", chats_url(zvonok), boris)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    chats = reply.body["chats"]
    assert chats[0]["id"] == CLASS_5A  # the most recently active first
    chat = chats[0]
    assert set(chat) == {
        "id",
        "kind",
        "title",
        "school_id",
        "class_id",
        "members",
        "last_seq",
        "read_seq",
        "unread",
        "last_message",
        "peer",
    }
    assert (chat["kind"], chat["school_id"], chat["class_id"]) == ("class", "sosh-1", "sosh-1-5a")
    assert chat["peer"] is None  # only a direct chat has one
    assert chat["members"] >= 25
    assert chat["last_seq"] == last
    assert chat["unread"] == before["unread"] + 2
    message = chat["last_message"]
    assert (message["chat"], message["seq"], message["kind"], message["author"]) == (
        CLASS_5A,
        last,
        "message",
        anya,
    )
    assert message["data"] == {"id": last, "text": "Сбор в 9:00 у школы", "reply_to": None}
    assert {c["kind"] for c in chats} == {"class"}  # a student is in no parents' or staff chat

    own = await get_chat(zvonok, anya, CLASS_5A)
    assert own["unread"] == before["unread"]  # one's own messages never count


async def test_a_teacher_lists_class_parents_and_staff_chats(zvonok: Running) -> None:
    reply = await call(zvonok, "GET", chats_url(zvonok), CLASS_TEACHER_5A)
    assert reply.status == 200
    by_id = {c["id"]: c for c in reply.body["chats"]}
    assert {CLASS_5A, PARENTS_5A, STAFF} <= set(by_id)
    assert by_id[CLASS_5A]["kind"] == "class"
    assert by_id[PARENTS_5A]["kind"] == "class_parents"
    assert (by_id[STAFF]["kind"], by_id[STAFF]["class_id"]) == ("staff", None)


async def test_get_one_chat(zvonok: Running) -> None:
    anya = students_5a(zvonok)[0]
    seq = await sent(zvonok, anya, CLASS_5A, "Привет")
    chat = await get_chat(zvonok, anya, CLASS_5A)
    assert (chat["id"], chat["kind"], chat["last_seq"]) == (CLASS_5A, "class", seq)
    assert chat["last_message"]["data"]["text"] == "Привет"


@pytest.mark.parametrize(
    ("method", "tail", "payload"),
    [
        ("GET", "", _ABSENT),
        ("GET", "/events", _ABSENT),
        ("POST", "/messages", {"text": "чужой класс"}),
        ("POST", "/read", {"seq": 1}),
    ],
)
async def test_a_chat_one_is_not_in_looks_like_no_chat_at_all(
    zvonok: Running, method: str, tail: str, payload: object
) -> None:
    anya = students_5a(zvonok)[0]
    headers = {"Idempotency-Key": key()}
    other = await call(
        zvonok, method, chats_url(zvonok, CLASS_5B, tail), anya, json=payload, headers=headers
    )
    missing = await call(
        zvonok, method, chats_url(zvonok, "class:nope", tail), anya, json=payload, headers=headers
    )
    assert (other.status, other.code) == (missing.status, missing.code) == (404, "chat.not_found")
    assert set(other.body["error"]) == {"code", "message"}


# -- sending -------------------------------------------------------------------


async def test_a_message_sent_over_http_reaches_a_classmates_websocket(zvonok: Running) -> None:
    anya, boris_oid = students_5a(zvonok)[:2]
    boris = await zvonok.connect(boris_oid)
    start = (await get_chat(zvonok, anya, CLASS_5A))["last_seq"]

    reply = await post_message(zvonok, anya, CLASS_5A, "Завтра физкультура на улице")
    assert reply.status == 201
    body = reply.body
    assert (body["chat"], body["seq"], body["message_id"], body["duplicate"]) == (
        CLASS_5A,
        start + 1,
        start + 1,
        False,
    )
    event = body["event"]
    assert (event["seq"], event["kind"], event["author"]) == (start + 1, "message", anya)
    assert event["at"] == zvonok.clock.time()
    text = "Завтра физкультура на улице"
    assert event["data"] == {"id": start + 1, "text": text, "reply_to": None}

    [received] = await chat_events(boris, CLASS_5A, 1)
    assert (received.seq, received.kind, received.author, received.at) == (
        start + 1,
        "message",
        anya,
        event["at"],
    )
    assert received.data == event["data"]


async def test_a_retried_send_returns_the_first_ack_and_stores_nothing(zvonok: Running) -> None:
    anya, boris_oid = students_5a(zvonok)[:2]
    boris = await zvonok.connect(boris_oid)
    first = await post_message(zvonok, anya, CLASS_5A, "один раз", idem="retry-1")
    assert (first.status, first.body["duplicate"]) == (201, False)

    again = await post_message(zvonok, anya, CLASS_5A, "один раз", idem="retry-1")
    assert again.status == 200
    assert again.body == {**first.body, "duplicate": True}

    marker = await sent(zvonok, anya, CLASS_5A, "следующее")
    assert marker == first.body["seq"] + 1  # the retry took no seq
    events = await chat_events(boris, CLASS_5A, 2)
    assert [e.seq for e in events] == [first.body["seq"], marker]  # one event, not two

    conflict = await post_message(zvonok, anya, CLASS_5A, "другой текст", idem="retry-1")
    assert (conflict.status, conflict.code) == (409, "idempotency.conflict")
    reply_too = await post_message(
        zvonok, anya, CLASS_5A, "один раз", idem="retry-1", reply_to=marker
    )
    assert (reply_too.status, reply_too.code) == (409, "idempotency.conflict")


async def test_idempotency_keys_are_per_person(zvonok: Running) -> None:
    anya, boris = students_5a(zvonok)[:2]
    first = await post_message(zvonok, anya, CLASS_5A, "общий ключ", idem="same-key")
    second = await post_message(zvonok, boris, CLASS_5A, "общий ключ", idem="same-key")
    assert (first.status, second.status) == (201, 201)
    assert second.body["seq"] == first.body["seq"] + 1
    assert second.body["event"]["author"] == boris


async def test_a_key_sent_over_http_is_the_same_key_on_the_websocket(zvonok: Running) -> None:
    anya_oid = students_5a(zvonok)[0]
    anya = await zvonok.connect(anya_oid)
    first = await post_message(zvonok, anya_oid, CLASS_5A, "через HTTP", idem="both-doors")
    again = await anya.request(Send(chat=CLASS_5A, text="через HTTP", key="both-doors"))
    assert isinstance(again, AckMsg)
    assert (again.seq, again.duplicate) == (first.body["seq"], True)


@pytest.mark.parametrize("idem", [None, "", "   ", "k" * 129])
async def test_a_send_needs_an_idempotency_key(zvonok: Running, idem: str | None) -> None:
    anya = students_5a(zvonok)[0]
    start = (await get_chat(zvonok, anya, CLASS_5A))["last_seq"]
    headers = {} if idem is None else {"Idempotency-Key": idem}
    reply = await call(
        zvonok,
        "POST",
        chats_url(zvonok, CLASS_5A, "/messages"),
        anya,
        json={"text": "без ключа"},
        headers=headers,
    )
    assert (reply.status, reply.code) == (400, "request.invalid")
    assert "Idempotency-Key" in reply.body["error"]["message"]
    assert (await get_chat(zvonok, anya, CLASS_5A))["last_seq"] == start  # nothing stored


async def test_a_key_of_128_characters_is_taken(zvonok: Running) -> None:
    reply = await post_message(zvonok, students_5a(zvonok)[0], CLASS_5A, "ок", idem="k" * 128)
    assert reply.status == 201


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'"text"',
        b"null",
        b"{}",
        b'{"text": null}',
        b'{"text": 5}',
        b'{"text": ["a"]}',
        b'{"text": "ok", "reply_to": "1"}',
        b'{"text": "ok", "reply_to": -1}',
        b'{"text": "ok", "reply_to": 1.5}',
        b'{"text": "ok", "reply_to": true}',
        b'{"text": "ok", "reply_to": 9007199254740992}',
    ],
)
async def test_a_send_with_a_bad_body_is_invalid(zvonok: Running, body: bytes) -> None:
    reply = await call(
        zvonok,
        "POST",
        chats_url(zvonok, CLASS_5A, "/messages"),
        students_5a(zvonok)[0],
        data=body,
        headers={"Idempotency-Key": key()},
    )
    assert (reply.status, reply.code) == (400, "request.invalid")


async def test_a_deeply_nested_body_is_invalid(zvonok: Running) -> None:
    reply = await call(
        zvonok,
        "POST",
        chats_url(zvonok, CLASS_5A, "/messages"),
        students_5a(zvonok)[0],
        data=b"[" * 100_000,
        headers={"Idempotency-Key": key()},
    )
    assert (reply.status, reply.code) == (400, "request.invalid")


async def test_too_long_and_empty_texts_are_refused(zvonok: Running) -> None:
    anya = students_5a(zvonok)[0]
    long = await post_message(zvonok, anya, CLASS_5A, "я" * 4097)
    assert (long.status, long.code) == (400, "message.too_long")
    for blank in ("", "   ", "\n\t"):
        empty = await post_message(zvonok, anya, CLASS_5A, blank)
        assert (empty.status, empty.code) == (400, "message.empty")
    longest = await post_message(zvonok, anya, CLASS_5A, "я" * 4096)
    assert longest.status == 201


async def test_a_reply_names_a_message_of_the_same_chat(zvonok: Running) -> None:
    anya, boris = students_5a(zvonok)[:2]
    question = await sent(zvonok, anya, CLASS_5A, "Что задали?")
    answer = await post_message(zvonok, boris, CLASS_5A, "Номер 5", reply_to=question)
    assert answer.status == 201
    assert answer.body["event"]["data"]["reply_to"] == question

    missing = await post_message(zvonok, boris, CLASS_5A, "в пустоту", reply_to=question + 1000)
    assert (missing.status, missing.code) == (404, "message.not_found")
    # The refused send took no seq: the next one follows the answer.
    assert await sent(zvonok, boris, CLASS_5A, "дальше") == answer.body["seq"] + 1


# -- history -------------------------------------------------------------------


async def test_history_pages_backwards_and_forwards(zvonok: Running) -> None:
    anya = students_5a(zvonok)[0]
    start = (await get_chat(zvonok, anya, CLASS_5A))["last_seq"]
    seqs = [await sent(zvonok, anya, CLASS_5A, f"m{i}") for i in range(12)]

    latest = await history(zvonok, anya, CLASS_5A)
    assert latest.status == 200
    assert set(latest.body) == {"chat", "events", "more"}
    assert latest.body["chat"] == CLASS_5A
    assert [e["seq"] for e in latest.body["events"]][-12:] == seqs
    assert latest.body["events"][-1]["data"]["text"] == "m11"

    newest = await history(zvonok, anya, CLASS_5A, limit=5)
    assert [e["seq"] for e in newest.body["events"]] == seqs[-5:]
    assert newest.body["more"] is True
    older = await history(zvonok, anya, CLASS_5A, before=seqs[-5], limit=5)
    assert [e["seq"] for e in older.body["events"]] == seqs[-10:-5]
    between = await history(zvonok, anya, CLASS_5A, before=seqs[3], after=seqs[0], limit=50)
    assert [e["seq"] for e in between.body["events"]] == seqs[1:3]
    assert between.body["more"] is False

    forward = await history(zvonok, anya, CLASS_5A, after=start, limit=7)
    assert [e["seq"] for e in forward.body["events"]] == seqs[:7]
    assert forward.body["more"] is True
    rest = await history(zvonok, anya, CLASS_5A, after=seqs[6], limit=50)
    assert [e["seq"] for e in rest.body["events"]] == seqs[7:]
    assert rest.body["more"] is False
    past_the_end = await history(zvonok, anya, CLASS_5A, after=seqs[-1])
    assert (past_the_end.body["events"], past_the_end.body["more"]) == ([], False)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "abc"},
        {"limit": "-1"},
        {"limit": "1.5"},
        {"limit": " 5"},
        {"before": "-5"},
        {"before": "x"},
        {"after": "-1"},
        {"after": "0x10"},
        {"after": str(2**53)},
    ],
)
async def test_history_with_a_bad_query_is_invalid(zvonok: Running, query: dict[str, str]) -> None:
    reply = await history(zvonok, students_5a(zvonok)[0], CLASS_5A, **query)
    assert (reply.status, reply.code) == (400, "request.invalid")


async def test_history_with_a_superscript_digit_is_invalid(zvonok: Running) -> None:
    reply = await history(zvonok, students_5a(zvonok)[0], CLASS_5A, limit="²")
    assert (reply.status, reply.code) == (400, "request.invalid")


# -- read positions --------------------------------------------------------------


async def test_marking_read_clears_unread_and_tells_the_classmates(zvonok: Running) -> None:
    anya_oid, boris = students_5a(zvonok)[:2]
    anya = await zvonok.connect(anya_oid)
    for i in range(3):
        await sent(zvonok, anya_oid, CLASS_5A, f"новость {i}")
    chat = await get_chat(zvonok, boris, CLASS_5A)
    assert chat["unread"] >= 3

    reply = await call(
        zvonok, "POST", chats_url(zvonok, CLASS_5A, "/read"), boris, json={"seq": chat["last_seq"]}
    )
    assert (reply.status, reply.body) == (200, {"chat": CLASS_5A, "read_seq": chat["last_seq"]})
    receipt = await next_of(anya, Receipt)
    assert isinstance(receipt, Receipt)
    assert (receipt.chat, receipt.person, receipt.seq) == (CLASS_5A, boris, chat["last_seq"])
    after = await get_chat(zvonok, boris, CLASS_5A)
    assert (after["unread"], after["read_seq"]) == (0, chat["last_seq"])


async def test_a_read_position_is_capped_at_the_last_seq_and_never_goes_back(
    zvonok: Running,
) -> None:
    anya, boris = students_5a(zvonok)[:2]
    last = await sent(zvonok, anya, CLASS_5A, "последнее")
    read_url = chats_url(zvonok, CLASS_5A, "/read")
    beyond = await call(zvonok, "POST", read_url, boris, json={"seq": last + 1000})
    assert (beyond.status, beyond.body["read_seq"]) == (200, last)
    back = await call(zvonok, "POST", read_url, boris, json={"seq": 0})
    assert (back.status, back.body["read_seq"]) == (200, last)
    assert (await get_chat(zvonok, boris, CLASS_5A))["read_seq"] == last


@pytest.mark.parametrize(
    "body", [b"", b"[]", b"{}", b'{"seq": null}', b'{"seq": "5"}', b'{"seq": -1}', b'{"seq": 2.0}']
)
async def test_marking_read_with_a_bad_body_is_invalid(zvonok: Running, body: bytes) -> None:
    reply = await call(
        zvonok,
        "POST",
        chats_url(zvonok, CLASS_5A, "/read"),
        students_5a(zvonok)[0],
        data=body,
    )
    assert (reply.status, reply.code) == (400, "request.invalid")


# -- the send rate -----------------------------------------------------------------


async def test_sends_past_the_rate_get_429_with_retry_after_and_pass_later(
    make_server: ServerFactory, clock: ManualClock
) -> None:
    zvonok = await make_server(
        clock, chat=relaxed_chat(student_sends_per_second=1.0, student_send_burst=2)
    )
    anya_oid = students_5a(zvonok)[0]
    anya = await zvonok.connect(anya_oid)
    await sent(zvonok, anya_oid, CLASS_5A, "раз")
    await sent(zvonok, anya_oid, CLASS_5A, "два")

    limited = await post_message(zvonok, anya_oid, CLASS_5A, "три")
    assert (limited.status, limited.code) == (429, "rate.limited")
    retry_after = limited.body["error"]["retry_after"]
    assert 0 < retry_after <= 1.0
    assert limited.headers["Retry-After"] == "1"  # whole seconds, rounded up, at least 1
    # The WebSocket and the HTTP API share one budget per person.
    with pytest.raises(RequestError) as refused:
        await anya.request(Send(chat=CLASS_5A, text="три", key=key()))
    assert refused.value.code == "rate.limited"

    clock.advance(retry_after)
    assert (await post_message(zvonok, anya_oid, CLASS_5A, "теперь можно")).status == 201
    assert (await post_message(zvonok, anya_oid, CLASS_5A, "снова рано")).status == 429


# -- authentication ----------------------------------------------------------------


ENDPOINTS = [
    ("GET", None, ""),
    ("GET", CLASS_5A, ""),
    ("GET", CLASS_5A, "/events"),
    ("POST", CLASS_5A, "/messages"),
    ("POST", CLASS_5A, "/read"),
]


@pytest.mark.parametrize(("method", "chat", "tail"), ENDPOINTS)
@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "auth.missing"),
        ("Basic dXNlcjpwYXNz", "auth.malformed"),
        ("Bearer not-a-jwt", "auth.malformed"),
    ],
)
async def test_every_chat_endpoint_needs_a_good_token(
    zvonok: Running,
    method: str,
    chat: str | None,
    tail: str,
    authorization: str | None,
    code: str,
) -> None:
    headers = {"Idempotency-Key": key()}
    if authorization is not None:
        headers["Authorization"] = authorization
    payload = {"text": "без входа", "seq": 1} if method == "POST" else _ABSENT
    reply = await call(zvonok, method, chats_url(zvonok, chat, tail), json=payload, headers=headers)
    assert (reply.status, reply.code) == (401, code)
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and f'error_code="{code}"' in challenge


async def test_an_expired_token_is_refused_and_stores_nothing(
    zvonok: Running, clock: ManualClock
) -> None:
    anya = students_5a(zvonok)[0]
    start = (await get_chat(zvonok, anya, CLASS_5A))["last_seq"]
    token = zvonok.token(anya, lifetime=60)
    clock.advance(61)
    reply = await call(
        zvonok,
        "POST",
        chats_url(zvonok, CLASS_5A, "/messages"),
        json={"text": "поздно"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key()},
    )
    assert (reply.status, reply.code) == (401, "auth.expired")
    assert "WWW-Authenticate" in reply.headers
    assert (await get_chat(zvonok, anya, CLASS_5A))["last_seq"] == start


# -- chat ids in URLs ----------------------------------------------------------------


async def test_chat_ids_with_colons_work_percent_encoded_and_raw(zvonok: Running) -> None:
    anya = students_5a(zvonok)[0]
    encoded = chats_url(zvonok, CLASS_5A)
    assert "%3A" in str(encoded)
    raw = URL(f"{zvonok.base}/api/v1/chats/{CLASS_5A}")
    for url in (encoded, raw):
        reply = await call(zvonok, "GET", url, anya)
        assert (reply.status, reply.body["chat"]["id"]) == (200, CLASS_5A)

    # A direct chat's id has two colons: direct:<oid>:<oid>.
    parent = zvonok.person(Role.PARENT, exclude_roles=(Role.TEACHER,))
    opener = await zvonok.connect(parent)
    info = await opener.request(OpenDirect(person=CLASS_TEACHER_5A))
    assert isinstance(info, ChatInfo)
    direct = info.chat["id"]
    assert direct.count(":") == 2
    seq = await sent(zvonok, CLASS_TEACHER_5A, direct, "Добрый день! Экскурсия в четверг.")
    page = await history(zvonok, parent, direct)
    assert page.body["chat"] == direct
    kinds = [(e["seq"], e["kind"]) for e in page.body["events"]]
    assert kinds == [(1, "members"), (seq, "message")]
