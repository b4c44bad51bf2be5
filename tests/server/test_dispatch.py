"""The dispatch table against the registry: every request a client may send has
exactly one handler, and every handler serves such a request."""

from __future__ import annotations

import typing
from collections.abc import Mapping

import pytest

from server.connection import FEATURES, Connection
from server.dispatch import handled_by, handles, routes
from signaling.codec import CLIENT_MESSAGES, SERVER_MESSAGES, RequestId
from signaling.messages import Message, Ping
from signaling.schema import ClientMessage

OWNERS: tuple[type, ...] = (Connection, *FEATURES)


def served(owners: tuple[type, ...]) -> dict[type[Message], list[str]]:
    table: dict[type[Message], list[str]] = {}
    for owner in owners:
        for kind, name in handled_by(owner).items():
            table.setdefault(kind, []).append(f"{owner.__name__}.{name}")
    return table


def unserved(owners: tuple[type, ...], registry: Mapping[str, type[Message]]) -> list[str]:
    table = served(owners)
    return sorted(tag for tag, cls in registry.items() if cls not in table)


def test_every_client_message_has_exactly_one_handler() -> None:
    table = served(OWNERS)
    assert unserved(OWNERS, CLIENT_MESSAGES) == []
    assert {k: v for k, v in table.items() if len(v) > 1} == {}


def test_every_handler_serves_a_client_message() -> None:
    clients = set(CLIENT_MESSAGES.values())
    strays = {kind.__name__ for kind in served(OWNERS) if kind not in clients}
    assert strays == set()


def test_each_handler_takes_the_message_it_is_routed_by() -> None:
    for owner in OWNERS:
        for kind, name in handled_by(owner).items():
            hints = typing.get_type_hints(getattr(owner, name))
            first = next(iter(hints))
            assert hints[first] is kind, f"{owner.__name__}.{name} takes {hints[first]}"


def test_a_request_without_a_handler_is_found() -> None:
    """What the first test would say of a request added to the registry alone."""

    class Orphan(ClientMessage, frozen=True):  # no TYPE: not registered for real
        pass

    registry = {**CLIENT_MESSAGES, "orphan.request": Orphan}
    assert unserved(OWNERS, registry) == ["orphan.request"]


def test_a_handler_of_a_server_message_is_a_stray() -> None:
    class Confused:
        @handles(SERVER_MESSAGES["pong"])
        async def pong(self, message: Message, rid: RequestId | None) -> None:
            return None

    strays = [k for k in served((Confused,)) if k not in set(CLIENT_MESSAGES.values())]
    assert [k.TYPE for k in strays] == ["pong"]


def test_two_handlers_of_one_message_are_refused() -> None:
    class First:
        @handles(Ping)
        async def ping(self, message: Ping, rid: RequestId | None) -> None:
            return None

    class Second(First):
        @handles(Ping)
        async def other(self, message: Ping, rid: RequestId | None) -> None:
            return None

    with pytest.raises(TypeError, match="ping is handled twice"):
        routes(First(), First())
    with pytest.raises(TypeError, match="ping is handled twice"):
        handled_by(Second)


def test_each_handler_returns_what_its_request_declares_as_its_reply() -> None:
    """A request's ``REPLY`` (what the docs and the exported schema say it gets) is
    what its handler returns; a handler that returns nothing replies itself or not."""
    for owner in OWNERS:
        for kind, name in handled_by(owner).items():
            declared = set(typing.cast(typing.Any, kind).REPLY)
            assert declared <= set(SERVER_MESSAGES), kind.TYPE
            returned = typing.get_type_hints(getattr(owner, name))["return"]
            options = typing.get_args(returned) or (returned,)
            tags = {o.TYPE for o in options if o is not type(None)}
            assert tags <= declared, f"{owner.__name__}.{name} returns {tags}, not {declared}"
            if tags != declared:  # replies from elsewhere (sync) or not at all (typing)
                assert type(None) in options, f"{owner.__name__}.{name}"
