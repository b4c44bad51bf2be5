"""The ``zvonok`` command as an operator runs it: real processes, real sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from server.roster.demo import DEMO_ROSTER
from server.store.sqlite import SqliteStore


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ZVONOK_STORAGE_DATABASE": f"sqlite:{tmp_path / 'zvonok.db'}",
        "ZVONOK_DEV_IDP_DIRECTORY": str(tmp_path / "dev-idp"),
    }


def zvonok(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=tmp_path,
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_roster_import_is_idempotent_and_reports_errors(tmp_path: Path) -> None:
    first = zvonok(tmp_path, "roster", "import", str(DEMO_ROSTER))
    assert first.returncode == 0, first.stderr
    second = zvonok(tmp_path, "roster", "import", str(DEMO_ROSTER))
    assert second.returncode == 0, second.stderr
    assert first.stdout != second.stdout
    assert "no changes" in second.stdout.lower()

    document = json.loads(DEMO_ROSTER.read_text(encoding="utf-8"))
    document["people"][0]["birth_date"] = "2015-02-30"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    refused = zvonok(tmp_path, "roster", "import", str(bad))
    assert refused.returncode == 1
    assert "people[0].birth_date" in refused.stderr
    asyncio.run(_assert_audited_as_the_operator(tmp_path / "zvonok.db"))


async def _assert_audited_as_the_operator(path: Path) -> None:
    """The operator's imports are in the school's audit log, as actor 0."""
    store = SqliteStore(path)
    await store.open()
    try:
        entries = await store.audit_log("sosh-1", after=0, limit=500)
    finally:
        await store.close()
    actions = [(e.record.action, e.record.actor) for e in entries]
    assert actions[0] == ("roster.import", 0)
    assert ("roster.change", 0) in actions
    assert actions[-1] == ("roster.import", 0)  # the second, unchanged, import


def test_dev_token_refuses_people_not_on_the_roster(tmp_path: Path) -> None:
    assert zvonok(tmp_path, "roster", "import", str(DEMO_ROSTER)).returncode == 0
    result = zvonok(tmp_path, "dev-token", "12345")
    assert result.returncode == 1
    assert "not on the roster" in result.stderr


def test_dev_token_works_on_a_fresh_clone_before_serve(tmp_path: Path) -> None:
    """The README's Quick start: a token first, `make serve` second. The
    embedded default seeds the demo school as serve would."""
    result = zvonok(tmp_path, "dev-token", "1000100003")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(".") == 2  # a compact JWS


def test_production_mode_refuses_the_dev_identity_provider(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=tmp_path,
        env={**env_for(tmp_path), "ZVONOK_MODE": "production", "ZVONOK_DEV_IDP_ENABLED": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "development identity provider" in result.stderr


async def test_serve_then_dev_token_then_me(tmp_path: Path) -> None:
    """The check from the issue: make serve, dev-token for a teacher, /api/v1/me."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        banner = ""
        async with asyncio.timeout(30):
            while "curl" not in banner:
                line = await process.stdout.readline()
                assert line, "the server exited before it was ready"
                banner += line.decode()
        assert f"http://127.0.0.1:{port}/dev/login" in banner
        assert f"WebSocket: ws://127.0.0.1:{port}/ws" in banner
        match = re.search(r"dev-token (\d+)", banner)
        assert match is not None
        oid = int(match.group(1))

        issued = await asyncio.to_thread(zvonok, tmp_path, "dev-token", str(oid))
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()

        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/api/v1/me"
            async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 200
                me = await response.json()
            assert me["person"]["oid"] == oid
            assert "teacher" in {r["role"] for r in me["roles"]}

            header, payload, signature = token.split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["exp"] += 86400
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
            tampered = f"{header}.{forged}.{signature}"
            async with http.get(url, headers={"Authorization": f"Bearer {tampered}"}) as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "auth.tampered"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    assert code == 0


@pytest.mark.parametrize("args", [["roster"], ["nope"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert zvonok(tmp_path, *args).returncode == 2


def test_a_missing_certificate_file_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env={**env_for(tmp_path), "ZVONOK_ESIA_CERTIFICATES": str(tmp_path / "missing.pem")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot read ESIA certificate" in result.stderr
    assert "Traceback" not in result.stderr
