"""The wire format: golden round trips and bad frames."""

from __future__ import annotations

import contextlib
import math

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling import codec as codec_module
from signaling import errors as codes
from signaling.codec import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Envelope,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from signaling.errors import ProtocolError
from signaling.messages import (
    Error,
    Goodbye,
    Hello,
    Limits,
    Message,
    Ping,
    Pong,
    Reauth,
    Reauthed,
    SessionExpiring,
    Welcome,
)
from tests.signaling import test_room_messages as rooms
from tests.signaling import test_safety_messages as safety
from tests.signaling.test_chat_messages import CHAT_CLIENT_SAMPLES, CHAT_SERVER_SAMPLES, PROFILE

LIMITS = Limits(max_frame=65536, max_text=4096, frames_per_second=20.0, frame_burst=60)

CLIENT_SAMPLES: list[Message] = [
    Hello(version=1, token="header.payload.signature", client="web/1.0"),
    Hello(version=1, token=None, client="web/1.0"),  # a browser signing in by its cookie
    Reauth(token="a.b.c"),
    Ping(),
]
SERVER_SAMPLES: list[Message] = [
    Welcome(
        session_id="s1",
        protocol=1,
        server="zvonok/0.1.0",
        profile=PROFILE,
        limits=LIMITS,
        heartbeat=20.0,
        expires_at=1_800_000_000.0,
    ),
    Reauthed(expires_at=1_800_003_600.0),
    Pong(time=1_800_000_000.5),
    Error(code="rate.limited", message="too many frames", retry_after=0.25),
    Error(code="auth.expired", message="expired"),
    SessionExpiring(expires_at=1_800_000_060.0, seconds_left=60.0),
    Goodbye(code="auth.expired", message="the access token expired"),
]


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=lambda m: m.TYPE)
@pytest.mark.parametrize("request_id", [None, 0, 7, 2**53 - 1, "req-1"])
def test_client_messages_round_trip(message: Message, request_id: int | str | None) -> None:
    assert decode_client_frame(encode(message, request_id)) == Envelope(message, request_id)


@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=lambda m: m.TYPE)
def test_server_messages_round_trip(message: Message) -> None:
    assert decode_server_frame(encode(message, 3)) == Envelope(message, 3)


def test_every_registered_type_has_a_sample() -> None:
    client = [*CLIENT_SAMPLES, *CHAT_CLIENT_SAMPLES, *safety.CLIENT_SAMPLES, *rooms.CLIENT_SAMPLES]
    server = [*SERVER_SAMPLES, *CHAT_SERVER_SAMPLES, *safety.SERVER_SAMPLES, *rooms.SERVER_SAMPLES]
    assert {m.TYPE for m in client} == set(CLIENT_MESSAGES)
    assert {m.TYPE for m in server} == set(SERVER_MESSAGES)


def test_golden_bytes_of_hello() -> None:
    """The exact bytes are the contract with non-Python clients."""
    frame = encode(Hello(version=1, token="t", client="c"), 1)
    assert msgpack.unpackb(frame) == {
        "type": "hello",
        "id": 1,
        "body": {"v": 1, "token": "t", "client": "c"},
    }
    assert (
        frame.hex()
        == "83a474797065a568656c6c6fa2696401a4626f647983a17601a5746f6b656ea174a6636c69656e74a163"
    )


def test_empty_body_is_omitted_and_may_be_nil() -> None:
    assert msgpack.unpackb(encode(Ping())) == {"type": "ping"}
    frame = msgpack.packb({"type": "ping", "body": None})
    assert decode_client_frame(frame).message == Ping()


def test_tokens_do_not_appear_in_repr() -> None:
    assert "secret" not in repr(Hello(version=1, token="secret", client="c"))
    assert "secret" not in repr(Reauth(token="secret"))


def _code(data: bytes, *, server: bool = False, max_size: int = 65536) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        if server:
            decode_server_frame(data)
        else:
            decode_client_frame(data, max_size=max_size)
    return info.value


def pack(obj: object) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never-used byte
        b"\x92\x01",  # array of 2 with 1 item: truncated
        pack({"type": "ping"}) + b"\x00",  # trailing data
        b"\x81\x91\x01\x01",  # map key is an array
        b"\xd4\x05\x00",  # extension type 5
        b"\x91" * 60_000 + b"\x01",  # nested too deep
        b"\xa3\xff\xfe\xfd",  # invalid UTF-8 in a str
    ],
)
def test_malformed_frames(data: bytes) -> None:
    assert _code(data).code == codes.FRAME_MALFORMED


def test_oversized_frame_is_refused_before_decoding() -> None:
    frame = encode(Hello(version=1, token="x" * 2000, client="c"))
    error = _code(frame, max_size=1024)
    assert error.code == codes.FRAME_TOO_LARGE


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ([1, 2], codes.MESSAGE_INVALID),
        ("hello", codes.MESSAGE_INVALID),
        ({"id": 1}, codes.MESSAGE_INVALID),
        ({"type": 5}, codes.MESSAGE_INVALID),
        ({"type": "nope"}, codes.MESSAGE_UNKNOWN_TYPE),
        ({"type": "welcome"}, codes.MESSAGE_UNKNOWN_TYPE),  # a server message from a client
        ({"type": "ping", "body": [1]}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": -1}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": 2**53}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": True}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": ""}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": "x" * 65}, codes.MESSAGE_INVALID),
        ({"type": "ping", "id": 1.5}, codes.MESSAGE_INVALID),
        ({"type": "hello", "body": {}}, codes.MESSAGE_INVALID),
        ({"type": "hello", "body": {"v": "1", "token": "t", "client": "c"}}, codes.MESSAGE_INVALID),
        (
            {"type": "hello", "body": {"v": True, "token": "t", "client": "c"}},
            codes.MESSAGE_INVALID,
        ),
        ({"type": "hello", "body": {"v": 1, "token": b"t", "client": "c"}}, codes.MESSAGE_INVALID),
        ({"type": "hello", "body": {"v": 1, "token": "", "client": "c"}}, codes.MESSAGE_INVALID),
        (
            {"type": "hello", "body": {"v": 1, "token": "t" * 16385, "client": "c"}},
            codes.MESSAGE_INVALID,
        ),
        (
            {"type": "hello", "body": {"v": 1, "token": "t", "client": "c" * 65}},
            codes.MESSAGE_INVALID,
        ),
        ({"type": "reauth", "body": {"token": 12}}, codes.MESSAGE_INVALID),
    ],
)
def test_invalid_messages(obj: object, code: str) -> None:
    assert _code(pack(obj), max_size=1 << 20).code == code


