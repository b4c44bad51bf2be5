"""The bus between nodes, and the send limits they share, on a real redis-server (issue 18).

Two buses in this process stand for two nodes; then two whole servers
share one store and one Redis, with a class's members connected to
different nodes. Redis is started by the test (tests/redisserver.py),
restarted under the buses, and its subscriptions killed on purpose to
lose messages: the feed catches up from the store at the next event.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from server.bus import Event
from server.clock import ManualClock
from server.config import BusConfig, ChatConfig
from server.errors import ConfigError
from server.redisbus import RedisBus
from signaling.chat import ChatEventMsg, ChatInfo, CreateGroup, PresenceList, QueryPresence
from signaling.chat import Presence as PresenceMsg
from signaling.client import Client, RequestError
from tests.conftest import Running, ServerFactory, relaxed_chat, until
from tests.redisserver import RedisServer
from tests.server.test_chats_ws import CLASS_5A, CLASS_TEACHER_5A, send, students_5a
from tests.serverproc import ServerProcess, free_port

pytestmark = pytest.mark.both_engines

STUDENT_5A_FIRST = 1000100101  # Белов Артём; 1000100102 Гусев Степан, his classmate


class Heard:
    """A handler that keeps what it hears, for a test to wait on."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, Event]] = asyncio.Queue()

    def __call__(self, topic: str, event: Event) -> None:
        self.events.put_nowait((topic, event))

    async def next(self, timeout: float = 5.0) -> tuple[str, Event]:
        return await asyncio.wait_for(self.events.get(), timeout)


async def started(url: str) -> RedisBus:
    bus = RedisBus(url)
    await bus.start()
    return bus


async def subscribers(url: str, topic: str) -> int:
    """How many connections Redis itself has subscribed to ``topic``."""
    client = aioredis.from_url(url)
    try:
        counts = await client.pubsub_numsub(topic)
        return int(counts[0][1])
    finally:
        await client.aclose()


async def two_nodes(
    make_server: ServerFactory, redis: RedisServer, chat: ChatConfig | None = None
) -> tuple[Running, Running]:
    """Two servers sharing the test's store and ``redis``."""
    bus = BusConfig(url=redis.url)
    return (
        await make_server(ManualClock(), chat, bus=bus),
        await make_server(ManualClock(), chat, bus=bus),
    )


async def test_an_event_reaches_the_other_node_once_and_its_own_node_at_once(
    redis_server: RedisServer,
) -> None:
    a, b = await started(redis_server.url), await started(redis_server.url)
    try:
        on_a, on_b, also_on_b = Heard(), Heard(), Heard()
        await a.subscribe("chat:x", on_a)
        await b.subscribe("chat:x", on_b)
        await b.subscribe("chat:x", also_on_b)

        async def both_subscribed() -> bool:
            return await subscribers(redis_server.url, "chat:x") == 2

        await until(both_subscribed)  # one subscription per node, not per handler

        await a.publish("chat:x", {"chat": "x", "seq": 1, "frame": b"\x81\xa1t\xa1m"})
        assert on_a.events.qsize() == 1  # this node's own: in the publisher's task
        for heard in (on_b, also_on_b):
            assert await heard.next() == (
                "chat:x",
                {"chat": "x", "seq": 1, "frame": b"\x81\xa1t\xa1m"},
            )
        await b.publish("chat:x", {"chat": "x", "seq": 2, "frame": b""})
        assert (await on_a.next())[1]["seq"] == 1
        assert (await on_a.next())[1]["seq"] == 2
        assert on_a.events.empty() and on_b.events.qsize() == 1  # nothing twice

        await b.unsubscribe("chat:x", on_b)
        await b.unsubscribe("chat:x", also_on_b)

        async def only_a() -> bool:
            return await subscribers(redis_server.url, "chat:x") == 1

        await until(only_a)
    finally:
        await a.close()
        await b.close()


async def test_an_unreachable_redis_at_start_is_a_clear_error(tmp_path: Path) -> None:
    bus = RedisBus(f"redis://:secret-password@127.0.0.1:{free_port()}/0")  # nothing there
    with pytest.raises(ConfigError, match="unreachable") as raised:
        await bus.start()
    assert "secret-password" not in str(raised.value)
    await bus.close()


async def test_the_buses_come_back_by_themselves_after_redis_restarts(
    redis_server: RedisServer,
) -> None:
    a, b = await started(redis_server.url), await started(redis_server.url)
    try:
        on_b = Heard()
        await b.subscribe("person:1", on_b)
        await a.publish("person:1", {"n": 1})
        assert (await on_b.next())[1] == {"n": 1}

        redis_server.stop()

        async def b_lost_it() -> bool:
            return not b.connected

        await until(b_lost_it)
        await a.publish("person:1", {"n": 2})  # may be lost: the store would have it
        redis_server.start()  # the same port

        async def b_is_back() -> bool:
            return b.connected and await subscribers(redis_server.url, "person:1") == 1

        await until(b_is_back, timeout=20.0)
        await a.publish("person:1", {"n": 3})
        heard = []
        while (event := (await on_b.next(timeout=10.0))[1]) != {"n": 3}:
            heard.append(event)
        # Told to read the store (what crossed meanwhile is lost), and perhaps
        # the lost one late; never out of order.
        assert {"resync": True} in heard and set(map(str, heard)) <= {
            str({"resync": True}),
            str({"n": 2}),
        }
    finally:
        await a.close()
        await b.close()


