"""The registry: every message of the protocol, each defined once as a msgspec ``Struct``.

A message is a frozen :class:`msgspec.Struct` with a type tag (``TYPE``) that
derives from :class:`ClientMessage` (a client may send it), :class:`ServerMessage`
(a server may send it) or both.  Defining the class registers it: the codec's
per-direction allow-lists (:data:`CLIENT_MESSAGES`, :data:`SERVER_MESSAGES`),
the server's dispatch table (checked against :data:`CLIENT_MESSAGES` by
``tests/server/test_dispatch.py``), the exported JSON Schema and the message
tables of ``docs/protocol.md`` (:mod:`signaling.export`) all read these.

What msgspec checks from the annotations: types (a bool is not an integer, a
float is not an integer, bytes are not a string), ranges and lengths
(:mod:`signaling.fields`), choices, and nested shapes.  What it cannot
(a rule across fields, one emoji) a message states in :meth:`Message.check`,
which the codec runs after decoding, never on construction: a test may build
a message the server must refuse.

The wire form differs from msgspec's defaults in one way, on purpose:
an optional field may be omitted or ``nil`` (docs/protocol.md, "Fields
marked ? are optional (omitted or nil)").  So ``nil`` for a field that has a
default means the default (``"on": nil`` in a ``react`` is ``on: true``),
and a field whose type admits ``nil`` may be left out (``hello`` without a
``token``), even where the struct asks for it, so that it can be built
positionally.  msgspec refuses both, so :func:`convert` retries a refused
body with those ``nil`` values dropped and those left out filled in; a body
without them pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Final, TypeVar, overload

import msgspec
from msgspec import inspect as mi

from .errors import MESSAGE_INVALID, ProtocolError

T = TypeVar("T")


class FieldError(ValueError):
    """A cross-field rule (:meth:`Message.check`) refused ``field`` (a dotted path)."""

    def __init__(self, field: str, expected: str, code: str = MESSAGE_INVALID) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected
        self.code = code


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """Base of all messages.  ``encode()`` is the body as plain msgpack/JSON data.

    ``omit_defaults``: a field at its default is left out of the body (an
    unset ``key``, ``reply_to``...).  A message whose fields are always sent,
    even at their default (``react``'s ``on``), sets ``omit_defaults=False``
    and types the fields that may be absent as ``X | UnsetType = UNSET``.
    """

    TYPE: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:  # a message, not a base: register it
            _register(cls)

    def encode(self) -> dict[str, Any]:
        """The body: what goes under ``body`` in the frame."""
        body: dict[str, Any] = msgspec.to_builtins(self)
        return body

    def check(self) -> None:
        """Rules across fields, run after decoding; raise :class:`FieldError`."""


class ClientMessage(Message, frozen=True):
    """A message a client sends and the server handles.

    ``REPLY``: the types of the server's answer on success (none for ``typing``);
    any request may be answered by ``error`` instead.
    """

    REPLY: ClassVar[tuple[str, ...]] = ()


class ServerMessage(Message, frozen=True):
    """A message the server sends: a reply or an event."""


_client: dict[str, type[Message]] = {}
_server: dict[str, type[Message]] = {}

CLIENT_MESSAGES: Final[Mapping[str, type[Message]]] = _client
"""What a client may send, by type tag."""

SERVER_MESSAGES: Final[Mapping[str, type[Message]]] = _server
"""What a server may send, by type tag."""


def _register(cls: type[Message]) -> None:
    for base, registry in ((ClientMessage, _client), (ServerMessage, _server)):
        if issubclass(cls, base):
            other = registry.get(cls.TYPE)
            if other is not None and other is not cls:
                raise TypeError(f"{cls.TYPE!r} is both {other.__name__} and {cls.__name__}")
            registry[cls.TYPE] = cls


def given(value: T | msgspec.UnsetType) -> T | None:
    """``None`` for a field left unset (``UNSET``), else its value."""
    return None if isinstance(value, msgspec.UnsetType) else value


# -- decoding --------------------------------------------------------------------------


@overload
def convert(body: Mapping[str, Any], cls: type[T], name: str, *, code: str = ...) -> T: ...
@overload
def convert(body: Mapping[str, Any], cls: Any, name: str, *, code: str = ...) -> Any: ...
def convert(body: Mapping[str, Any], cls: Any, name: str, *, code: str = MESSAGE_INVALID) -> Any:
    """``body`` (decoded msgpack or JSON) as a ``cls``, validated, or ProtocolError.

    ``name`` prefixes the field in the error (``send`` gives ``send.text: ...``);
    ``code`` is the error's code (``message.invalid`` on the socket).
    """
    try:
        try:
            value = msgspec.convert(body, cls)
        except msgspec.ValidationError:
            stripped = _without_nil_defaults(body, cls)
            if stripped is body:
                raise
            value = msgspec.convert(stripped, cls)
        if isinstance(value, Message):
            value.check()
    except FieldError as exc:
        raise ProtocolError(exc.code, f"{_join(name, exc.field)}: {exc.expected}") from None
    except msgspec.ValidationError as exc:
        raise ProtocolError(code, explain(str(exc), name)) from None
    return value


_AT = re.compile(r"(?s)(?P<text>.*?) - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`")
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`")


def explain(error: str, name: str) -> str:
    """msgspec's ``Expected `int`, got `bool` - at `$.members[0]``` as
    ``group.create.members[0]: expected `int`, got `bool```: the field first,
    named as the protocol's documentation names it."""
    path, key = "", False
    match = _AT.fullmatch(error)
    if match is not None:
        error, path, key = match["text"], match["path"], bool(match["key"])
    missing = _MISSING.fullmatch(error)
    if missing is not None:
        return f"{_join(name, path, missing['field'])}: required"
    text = error[:1].lower() + error[1:]
    return f"{_join(name, path)}: {text}{' (a map key)' if key else ''}"


def _join(name: str, *parts: str) -> str:
    out = name or "body"
    for part in parts:
        if not part:
            continue
        if part.startswith("[") or part.startswith("."):
            out += part
        else:
            out += "." + part
    return out.removeprefix("body.").lstrip(".")


def _without_nil_defaults(body: Any, cls: Any) -> Any:
    """``body`` without the ``nil`` values of fields that have a default, at every
    depth the schema describes; ``body`` itself when there are none."""
    return _strip(body, _type_info(cls))


def _tag_fits(option: mi.StructType, value: Any) -> bool:
    if option.tag_field is None:
        return True
    return isinstance(value, dict) and value.get(option.tag_field) == option.tag


def _nullable(info: mi.Type) -> bool:
    while isinstance(info, mi.Metadata):
        info = info.type
    return isinstance(info, mi.NoneType) or (
        isinstance(info, mi.UnionType) and any(isinstance(t, mi.NoneType) for t in info.types)
    )


@cache
def _type_info(cls: Any) -> mi.Type:
    return mi.type_info(cls)


def _strip(value: Any, info: mi.Type) -> Any:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        for option in info.types:
            if isinstance(option, mi.StructType) and not _tag_fits(option, value):
                continue  # a tagged union's other members
            if not isinstance(option, mi.NoneType):
                stripped = _strip(value, option)
                if stripped is not value:
                    return stripped
        return value
    if isinstance(info, mi.StructType | mi.TypedDictType) and isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        fields = {f.encode_name: f for f in info.fields}
        for name, wanted in fields.items():
            if wanted.required and name not in value and _nullable(wanted.type):
                out[name] = None
                changed = True
        for key, item in value.items():
            field = fields.get(key) if isinstance(key, str) else None
            if field is None:
                out[key] = item
                continue
            if item is None and not field.required:
                changed = True
                continue
            inner = _strip(item, field.type)
            changed |= inner is not item
            out[key] = inner
        return out if changed else value
    if isinstance(info, mi.ListType | mi.TupleType | mi.VarTupleType) and isinstance(value, list):
        item_type = info.item_type if not isinstance(info, mi.TupleType) else None
        if item_type is None:
            return value
        items = [_strip(item, item_type) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value
