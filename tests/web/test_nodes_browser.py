"""Two nodes behind a load balancer, in real Chromium (issue 18's check).

Two ``zvonok serve`` processes share one store and one Redis, started by
the test, and a TCP balancer (tests/balancer.py) stands in front of them.
Артём's page comes through the balancer and lands on node B; his teacher
is connected to node A. They chat in the class chat and meet in a lesson
that lives on node A: his page receives her video through A's SFU while
its socket is on B. Then a node is killed with SIGKILL:

- his own node (B): the page's socket drops, the balancer sends it to A,
  the page resumes its chat (what she wrote meanwhile arrives, what he
  wrote meanwhile is sent once) and takes its place in the lesson back,
  her video playing again;
- the lesson's node (A): his page is told it is away, joins again through
  B, which takes the lesson over, and the teacher, back through B, is
  seen again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiortc import RTCPeerConnection
from playwright.async_api import Browser, Page, expect

from media import aiortc_glue
from server.rooms.media import TrackSpec
from signaling.chat import ChatEventMsg
from signaling.client import Client
from tests.balancer import Balancer, balancing
from tests.media.peers import PatternVideo, publish
from tests.redisserver import RedisServer
from tests.server.test_chats_ws import send
from tests.serverproc import ServerProcess, free_port
from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    TEACHER,
    join_from_list,
    media_grows,
    signed_in,
    tile,
    tile_plays,
)
from tests.web.test_chats_browser import class_chat

TEACHER_5A, ARTEM_OID = 1000100003, 1000100101
CLASS_CHAT = "class:sosh-1-5a"
TITLE = "Окружающий мир"


@dataclass
class Region:
    a: ServerProcess
    b: ServerProcess
    balancer: Balancer
    http: aiohttp.ClientSession
    page: Page  # Артём's, through the balancer
    publishers: list[RTCPeerConnection]  # the teacher's cameras, closed at the end

    async def teacher_on(self, node: ServerProcess) -> Client:
        token = self.a.identity_provider().issue(TEACHER_5A, lifetime=900)
        return await Client.connect(node.ws_url, token, session=self.http)


@asynccontextmanager
async def region(
    tmp_path: Path, redis: RedisServer, browser: Browser, artifacts: Path
) -> AsyncIterator[Region]:
    """Two nodes behind the balancer, and a page for Артём (its last sight kept)."""
    aiortc_glue.use_host_addresses(["127.0.0.1"])
    async with balancing([]) as balancer:
        env = {
            "ZVONOK_BUS_URL": redis.url,
            "ZVONOK_BUS_PRESENCE_TTL": "1.5",
            "ZVONOK_MEDIA_ICE_ADDRESSES": "127.0.0.1",
            "ZVONOK_WEB_PUBLIC_URL": balancer.base,
        }
        a = ServerProcess(tmp_path, env=env)  # one directory: one store, one key
        b = ServerProcess(tmp_path, port=free_port(), env=env)
        await a.start()
        try:
            await b.start()
            balancer.backends = [b.port, a.port]  # pages land on B while it lives
            context = await browser.new_context(locale="ru-RU")
            page = await context.new_page()
            publishers: list[RTCPeerConnection] = []
            try:
                async with aiohttp.ClientSession() as http:
                    yield Region(a, b, balancer, http, page, publishers)
            finally:
                await keep_last(artifacts, artem=page)
                await context.close()
                for pc in publishers:
                    await pc.close()
        finally:
            await b.stop()
            await a.stop()


@dataclass
class Lesson:
    room: str
    chat: str
    camera: RTCPeerConnection


async def teacher_in_lesson(teacher: Client) -> Lesson:
    """She starts the lesson, enters it and turns her camera on."""
    room = (await teacher.start_room("sosh-1-5a", "lesson", TITLE))["id"]
    joined = await teacher.join_room(room)
    assert joined.chat is not None
    return Lesson(room, joined.chat, await camera_on(teacher, room))


async def camera_on(teacher: Client, room: str) -> RTCPeerConnection:
    async def send_offer(sdp: str, specs: Sequence[TrackSpec]) -> str:
        return await teacher.publish(room, sdp, [(s.mid, s.source) for s in specs])

    return await publish({"camera": PatternVideo()}, send_offer)


async def chat_text(teacher: Client, chat: str, text: str) -> None:
    """She receives a message with this text in ``chat`` (bounded wait)."""
    async with asyncio.timeout(20):
        while True:
            event = await teacher.next_event(timeout=20)
            if (
                isinstance(event, ChatEventMsg)
                and event.chat == chat
                and event.data.get("text") == text
            ):
                return


async def write(page: Page, text: str) -> None:
    composer = page.get_by_label("Текст сообщения")
    await composer.fill(text)
    await composer.press("Enter")


async def pupil_in_lesson(page: Page, base: str) -> None:
    await signed_in(page, base, ARTEM)
    await join_from_list(page, TITLE)


async def test_his_node_dies_and_his_page_carries_on_through_the_other(
    tmp_path: Path, redis_server: RedisServer, media_chromium: Browser, artifacts: Path
) -> None:
    async with region(tmp_path, redis_server, media_chromium, artifacts) as nodes:
        page, teacher = nodes.page, await nodes.teacher_on(nodes.a)
        # The class chat across the nodes: her message reaches his page, his hers.
        await signed_in(page, nodes.balancer.base, ARTEM)
        await class_chat(page).click()
        await send(teacher, CLASS_CHAT, "Через пять минут урок")
        await expect(page.locator("li.message .text")).to_have_text(["Через пять минут урок"])
        await write(page, "Иду")
        await chat_text(teacher, CLASS_CHAT, "Иду")

        lesson = await teacher_in_lesson(teacher)
        nodes.publishers.append(lesson.camera)
        await join_from_list(page, TITLE)
        await tile_plays(page, TEACHER)  # A's SFU, while his socket is on B
        await page.get_by_role("tab", name="Чат").click()
        await send(teacher, lesson.chat, "Откройте учебник на странице 12")
        await write(page, "Открыл")
        await chat_text(teacher, lesson.chat, "Открыл")
        await page.screenshot(path=artifacts / "01-lesson-through-b.png")

        await nodes.b.kill()
        await write(page, "Меня выкинуло, я тут")  # the outbox keeps it meanwhile
        await send(teacher, lesson.chat, "Кто не слышит — напишите")
        await chat_text(teacher, lesson.chat, "Меня выкинуло, я тут")
        await expect(page.locator("li.message .text")).to_have_text(
            [
                "Откройте учебник на странице 12",
                "Открыл",
                "Кто не слышит — напишите",  # committed while his page was away
                "Меня выкинуло, я тут",  # sent from the outbox once back
            ],
            timeout=20_000,
        )
        await expect(page.locator('li.message[data-state="pending"]')).to_have_count(0)
        await media_grows(page, "video", timeout=30_000)  # his place back, through A
        await tile_plays(page, TEACHER)
        await page.screenshot(path=artifacts / "02-carried-on-through-a.png")
        await teacher.close()


async def test_the_lessons_node_dies_and_the_other_takes_the_lesson_over(
    tmp_path: Path, redis_server: RedisServer, media_chromium: Browser, artifacts: Path
) -> None:
    async with region(tmp_path, redis_server, media_chromium, artifacts) as nodes:
        page, teacher = nodes.page, await nodes.teacher_on(nodes.a)
        lesson = await teacher_in_lesson(teacher)
        room = lesson.room
        nodes.publishers.append(lesson.camera)
        await pupil_in_lesson(page, nodes.balancer.base)
        await tile_plays(page, TEACHER)
        await page.screenshot(path=artifacts / "01-lesson-on-a.png")

        await nodes.a.kill()  # the lesson's node, and the teacher's
        await expect(tile(page, TEACHER)).to_have_count(0, timeout=20_000)
        teacher = await nodes.teacher_on(nodes.b)  # her client comes back through B
        back = await teacher.join_room(room)
        assert {p["person"] for p in back.participants} == {TEACHER_5A, ARTEM_OID}
        nodes.publishers.append(await camera_on(teacher, room))
        await tile_plays(page, TEACHER)
        await page.screenshot(path=artifacts / "02-lesson-taken-over-by-b.png")
        await teacher.leave_room(room)
        await teacher.close()