async def test_classmates_on_two_nodes_chat_in_order_and_a_lost_message_is_caught_up(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    node_a, node_b = await two_nodes(make_server, redis_server)
    anya_oid, boris_oid = students_5a(node_a)[:2]
    anya, boris = await node_a.connect(anya_oid), await node_b.connect(boris_oid)

    async def boris_follows() -> bool:
        return await subscribers(redis_server.url, f"chat:{CLASS_5A}") == 2

    await until(boris_follows)
    texts = ["Привет!", "Что задали?", "Параграф 12", "Спасибо"]
    seqs = [(await send(anya, CLASS_5A, text)).seq for text in texts]
    for seq in seqs:
        event = await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)
        assert event.seq == seq

    # Node B's subscription is killed: what is published meanwhile never reaches it.
    admin = aioredis.from_url(redis_server.url)
    try:
        await admin.client_kill_filter(_type="pubsub")
    finally:
        await admin.aclose()
    lost = (await send(anya, CLASS_5A, "Это сообщение Redis потеряет")).seq

    async def b_back() -> bool:  # both nodes follow the class chat again
        return await subscribers(redis_server.url, f"chat:{CLASS_5A}") == 2

    await until(b_back, timeout=20.0)
    # Node B's feed reads the store as its subscription comes back: the lost
    # message arrives without waiting for the chat's next one.
    got = await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)
    assert got.seq == lost
    after = (await send(anya, CLASS_5A, "А это дойдёт как обычно")).seq
    assert (await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)).seq == after
    async with node_b.http.get(f"{node_b.base}/metrics") as response:
        scraped = await response.text()
    lag = [line for line in scraped.splitlines() if line.startswith("zvonok_bus_lag_seconds_count")]
    assert lag and float(lag[0].split()[-1]) >= len(texts)  # what came through Redis was timed


