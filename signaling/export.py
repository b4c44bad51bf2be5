"""What the registry exports: the JSON Schema, and the documentation's tables.

Everything here is derived from the message registry (:mod:`signaling.schema`),
the HTTP bodies (:mod:`signaling.http`) and the error catalogue
(:mod:`signaling.errors`):

* ``schema/zvonok.schema.json``: a JSON Schema (draft 2020-12) of every frame
  in each direction, every HTTP body, every error code, and which reply each
  request gets.  The browser client is typed from it (``json-schema-to-
  typescript`` or the like); it describes msgpack frames as well as JSON,
  since the protocol uses no type JSON lacks.
* the tables between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``
  in ``docs/protocol.md``, ``docs/api.md`` and ``docs/auth.md``.

``make schema`` (``python -m signaling.export``) writes both;
``tests/signaling/test_export.py`` fails when a checked-in copy is stale.
The functions are pure; only running the module writes files.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi

from . import chat, messages, rooms, safety
from . import http as bodies
from .codec import MAX_REQUEST_ID_LENGTH
from .errors import CODES, CloseCode, ErrorCode, Section
from .fields import MAX_SAFE_INT
from .messages import PROTOCOL_VERSION
from .schema import CLIENT_MESSAGES, SERVER_MESSAGES, ClientMessage, Message

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "schema" / "zvonok.schema.json"
DOCS = ("docs/protocol.md", "docs/api.md", "docs/auth.md")

SECTIONS: Mapping[str, Any] = {
    "session": messages,
    "chat": chat,
    "safety": safety,
    "rooms": rooms,
}
"""The modules of the registry, as protocol.md's sections list their messages."""


# -- the JSON Schema -------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the protocol: frames, bodies, replies, errors."""
    client = sorted(CLIENT_MESSAGES.items())
    server = sorted(SERVER_MESSAGES.items())
    http: list[Any] = list(bodies.BODIES)
    types: list[Any] = [cls for _, cls in client] + [cls for _, cls in server] + http
    _, components = msgspec.json.schema_components(types, ref_template="#/$defs/{name}")
    request_id = {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INT},
            {"type": "string", "minLength": 1, "maxLength": MAX_REQUEST_ID_LENGTH},
        ],
        "description": "the client's request id; echoed in the reply, absent from events",
    }

    def frame(tag: str, cls: type[Message]) -> dict[str, Any]:
        body: dict[str, Any] = {"$ref": f"#/$defs/{cls.__name__}"}
        required = ["type"]
        if any(f.required for f in msgspec.structs.fields(cls)):
            required.append("body")
        else:
            body = {"anyOf": [body, {"type": "null"}]}
        return {
            "type": "object",
            "properties": {
                "type": {"const": tag},
                "id": {"$ref": "#/$defs/RequestId"},
                "body": body,
            },
            "required": required,
        }

    for component in components.values():
        _nil_may_be_omitted(component)
    defs: dict[str, Any] = {"RequestId": request_id, **components}
    defs["ClientFrame"] = {
        "description": "A frame a client sends: one msgpack map.",
        "oneOf": [frame(tag, cls) for tag, cls in client],
    }
    defs["ServerFrame"] = {
        "description": "A frame a server sends: one msgpack map.",
        "oneOf": [frame(tag, cls) for tag, cls in server],
    }
    defs["ErrorCode"] = {"enum": sorted(CODES)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://zvonok.example/schema/zvonok.schema.json",
        "title": f"The Zvonok protocol, version {PROTOCOL_VERSION}",
        "description": (
            "Frames of the WebSocket /ws (msgpack, one map a frame) and bodies of the HTTP "
            "API (JSON). Generated from signaling/ by `make schema`; do not edit. Stricter "
            "than JSON Schema says in one point: a whole float (1.0) is no integer."
        ),
        "oneOf": [{"$ref": "#/$defs/ClientFrame"}, {"$ref": "#/$defs/ServerFrame"}],
        "x-zvonok": {
            "protocol": PROTOCOL_VERSION,
            "client": {tag: f"#/$defs/{cls.__name__}" for tag, cls in client},
            "server": {tag: f"#/$defs/{cls.__name__}" for tag, cls in server},
            "replies": {tag: list(_reply(cls)) for tag, cls in client},
            "http": {_http_name(b): _ref(b) for b in http},
            "errors": [
                {
                    "code": e.code,
                    "http": e.http,
                    "close": None if e.close is None else int(e.close),
                    "meaning": e.meaning,
                }
                for e in sorted(CODES.values(), key=lambda e: e.code)
            ],
        },
        "$defs": dict(sorted(defs.items())),
    }


