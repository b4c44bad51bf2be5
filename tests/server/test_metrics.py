"""``/metrics`` (issue 18, point 5): the node's figures in Prometheus's format,
read by Prometheus's own parser, and never a person's words or number."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from server.clock import ManualClock
from server.metrics import may_scrape
from signaling.chat import ChatEventMsg
from tests.conftest import Running, ServerFactory
from tests.server.test_chats_ws import CLASS_5A, send, students_5a

TEACHER_5A = 1000100003
SECRET_TEXT = "Секретное слово: пирожок"


async def scrape(node: Running) -> tuple[str, dict[str, float]]:
    async with node.http.get(f"{node.base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return text, samples


async def test_metrics_count_connections_events_deliveries_latency_and_rooms(
    make_server: ServerFactory,
) -> None:
    node = await make_server(ManualClock())
    anya_oid, boris_oid = students_5a(node)[:2]
    anya, boris = await node.connect(anya_oid), await node.connect(boris_oid)
    _, before = await scrape(node)
    assert before["zvonok_connections"] == 2

    await send(anya, CLASS_5A, SECRET_TEXT)
    await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)
    teacher = await node.connect(TEACHER_5A)
    room = await teacher.start_room("sosh-1-5a", "lesson", "Математика")
    await teacher.join_room(room["id"])

    text, after = await scrape(node)
    assert after["zvonok_connections"] == 3
    assert after["zvonok_chat_events_total{kind=message}"] == 1
    assert after["zvonok_deliveries_total"] > before["zvonok_deliveries_total"]
    assert after["zvonok_send_to_delivery_seconds_count"] >= 2  # to Аня's and Борис's feeds
    assert (after["zvonok_rooms"], after["zvonok_room_participants"]) == (1, 1)
    assert after["zvonok_sfu_tracks"] == 0
    assert after["zvonok_slow_consumer_closes_total"] == 0
    assert after["zvonok_store_batch_size_count"] >= 1  # the post went through a batch
    assert after["zvonok_store_commit_seconds_count"] == after["zvonok_store_batch_size_count"]
    for private in (SECRET_TEXT, "пирожок", str(anya_oid), str(boris_oid), CLASS_5A):
        assert private not in text


@pytest.mark.parametrize(
    ("peer", "authorization", "allowed"),
    [
        ("127.0.0.1", None, True),
        ("::1", None, True),
        ("203.0.113.5", None, False),
        ("203.0.113.5", "Bearer wrong", False),
        ("203.0.113.5", "Bearer s3cret-scrape", True),
    ],
)
def test_only_loopback_or_the_token_bearer_may_scrape(
    peer: str, authorization: str | None, allowed: bool
) -> None:
    class Transport:
        def get_extra_info(self, name: str, default: object = None) -> object:
            return (peer, 40000) if name == "peername" else default

    headers = {} if authorization is None else {"Authorization": authorization}
    request = make_mocked_request("GET", "/metrics", headers=headers, transport=Transport())
    assert may_scrape(request, "s3cret-scrape") is allowed
