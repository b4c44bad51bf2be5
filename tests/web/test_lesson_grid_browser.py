"""Thirty people in a lesson's grid, on a laptop and on a phone (issue 16, point 1).

The teacher of 5А starts a lesson in her browser; Артём joins in his, on a
phone-sized screen; 28 more of the class (its other pupils and teachers of
its subjects) join over the protocol from this test, without media, as a
slow school computer with its camera off would. On the laptop all thirty
tiles are on screen at once, none scrolled away and none too small to tell
apart; on the phone the grid is three tiles wide and scrolls, and a tile
scrolled to comes into view (what is off screen is not received: the
weak-network test).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page, expect

from server.appkeys import DEV_IDP
from server.roster.model import DirectoryEntry, Role
from signaling.client import Client
from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    LAPTOP,
    PHONE,
    TEACHER,
    Start,
    join_from_list,
    lesson_server,
    signed_in,
    start_room,
)

CLASS = "sosh-1-5a"
PEOPLE = 30

# The tiles' boxes, and the grid's own box and scroll extent.
GRID = """() => {
  const grid = document.querySelector(".tiles");
  const box = grid.getBoundingClientRect();
  const tiles = [...grid.querySelectorAll("figure")].map((t) => t.getBoundingClientRect());
  return {
    top: box.top, bottom: box.bottom, left: box.left, right: box.right,
    scrolls: grid.scrollHeight > grid.clientHeight + 1,
    tiles: tiles.map((t) => ({top: t.top, bottom: t.bottom, left: t.left, width: t.width})),
  };
}"""


async def grid(page: Page) -> dict[str, object]:
    value: dict[str, object] = await page.evaluate(GRID)
    return value


def others_of_the_class(directory: list[DirectoryEntry], skip: set[str]) -> list[int]:
    """Pupils of 5А first, then teachers of it, none of those named in ``skip``."""
    pupils, teachers = [], []
    for entry in directory:
        if entry.person.full_name in skip or not any(c.class_id == CLASS for c in entry.classes):
            continue
        roles = {r.role for r in entry.roles}
        if Role.STUDENT in roles:
            pupils.append(entry.person.oid)
        elif Role.TEACHER in roles:
            teachers.append(entry.person.oid)
    return pupils + teachers


async def test_thirty_people_fit_the_grid_on_a_laptop_and_scroll_on_a_phone(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
    ]
    teacher, artem = [await c.new_page() for c in contexts]
    clients: list[Client] = []
    async with aiohttp.ClientSession() as http:
        try:
            await signed_in(teacher, server.base, TEACHER)
            room = await start_room(teacher, "Классный час")
            await signed_in(artem, server.base, ARTEM)
            await join_from_list(artem, "Классный час")

            others = others_of_the_class(server.directory, {TEACHER, ARTEM})
            assert len(others) >= PEOPLE - 2, len(others)
            for oid in others[: PEOPLE - 2]:
                token = server.app[DEV_IDP].issue(oid)
                client = await Client.connect(server.ws_url, token, session=http)
                clients.append(client)
                joined = await client.join_room(room)
                assert not joined.waiting

            for page in (teacher, artem):
                await expect(page.locator(".tiles figure")).to_have_count(PEOPLE)

            laptop = await grid(teacher)
            await teacher.screenshot(path=artifacts / "01-laptop-30.png")
            assert not laptop["scrolls"], laptop
            for box in laptop["tiles"]:  # type: ignore[attr-defined]
                assert laptop["top"] <= box["top"] and box["bottom"] <= laptop["bottom"], box
                assert box["width"] >= 120, box

            phone = await grid(artem)
            await artem.screenshot(path=artifacts / "02-phone-30.png")
            lefts = {round(box["left"]) for box in phone["tiles"]}  # type: ignore[attr-defined]
            assert len(lefts) == 3, lefts
            assert phone["scrolls"], phone
            last = artem.locator(".tiles figure").last
            await expect(last).not_to_be_in_viewport()
            await last.scroll_into_view_if_needed()
            await expect(last).to_be_in_viewport()
            await artem.screenshot(path=artifacts / "03-phone-scrolled.png")
        finally:
            for client in clients:
                await client.close()
            await keep_last(artifacts, teacher=teacher, artem=artem)
            for context in contexts:
                await context.close()