def _nil_may_be_omitted(component: dict[str, Any]) -> None:
    """A property that may be null may be left out too (signaling/schema.py): not required."""
    properties = component.get("properties", {})
    required = component.get("required")
    if required:
        kept = [name for name in required if not _admits_null(properties.get(name, {}))]
        if kept:
            component["required"] = kept
        else:
            del component["required"]


def _admits_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(
        option.get("type") == "null" for option in schema.get("anyOf", [])
    )


def _reply(cls: type[Message]) -> tuple[str, ...]:
    return cls.REPLY if issubclass(cls, ClientMessage) else ()


def _http_name(body: Any) -> str:
    options = getattr(body, "__args__", None) or (body,)
    return str(options[0].PATH)


def _ref(body: Any) -> Any:
    options = getattr(body, "__args__", None)
    if options is None:
        return f"#/$defs/{body.__name__}"
    return [f"#/$defs/{o.__name__}" for o in options]


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


# -- describing a field ------------------------------------------------------------------


def _number(value: float) -> str:
    if value == MAX_SAFE_INT:
        return "2^53−1"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}".replace(",", " ") if abs(value) >= 10_000 else str(value)


def _range(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return ""
    return f" {_number(lo or 0)}–{_number(hi) if hi is not None else '∞'}"


def describe(info: mi.Type) -> str:
    """A field's type as protocol.md writes it: ``str 1–128``, ``int 0–2^53−1``..."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        kinds = [describe(t) for t in info.types if not isinstance(t, mi.NoneType)]
        nullable = any(isinstance(t, mi.NoneType) for t in info.types)
        return " \\| ".join(kinds) + (" or nil" if nullable else "")
    if isinstance(info, mi.StrType):
        lo = info.min_length or 0
        hi = info.max_length
        return "str" + ("" if hi is None else _range(lo, hi))
    if isinstance(info, mi.IntType):
        least = info.ge if info.ge is not None else info.gt
        return "int" + _range(least, info.le)
    if isinstance(info, mi.FloatType):
        return "float" + (_range(info.ge, info.le) if info.le not in (None, 1e12) else "")
    if isinstance(info, mi.BoolType):
        return "bool"
    if isinstance(info, mi.LiteralType):
        return " \\| ".join(f"`{v}`" for v in info.values)
    if isinstance(info, mi.ListType | mi.VarTupleType):
        most = f"≤ {_number(info.max_length)} " if info.max_length is not None else ""
        return f"list of {most}{describe(info.item_type)}"
    if isinstance(info, mi.DictType):
        most = f"≤ {_number(info.max_length)} " if info.max_length is not None else ""
        return f"map of {most}{describe(info.key_type)} → {describe(info.value_type)}"
    if isinstance(info, mi.StructType | mi.TypedDictType):
        name = info.cls.__name__
        if isinstance(info, mi.StructType) and len(info.fields) <= 3:
            return "{" + ", ".join(_field(f) for f in info.fields) + "}"
        return f"`{name}`"
    if isinstance(info, mi.AnyType):
        return "any"
    return type(info).__name__.removesuffix("Type").lower()


def _field(field: mi.Field) -> str:
    mark = "" if field.required else "?"
    default = field.default
    shown = ""
    if isinstance(default, bool | int) and not isinstance(default, msgspec.UnsetType):
        shown = f", default `{json.dumps(default)}`"
    return f"`{field.encode_name}`{mark} ({describe(field.type)}{shown})"


def fields_of(cls: type[msgspec.Struct]) -> str:
    info = mi.type_info(cls)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{cls!r} is not a struct")
    return ", ".join(_field(f) for f in info.fields) or "(empty body)"


_ALREADY_SAID = re.compile(
    r"^(Event: |The reply to ``[^`]+``(?:, ``[^`]+``)*(?: and ``[^`]+``)?[:.]\s*)"
)


def _summary(cls: type) -> str:
    """The first sentence of a docstring, without what the table already says."""
    doc = " ".join((cls.__doc__ or "").split())
    doc = re.sub(_ALREADY_SAID, "", doc)
    first = re.split(r"(?<=\.)\s", doc, maxsplit=1)[0]
    first = re.sub(r"\s*``\{.*", "", first).rstrip(":;,. ")
    first = first.replace("``", "`")
    return (first[:1].upper() + first[1:]) if first else "—"


# -- the tables ----------------------------------------------------------------------------


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _in(module: Any, registry: Mapping[str, type[Message]]) -> list[tuple[str, type[Message]]]:
    return [(tag, cls) for tag, cls in registry.items() if cls.__module__ == module.__name__]


def client_table(section: str) -> str:
    rows = [
        (f"`{tag}`", fields_of(cls), ", ".join(f"`{r}`" for r in _reply(cls)) or "none")
        for tag, cls in _in(SECTIONS[section], CLIENT_MESSAGES)
    ]
    return _table(("type", "fields", "reply"), rows)


def server_table(section: str) -> str:
    asked: dict[str, list[str]] = {}
    for tag, cls in CLIENT_MESSAGES.items():
        for reply in _reply(cls):
            asked.setdefault(reply, []).append(f"`{tag}`")
    rows = []
    for tag, cls in _in(SECTIONS[section], SERVER_MESSAGES):
        replies = asked.get(tag)
        sent = f"reply to {', '.join(replies)}" if replies else "event"
        if tag == "error":
            sent = "reply to any request, or to a bad frame"
        summary = _summary(cls)
        rows.append((f"`{tag}`", fields_of(cls), sent if summary == "—" else f"{sent}: {summary}"))
    return _table(("type", "fields", "sent"), rows)


def _shapes(module: Any) -> list[type]:
    """The maps (TypedDicts) and nested structs a section's messages are made of."""
    found: dict[str, type] = {}

    def walk(info: mi.Type) -> None:
        while isinstance(info, mi.Metadata):
            info = info.type
        if isinstance(info, mi.UnionType):
            for option in info.types:
                walk(option)
        elif isinstance(info, mi.ListType | mi.VarTupleType):
            walk(info.item_type)
        elif isinstance(info, mi.DictType):
            walk(info.value_type)
        elif isinstance(info, mi.TypedDictType | mi.StructType):
            name = info.cls.__name__
            if name not in found and not issubclass(info.cls, Message):
                if info.cls.__module__ == module.__name__:
                    found[name] = info.cls
                for field in info.fields:
                    walk(field.type)

    for registry in (CLIENT_MESSAGES, SERVER_MESSAGES):
        for _, cls in _in(module, registry):
            for field in mi.type_info(cls).fields:  # type: ignore[attr-defined]
                walk(field.type)
    return list(found.values())


def shapes_table(section: str) -> str:
    rows = []
    for cls in _shapes(SECTIONS[section]):
        info = mi.type_info(cls)
        if not isinstance(info, mi.TypedDictType | mi.StructType):
            raise TypeError(f"{cls!r} is not a map")
        fields = ", ".join(_field(f) for f in info.fields)
        rows.append((f"`{cls.__name__}`", fields, _summary(cls)))
    return _table(("shape", "keys", "what"), rows)


def http_table() -> str:
    rows = []
    for body in bodies.BODIES:
        options: tuple[Any, ...] = getattr(body, "__args__", None) or (body,)
        for cls in options:
            tag = cls.__struct_config__.tag
            field_text = fields_of(cls) if cls.__struct_fields__ else "(no fields)"
            if tag is not None:
                field_text = f'`"action": "{tag}"`, ' + field_text.replace("(no fields)", "")
            rows.append((f"`{cls.PATH}`", field_text.rstrip(", ")))
    return _table(("endpoint", "JSON body"), rows)


def _codes(section: Section) -> list[ErrorCode]:
    return [e for e in CODES.values() if e.section == section]


def errors_table(section: Section, *, http: bool) -> str:
    head = ("code", "HTTP", "sent when") if http else ("code", "sent when")
    rows = []
    for entry in _codes(section):
        status = "—" if entry.http is None else str(entry.http)
        rows.append(
            (f"`{entry.code}`", status, entry.meaning)
            if http
            else (f"`{entry.code}`", entry.meaning)
        )
    return _table(head, rows)


_FAMILIES = (
    ("`auth.*`", "the token was refused; one code per cause, see [auth.md](auth.md#refusal-codes)"),
    (
        "`chat.*`, `message.*`, `idempotency.conflict`, `person.not_found`, `policy.forbidden`, "
        "`moderation.*`, `content.*`, `report.*`",
        "a chat request was refused; see [Chat error codes](#chat-error-codes)",
    ),
    ("`room.*`", "a room request was refused; see [Room error codes](#room-error-codes)"),
    (
        "`media.*`",
        "the media server could not use an offer, answer, candidate or track id "
        "([Media error codes](#media-error-codes))",
    ),
)


_SOCKET_SIGN_IN = ("auth.missing", "auth.cross_site", "session.expired")
"""Codes of other sections a socket's sign-in also answers with."""


def session_errors_table() -> str:
    rows = [(f"`{e.code}`", e.meaning) for e in _codes("session")]
    rows += [(f"`{c}`", CODES[c].meaning) for c in _SOCKET_SIGN_IN]
    rows += list(_FAMILIES)
    return _table(("code", "sent when"), rows)


_CLOSES: Mapping[CloseCode, tuple[str, str]] = {
    CloseCode.NORMAL: ("normal closure", "the client closed"),
    CloseCode.GOING_AWAY: ("going away", ""),
    CloseCode.MESSAGE_TOO_BIG: ("message too big", "a frame above the hard cap"),
    CloseCode.PROTOCOL_ERROR: ("protocol error", ""),
    CloseCode.UNAUTHORIZED: ("unauthorized", "the `auth.*` code that refused the `hello` token, "),
    CloseCode.FORBIDDEN: ("forbidden", ""),
    CloseCode.TIMEOUT: ("timeout", ""),
    CloseCode.TOO_MANY_REQUESTS: ("too many requests", ""),
    CloseCode.INTERNAL_ERROR: ("internal error", ""),
}


def close_table() -> str:
    rows = []
    for close, (meaning, extra) in _CLOSES.items():
        reasons = [
            f"`{e.code}`" for e in CODES.values() if e.close is close and e.section != "auth"
        ]
        if close is CloseCode.UNAUTHORIZED:
            reasons = ["`auth.expired`", *reasons]
        text = extra + ", ".join(reasons)
        rows.append((str(int(close)), meaning, text.rstrip(", ")))
    return _table(("code", "meaning", "reasons"), rows)


_STATUSES: Mapping[int, str] = {
    400: "the request is malformed, or one the service cannot take",
    401: "no token, a malformed `Authorization` header, or a refused token",
    403: "the token is good but the caller may not do this",
    404: "not found (or not the caller's: the two look the same)",
    408: "the request's body did not arrive in time",
    409: "the request contradicts stored state",
    413: "the body is over the endpoint's limit",
    422: "a body that parses but cannot be used",
    429: "too many at once; `Retry-After` and `retry_after` say when to try again",
    500: "an unexpected fault; details are in the server log only",
    503: "storage is unavailable; retry later",
}


def status_table() -> str:
    rows = []
    for status, meaning in _STATUSES.items():
        codes = [e.code for e in CODES.values() if e.http == status]
        if status == 401:
            others = [e.code for e in CODES.values() if e.http == 401 and e.section != "auth"]
            codes = ["auth.missing", "auth.malformed", "auth.*", *others]
        rows.append((str(status), meaning, ", ".join(f"`{c}`" for c in codes)))
    return _table(("status", "when", "codes"), rows)


def auth_table() -> str:
    rows = [(f"`{e.code}`", e.meaning) for e in _codes("auth") if e.code != "auth.missing"]
    return _table(("code", "when"), rows)


def _per_section(render: Callable[[str], str], section: str) -> Callable[[], str]:
    return lambda: render(section)


GENERATED: Mapping[str, Callable[[], str]] = {
    **{f"messages {s} client": _per_section(client_table, s) for s in SECTIONS},
    **{f"messages {s} server": _per_section(server_table, s) for s in SECTIONS},
    **{f"shapes {s}": _per_section(shapes_table, s) for s in SECTIONS},
    "http bodies": http_table,
    "errors session": session_errors_table,
    "errors chat": lambda: errors_table("chat", http=True),
    "errors room": lambda: errors_table("room", http=True),
    "errors media": lambda: errors_table("media", http=False),
    "errors http": lambda: errors_table("http", http=True),
    "errors auth": auth_table,
    "errors sign_in": lambda: errors_table("sign_in", http=True),
    "close codes": close_table,
    "http statuses": status_table,
}
"""Each generated region of the docs, by the name its markers carry."""

_REGION = re.compile(
    r"(<!-- generated: (?P<name>[^>]+?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL
)


def regenerate(text: str) -> str:
    """``text`` (a Markdown document) with each generated region rewritten."""

    def fill(match: re.Match[str]) -> str:
        name = match["name"].strip()
        if name not in GENERATED:
            raise KeyError(f"no generated table {name!r}")
        return f"{match[1]}{GENERATED[name]()}\n{match[4]}"

    return _REGION.sub(fill, text)


def regions(text: str) -> list[str]:
    return [m["name"].strip() for m in _REGION.finditer(text)]


def main(argv: list[str]) -> int:
    """Write the schema and the docs' tables (``--check``: only say whether they are stale)."""
    check = "--check" in argv
    stale: list[str] = []
    outputs = {SCHEMA_PATH: schema_text()}
    for doc in DOCS:
        path = ROOT / doc
        outputs[path] = regenerate(path.read_text(encoding="utf-8"))
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    verb = "stale" if check else "written"
    print("\n".join(f"{verb}: {s}" for s in stale) or "up to date")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
