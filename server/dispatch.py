"""The dispatch table: which handler serves each request a client may send.

A feature's session class marks each of its handlers with the request it
serves, ``@handles(wire.Send)``; :func:`routes` reads the marks of an object's
handlers into ``{message class: bound handler}``, and the connection merges
the tables of its features into the one it dispatches on.  So a request is
added in one place (its definition in ``signaling/``) plus its handler, and
``tests/server/test_dispatch.py`` fails when a message a client may send
(:data:`signaling.schema.CLIENT_MESSAGES`) has no handler, or a handler
serves something that is not such a message.

A handler takes the decoded message and the request id and returns the reply,
or ``None`` when it has none (``typing``) or sends it itself (``sync``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from signaling.codec import RequestId
from signaling.messages import Message

Handler = Callable[[Any, RequestId | None], Awaitable[Message | None]]
"""A bound handler: the message (of the class it is routed by) and its request id."""

F = TypeVar("F", bound=Callable[..., Awaitable[Message | None]])

_MARK = "__zvonok_handles__"


def handles(kind: type[Message]) -> Callable[[F], F]:
    """Mark a method as the handler of the client message ``kind``."""

    def mark(method: F) -> F:
        setattr(method, _MARK, kind)
        return method

    return mark


def handled_by(owner: type) -> dict[type[Message], str]:
    """The messages the methods of ``owner`` (a class) are marked to handle, to the
    names of those methods."""
    table: dict[type[Message], str] = {}
    for name, member in inspect.getmembers(owner, inspect.isfunction):
        kind = getattr(member, _MARK, None)
        if kind is None:
            continue
        if kind in table:
            raise TypeError(f"{kind.TYPE} is handled twice in {owner.__name__}")
        table[kind] = name
    return table


def routes(*handlers: object) -> dict[type[Message], Handler]:
    """The dispatch table of these objects' marked handlers, bound; a message two of
    them handle is an error."""
    table: dict[type[Message], Handler] = {}
    for obj in handlers:
        for kind, name in handled_by(type(obj)).items():
            if kind in table:
                raise TypeError(f"{kind.TYPE} is handled twice")
            table[kind] = getattr(obj, name)
    return table
