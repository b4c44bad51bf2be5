"""A roster upload's body is read to its end however it arrives (issue 12, F7).

The handler once read the body with one ``content.read(n)``, which returns
what has arrived so far: a file larger than the server buffers before the
handler reads was cut, and refused as invalid JSON.  The body is now read
whole, up to a limit answered with 413 ``roster.too_large``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from tests.conftest import Running
from tests.server.test_http_chats import Reply, bearer
from tests.server.test_safety_ws import STRANGER_TEACHER, second_school, with_second_school

MAX_UPLOAD = 16 * 1024 * 1024


async def post_chunks(zvonok: Running, oid: int, chunks: list[bytes]) -> Reply:
    """POST the chunks as a chunked body, one write each (no Content-Length)."""

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    headers = {**bearer(zvonok, oid), "Content-Type": "application/json"}
    url = f"{zvonok.base}/api/v1/admin/roster"
    async with zvonok.http.post(url, data=body(), headers=headers) as response:
        return Reply(response.status, await response.json(), response.headers)


def padded(document: dict[str, Any], size: int) -> bytes:
    """``document`` as JSON of ``size`` bytes: spaces after its first brace,
    as a pretty-printed export has whitespace all through it."""
    raw = json.dumps(document, ensure_ascii=False).encode()
    return b"{" + b" " * (size - len(raw)) + raw[1:]


def split(raw: bytes, parts: int) -> list[bytes]:
    step = -(-len(raw) // parts)
    return [raw[i : i + step] for i in range(0, len(raw), step)]


async def test_a_file_sent_in_chunks_is_read_to_its_end(zvonok: Running) -> None:
    """Two megabytes in eight chunks: far more than the server buffers before
    the handler reads, so a single partial read would see a cut file."""
    await with_second_school(zvonok)
    document = second_school()
    document["people"][1]["first_name"] = "Пётр Большой"
    raw = padded(document, 2 * 1024 * 1024)

    reply = await post_chunks(zvonok, STRANGER_TEACHER, split(raw, 8))

    assert reply.status == 200, reply.body
    assert reply.body["summary"] == "people: 1 updated"


async def test_a_file_over_the_limit_is_refused_as_too_large(zvonok: Running) -> None:
    await with_second_school(zvonok)
    raw = padded(second_school(), MAX_UPLOAD + 1)

    chunked = await post_chunks(zvonok, STRANGER_TEACHER, split(raw, 17))
    url = f"{zvonok.base}/api/v1/admin/roster"
    async with zvonok.http.post(url, data=raw, headers=bearer(zvonok, STRANGER_TEACHER)) as r:
        declared = Reply(r.status, await r.json(), r.headers)

    for reply in (chunked, declared):
        assert (reply.status, reply.code) == (413, "roster.too_large"), reply.body
    assert reply.body["error"]["limit"] == MAX_UPLOAD