async def test_a_chat_one_was_added_to_while_redis_lost_the_news_is_followed(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    node_a, node_b = await two_nodes(make_server, redis_server)
    anya_oid = students_5a(node_a)[0]
    teacher, anya = await node_a.connect(CLASS_TEACHER_5A), await node_b.connect(anya_oid)

    async def anya_follows_herself() -> bool:
        return await subscribers(redis_server.url, f"person:{anya_oid}") == 1

    await until(anya_follows_herself)
    admin = aioredis.from_url(redis_server.url)
    try:
        await admin.client_kill_filter(_type="pubsub")  # node B hears nothing for a moment
    finally:
        await admin.aclose()
    info = await teacher.request(
        CreateGroup(school="sosh-1", title="Олимпиада", members=[anya_oid], key="olymp")
    )
    assert isinstance(info, ChatInfo)
    group = info.chat["id"]

    await until(anya_follows_herself, timeout=20.0)  # node B subscribed again
    # Her feed read the store as the subscription came back: she follows the
    # group now, so the teacher's next message reaches her live.
    await send(teacher, group, "Первое задание")
    got = await anya.next_of(
        ChatEventMsg, where=lambda e: e.chat == group and e.kind == "message", timeout=15
    )
    assert got.data["text"] == "Первое задание"


async def test_with_redis_gone_readyz_says_so_and_sends_still_commit(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    node = await make_server(ManualClock(), bus=BusConfig(url=redis_server.url))
    anya_oid, boris_oid = students_5a(node)[:2]
    anya, boris = await node.connect(anya_oid), await node.connect(boris_oid)

    async def ready() -> dict[str, str]:
        async with node.http.get(f"{node.base}/readyz") as response:
            assert response.status == 200
            body: dict[str, str] = await response.json()
            return body

    assert await ready() == {"status": "ok"}
    redis_server.stop()

    async def degraded() -> bool:
        return await ready() == {"status": "degraded", "bus": "unreachable"}

    await until(degraded)
    ack = await send(anya, CLASS_5A, "Redis нет, а сообщение сохранено")
    event = await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)
    assert event.seq == ack.seq  # and this node's own connections still hear it

    redis_server.start()

    async def ok() -> bool:
        return await ready() == {"status": "ok"}

    await until(ok, timeout=20.0)


# -- send limits every node shares -------------------------------------------------


async def sends_allowed(clients: list[Client], count: int) -> int:
    """Send ``count`` posts, taking the clients in turn; how many were accepted."""
    accepted = 0
    for i in range(count):
        try:
            await send(clients[i % len(clients)], CLASS_5A, f"сообщение {i}")
            accepted += 1
        except RequestError as refused:
            assert refused.code == "rate.limited"
    return accepted


async def test_a_persons_burst_is_not_multiplied_by_the_nodes_she_reaches(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    # Redis's clock refills at 0.01 a second: nothing comes back within the test.
    chat = relaxed_chat(student_sends_per_second=0.01, student_send_burst=3)
    node_a, node_b = await two_nodes(make_server, redis_server, chat)
    anya = students_5a(node_a)[0]
    on_a, on_b = await node_a.connect(anya), await node_b.connect(anya)  # phone and laptop
    assert await sends_allowed([on_a, on_b], 8) == 3


async def test_with_redis_gone_each_node_still_limits_its_own(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    chat = relaxed_chat(student_sends_per_second=0.01, student_send_burst=3)
    node = await make_server(ManualClock(), chat, bus=BusConfig(url=redis_server.url))
    anya = await node.connect(students_5a(node)[0])
    redis_server.stop()
    assert await sends_allowed([anya], 5) == 3


# -- presence across nodes ------------------------------------------------------------


async def online(client: Client, oid: int) -> bool:
    state = await client.request(QueryPresence(people=[oid]))
    assert isinstance(state, PresenceList)
    return bool(state.people[0]["online"])


async def test_presence_is_one_across_nodes(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    node_a, node_b = await two_nodes(make_server, redis_server)
    anya_oid, boris_oid = students_5a(node_a)[:2]
    boris = await node_b.connect(boris_oid)
    anya_phone = await node_a.connect(anya_oid)
    assert (await boris.next_of(PresenceMsg, where=lambda p: p.person == anya_oid)).online
    assert await online(boris, anya_oid)
    anya_laptop = await node_b.connect(anya_oid)

    await anya_phone.close()  # still on the laptop, on the other node
    assert await online(boris, anya_oid)
    await anya_laptop.close()
    gone = await boris.next_of(PresenceMsg, where=lambda p: p.person == anya_oid)
    assert not gone.online and gone.last_seen is not None
    assert not await online(boris, anya_oid)


async def test_the_people_of_a_killed_node_go_offline_on_the_others(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = {"ZVONOK_BUS_URL": redis_server.url, "ZVONOK_BUS_PRESENCE_TTL": "1.5"}
    node_a = ServerProcess(tmp_path, env=env)  # one directory: one store, one IdP key
    node_b = ServerProcess(tmp_path, port=free_port(), env=env)
    await node_a.start()
    await node_b.start()
    try:
        idp = node_a.identity_provider()
        anya_oid, boris_oid = STUDENT_5A_FIRST, STUDENT_5A_FIRST + 1
        async with aiohttp.ClientSession() as http:
            boris = await Client.connect(node_b.ws_url, idp.issue(boris_oid), session=http)
            anya = await Client.connect(node_a.ws_url, idp.issue(anya_oid), session=http)
            await boris.next_of(PresenceMsg, where=lambda p: p.person == anya_oid and p.online)

            await node_a.kill()  # SIGKILL: node A says nothing more
            gone = await boris.next_of(
                PresenceMsg, where=lambda p: p.person == anya_oid, timeout=15.0
            )
            assert not gone.online
            assert not await online(boris, anya_oid)
            await anya.close()
            await boris.close()
    finally:
        await node_a.stop()
        await node_b.stop()


async def test_a_redis_restart_costs_the_other_node_a_delay_and_nothing_acked(
    make_server: ServerFactory, redis_server: RedisServer
) -> None:
    node_a, node_b = await two_nodes(make_server, redis_server)
    anya_oid, boris_oid = students_5a(node_a)[:2]
    anya, boris = await node_a.connect(anya_oid), await node_b.connect(boris_oid)

    async def both_follow() -> bool:
        return await subscribers(redis_server.url, f"chat:{CLASS_5A}") == 2

    await until(both_follow)
    acked = [(await send(anya, CLASS_5A, "до перезапуска")).seq]
    redis_server.stop()
    acked += [(await send(anya, CLASS_5A, f"без Redis {n}")).seq for n in range(3)]
    redis_server.start()
    await until(both_follow, timeout=20.0)
    acked.append((await send(anya, CLASS_5A, "после перезапуска")).seq)

    got = [
        (await boris.next_of(ChatEventMsg, where=lambda e: e.chat == CLASS_5A)).seq for _ in acked
    ]
    assert got == acked


async def test_zvonok_serve_with_redis_unreachable_stops_with_a_clear_error(
    tmp_path: Path,
) -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"  # nothing listens there
    node = ServerProcess(tmp_path / "node", env={"ZVONOK_BUS_URL": url})
    node.directory.mkdir(parents=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        cwd=node.directory,
        env=node.environment(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 1
    said = err.decode()
    assert "zvonok: bus: Redis at redis://…@127.0.0.1:" in said and "unreachable" in said, said
    assert "s3cret" not in said + out.decode()
    assert "Traceback" not in said
