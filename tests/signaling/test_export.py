"""What the registry exports: the checked-in JSON Schema and the docs' generated
tables are current, and the schema accepts the frames the codec makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import msgpack
import pytest

from signaling import export
from signaling.codec import CLIENT_MESSAGES, SERVER_MESSAGES, encode
from signaling.errors import CODES
from signaling.messages import Message
from tests.signaling import test_room_messages as rooms
from tests.signaling import test_safety_messages as safety
from tests.signaling.test_chat_messages import (
    BAD_CLIENT_BODIES,
    CHAT_CLIENT_SAMPLES,
    CHAT_SERVER_SAMPLES,
)
from tests.signaling.test_codec import CLIENT_SAMPLES, SERVER_SAMPLES

ROOT = Path(__file__).resolve().parents[2]
CLIENT = [*CLIENT_SAMPLES, *CHAT_CLIENT_SAMPLES, *safety.CLIENT_SAMPLES, *rooms.CLIENT_SAMPLES]
SERVER = [*SERVER_SAMPLES, *CHAT_SERVER_SAMPLES, *safety.SERVER_SAMPLES, *rooms.SERVER_SAMPLES]


def test_the_checked_in_schema_is_current() -> None:
    on_disk = (ROOT / "schema" / "zvonok.schema.json").read_text(encoding="utf-8")
    assert on_disk == export.schema_text(), "run `make schema`"


def test_the_checked_in_typescript_is_current() -> None:
    """The web client's types (``make typecheck`` compiles them with the client's)."""
    on_disk = export.TYPESCRIPT_PATH.read_text(encoding="utf-8")
    assert on_disk == export.typescript(), "run `make schema`"
    assert "export interface Send {" in on_disk
    assert '"send": Send;' in on_disk and '"send": "ack";' in on_disk


@pytest.mark.parametrize("doc", export.DOCS)
def test_the_docs_generated_tables_are_current(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert text == export.regenerate(text), f"run `make schema` ({doc})"


def test_every_generated_table_is_in_a_doc() -> None:
    used = [name for doc in export.DOCS for name in export.regions((ROOT / doc).read_text())]
    assert sorted(used) == sorted(export.GENERATED)


def test_a_stale_table_is_seen() -> None:
    text = "<!-- generated: errors media -->\n| old |\n<!-- end generated -->\n"
    assert export.regenerate(text) != text
    assert "`media.bad_sdp`" in export.regenerate(text)


def test_the_schema_lists_every_message_and_error_code() -> None:
    schema = export.json_schema()
    meta = schema["x-zvonok"]
    assert set(meta["client"]) == set(CLIENT_MESSAGES)
    assert set(meta["server"]) == set(SERVER_MESSAGES)
    assert [e["code"] for e in meta["errors"]] == sorted(CODES)
    assert set(meta["replies"]) == set(CLIENT_MESSAGES)


def validator(frame: str) -> Any:
    schema = export.json_schema()
    root = {**schema, "$ref": f"#/$defs/{frame}"}
    root.pop("oneOf")
    return jsonschema.Draft202012Validator(root)


@pytest.fixture(scope="module")
def client_frames() -> Any:
    return validator("ClientFrame")


@pytest.fixture(scope="module")
def server_frames() -> Any:
    return validator("ServerFrame")


@pytest.mark.parametrize("message", CLIENT, ids=lambda m: m.TYPE)
def test_the_schema_takes_every_client_sample(client_frames: Any, message: Message) -> None:
    client_frames.validate(msgpack.unpackb(encode(message, 7)))


@pytest.mark.parametrize("message", SERVER, ids=lambda m: m.TYPE)
def test_the_schema_takes_every_server_sample(server_frames: Any, message: Message) -> None:
    server_frames.validate(msgpack.unpackb(encode(message)))


def _in_json(body: dict[str, Any]) -> bool:
    """Whether JSON Schema can tell this bad body from a good one: JSON has no
    bytes, and JSON Schema counts 1.0 as an integer where the codec does not
    (the schema says so in ``x-zvonok``)."""
    return not any(
        isinstance(v, bytes) or (isinstance(v, float) and v.is_integer()) for v in body.values()
    )


SCHEMA_REFUSALS = [case for case in BAD_CLIENT_BODIES[:40] if _in_json(case[1])]


def test_most_bad_bodies_are_expressible_in_json() -> None:
    assert len(SCHEMA_REFUSALS) >= 30


@pytest.mark.parametrize(("kind", "body", "field"), SCHEMA_REFUSALS)
def test_the_schema_refuses_what_the_codec_refuses(
    client_frames: Any, kind: str, body: dict[str, Any], field: str
) -> None:
    assert not client_frames.is_valid({"type": kind, "id": 1, "body": body})


def test_a_server_message_is_no_client_frame(client_frames: Any) -> None:
    assert not client_frames.is_valid({"type": "welcome", "body": {}})
