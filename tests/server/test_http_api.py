"""The HTTP API over a real socket: health, /api/v1/me, dev sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from server.appkeys import STORE
from server.clock import ManualClock
from server.roster.model import Role
from tests.conftest import Running


async def get_me(zvonok: Running, authorization: str | None) -> tuple[int, Any, str | None]:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with zvonok.http.get(f"{zvonok.base}/api/v1/me", headers=headers) as response:
        return response.status, await response.json(), response.headers.get("WWW-Authenticate")


async def test_health_and_readiness(zvonok: Running) -> None:
    async with zvonok.http.get(f"{zvonok.base}/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    async with zvonok.http.get(f"{zvonok.base}/readyz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readiness_fails_when_the_store_is_gone(zvonok: Running) -> None:
    await zvonok.app[STORE].close()
    async with zvonok.http.get(f"{zvonok.base}/readyz") as response:
        body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "store.unavailable"


async def test_me_for_a_teacher(zvonok: Running) -> None:
    oid = zvonok.person(Role.TEACHER)
    status, body, _ = await get_me(zvonok, f"Bearer {zvonok.token(oid)}")
    assert status == 200
    assert body["person"]["oid"] == oid
    assert "teacher" in {r["role"] for r in body["roles"]}
    assert {c["relation"] for c in body["classes"]} <= {"class_teacher", "subject_teacher"}
    assert body["classes"]


async def test_me_for_a_parent_lists_children_with_their_classes(zvonok: Running) -> None:
    oid = zvonok.person(Role.PARENT, exclude_roles=(Role.TEACHER,))
    status, body, _ = await get_me(zvonok, f"Bearer {zvonok.token(oid)}")
    assert status == 200
    assert [r["role"] for r in body["roles"]] == ["parent"]
    assert body["children"]
    for child in body["children"]:
        assert [c["relation"] for c in child["classes"]] == ["student"]


async def test_me_for_a_student(zvonok: Running) -> None:
    oid = zvonok.person(Role.STUDENT)
    status, body, _ = await get_me(zvonok, f"Bearer {zvonok.token(oid)}")
    assert status == 200
    assert [r["role"] for r in body["roles"]] == ["student"]
    assert [c["relation"] for c in body["classes"]] == ["student"]
    assert body["children"] == []


async def test_tampered_token_is_401_with_a_code(zvonok: Running) -> None:
    token = zvonok.token(zvonok.person(Role.TEACHER))
    header, payload, signature = token.split(".")
    # flip the OID inside the signed payload: a trusted key signed other content
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["urn:esia:sbj_id"] = zvonok.person(Role.ADMIN)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    status, body, challenge = await get_me(zvonok, f"Bearer {header}.{forged_payload}.{signature}")
    assert status == 401
    assert body["error"]["code"] == "auth.tampered"
    assert challenge is not None and 'error="invalid_token"' in challenge


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "auth.missing"),
        ("Basic dXNlcjpwYXNz", "auth.malformed"),
        ("Bearer ", "auth.malformed"),
        ("Bearer not-a-jwt", "auth.malformed"),
    ],
)
async def test_missing_or_malformed_authorization(
    zvonok: Running, authorization: str | None, code: str
) -> None:
    status, body, _ = await get_me(zvonok, authorization)
    assert (status, body["error"]["code"]) == (401, code)


async def test_expired_token_is_401(zvonok: Running, clock: ManualClock) -> None:
    token = zvonok.token(zvonok.person(Role.TEACHER), lifetime=60)
    clock.advance(61)
    status, body, _ = await get_me(zvonok, f"Bearer {token}")
    assert (status, body["error"]["code"]) == (401, "auth.expired")


async def test_unknown_person_is_403(zvonok: Running) -> None:
    status, body, _ = await get_me(zvonok, f"Bearer {zvonok.token(424242)}")
    assert (status, body["error"]["code"]) == (403, "auth.unknown_person")


async def test_dev_login_lists_people_and_issues_tokens(zvonok: Running) -> None:
    async with zvonok.http.get(f"{zvonok.base}/dev/login") as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]
    async with zvonok.http.get(f"{zvonok.base}/dev/people") as response:
        people = await response.json()
    assert len(people) == len(zvonok.directory) >= 50
    oid = people[0]["person"]["oid"]
    async with zvonok.http.post(f"{zvonok.base}/dev/token", json={"oid": oid}) as response:
        assert response.status == 201
        issued = await response.json()
    status, body, _ = await get_me(zvonok, f"Bearer {issued['token']}")
    assert (status, body["person"]["oid"]) == (200, oid)


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"oid": 5}, 404, "auth.unknown_person"),
        ({"oid": "1"}, 400, "request.invalid"),
        ([], 400, "request.invalid"),
    ],
)
async def test_dev_token_refusals(zvonok: Running, payload: object, status: int, code: str) -> None:
    async with zvonok.http.post(f"{zvonok.base}/dev/token", json=payload) as response:
        assert (response.status, (await response.json())["error"]["code"]) == (status, code)