def test_error_names_the_field_and_keeps_the_request_id() -> None:
    error = _code(pack({"type": "hello", "id": 9, "body": {"v": 1, "token": 5, "client": "c"}}))
    assert error.code == codes.MESSAGE_INVALID
    assert "hello.token" in error.message
    assert error.request_id == 9


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    frame = pack({"type": "reauth", "body": {"token": "t", "future": [1, 2]}, "extra": 1})
    assert decode_client_frame(frame).message == Reauth(token="t")


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "1", True])
def test_server_numbers_are_checked(value: object) -> None:
    error = _code(pack({"type": "pong", "body": {"time": value}}), server=True)
    assert error.code == codes.MESSAGE_INVALID


def test_welcome_limits_are_validated() -> None:
    body = SERVER_SAMPLES[0].encode()
    body["limits"] = {"max_frame": "big"}
    error = _code(pack({"type": "welcome", "body": body}), server=True)
    assert "welcome.limits.max_frame" in error.message


@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_frame(data)


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.sampled_from([*sorted(CLIENT_MESSAGES), "x", "welcome"]),
    st.dictionaries(st.sampled_from(["v", "token", "client", "x"]), values, max_size=4),
    values,
)
def test_arbitrary_envelopes_never_raise_anything_else(
    kind: str, body: object, rid: object
) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_frame(pack({"type": kind, "id": rid, "body": body}))


# -- the quick path and the exact one (signaling/codec.py) ---------------------------------


def test_junk_in_a_field_the_protocol_does_not_define_is_not_read() -> None:
    """The one way the quick path differs, on purpose: an unknown field's value is
    skipped unread, so an extension type (or bad UTF-8) there is ignored with it."""
    ext = msgpack.ExtType(5, b"\x00")
    frame = pack({"type": "reauth", "id": 3, "body": {"token": "t", "future": ext}})
    assert decode_client_frame(frame) == Envelope(Reauth(token="t"), 3)
    junk = pack({"type": "reauth", "body": {"token": "t"}})[:-2] + b"\xa1\xff"  # token: "\xff"
    assert _code(junk).code == codes.FRAME_MALFORMED


def test_junk_in_a_field_the_protocol_defines_is_malformed_as_before() -> None:
    ext = msgpack.ExtType(5, b"\x00")
    assert _code(pack({"type": "reauth", "body": {"token": ext}})).code == codes.FRAME_MALFORMED
    assert _code(pack({"type": ext})).code == codes.FRAME_MALFORMED


@given(
    st.sampled_from([*sorted(CLIENT_MESSAGES), "x"]),
    st.dictionaries(
        st.sampled_from(
            ["v", "token", "client", "chat", "text", "key", "room", "person", "all", "on", "x"]
        ),
        values,
        max_size=5,
    ),
    values,
)
def test_the_quick_path_takes_nothing_the_exact_one_refuses_but_junk(
    kind: str, body: object, rid: object
) -> None:
    frame = pack({"type": kind, "id": rid, "body": body})
    quick = codec_module._quick(frame, CLIENT_MESSAGES)
    try:
        exact: Envelope | ProtocolError = codec_module._exact(frame, CLIENT_MESSAGES)
    except ProtocolError as exc:
        exact = exc
    if quick is not None:
        assert quick == exact or (
            isinstance(exact, ProtocolError) and exact.code == codes.FRAME_MALFORMED
        )


def _bad_bodies() -> list[tuple[str, dict[str, object]]]:
    from tests.signaling.test_chat_messages import BAD_CLIENT_BODIES as chats
    from tests.signaling.test_chat_messages import NOT_ONE_EMOJI

    reactions = [("react", {"chat": "c", "message_id": 1, "emoji": e}) for e in NOT_ONE_EMOJI]
    return [(k, b) for k, b, _ in (*chats, *rooms.BAD_CLIENT_BODIES)] + reactions


@pytest.mark.parametrize(("kind", "body"), _bad_bodies())
def test_the_quick_path_refuses_every_bad_body(kind: str, body: dict[str, object]) -> None:
    """So the exact path is the one that answers them, with today's codes and messages."""
    frame = pack({"type": kind, "id": 9, "body": body})
    assert codec_module._quick(frame, CLIENT_MESSAGES) is None


def test_a_field_that_may_be_nil_may_be_left_out() -> None:
    """``hello`` without ``token`` (a browser signing in by its cookie) is ``token: nil``,
    though the struct asks for it, so that a ``Hello`` can be built positionally."""
    frame = pack({"type": "hello", "id": 2, "body": {"v": 1, "client": "web/1.0"}})
    assert decode_client_frame(frame) == Envelope(Hello(1, None, "web/1.0"), 2)
    assert codec_module._quick(frame, CLIENT_MESSAGES) is None  # the exact path fills it
