"""``log_format = "json"`` (issue 18, point 5): a real ``zvonok serve`` writes
one JSON object per line, each line of a connection names its session and
each line of an HTTP request its request (also sent as ``X-Request-Id``),
and no line holds the token or the message."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import aiohttp

from signaling.chat import AckMsg, Send
from signaling.client import Client
from tests.serverproc import ServerProcess

CLASS_5A = "class:sosh-1-5a"


async def test_json_lines_name_their_session_or_request_and_hold_no_secret(
    tmp_path: Path,
) -> None:
    server = ServerProcess(
        tmp_path / "node", env={"ZVONOK_LOG_FORMAT": "json", "ZVONOK_LOG_LEVEL": "DEBUG"}
    )
    await server.start()
    try:
        token = server.identity_provider().issue(1000100101)
        text = f"секрет {secrets.token_hex(8)}"
        async with await Client.connect(server.ws_url, token) as client:
            ack = await client.request(Send(chat=CLASS_5A, text=text, key="log-json-1"))
            assert isinstance(ack, AckMsg)
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {tampered}"}
            async with http.get(f"{server.base}/api/v1/me", headers=headers) as refused:
                assert refused.status == 401
                request_id = refused.headers["X-Request-Id"]
    finally:
        await server.stop()

    logged = server.stderr()
    lines = [
        json.loads(line)
        for line in logged.splitlines()
        if line.strip() and not line.startswith("--- stderr-")
    ]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    sessions = [line for line in lines if "session" in line]
    assert sessions, logged
    assert all(
        line["session"] in line["message"] for line in sessions if "connection " in line["message"]
    )
    assert [line for line in lines if line.get("request") == request_id], logged
    for secret in (token, tampered, text, token.split(".")[1][:24]):
        assert secret not in logged
