"""A video lesson in real Chromium browsers with fake cameras and microphones (issue 16).

The class teacher of 5А starts a lesson from the page; two pupils join
from the list of lessons, one on a laptop, one on a phone-sized screen.
Each pupil's browser decodes the teacher's video and receives her sound
(``getStats``); a raised hand is lowered by the teacher; a microphone the
teacher forbids cannot be switched on until she allows it. Media goes
through the real SFU over UDP on this machine.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    LAPTOP,
    PHONE,
    STEPAN,
    TEACHER,
    Start,
    join_from_list,
    lesson_server,
    media_grows,
    notice,
    signed_in,
    start_room,
    tile,
    tile_plays,
)


async def test_pupils_see_and_hear_the_teacher_who_lowers_a_hand_and_mutes(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
    ]
    teacher, artem, stepan = [await c.new_page() for c in contexts]
    try:
        await signed_in(teacher, server.base, TEACHER)
        await start_room(teacher, "Окружающий мир")
        await expect(teacher.locator(".tiles figure.own")).to_be_visible()

        for page, name in ((artem, ARTEM), (stepan, STEPAN)):
            await signed_in(page, server.base, name)
            await join_from_list(page, "Окружающий мир")
            await expect(tile(page, TEACHER)).to_be_visible()
        for page, name in ((artem, "artem"), (stepan, "stepan")):
            await media_grows(page, "video")
            await media_grows(page, "audio")
            await tile_plays(page, TEACHER)
            await page.screenshot(path=artifacts / f"01-{name}-sees-the-teacher.png")
        await expect(teacher.locator(".people-list .person")).to_have_count(3)
        await teacher.screenshot(path=artifacts / "02-teacher.png")

        # A raised hand, lowered by the teacher.
        await artem.get_by_role("button", name="Поднять руку").click()
        artem_row = teacher.locator(".people-list .person", has_text=ARTEM)
        await expect(artem_row.get_by_label("поднял(а) руку")).to_be_visible()
        await expect(tile(teacher, ARTEM)).to_have_class(lambda_has("raised"))
        await artem_row.get_by_text(f"Действия: {ARTEM}").click()
        await artem_row.get_by_role("button", name="Опустить руку").click()
        await expect(notice(artem)).to_contain_text("Учитель опустил вашу руку")
        await expect(artem.get_by_role("button", name="Поднять руку")).to_be_visible()

        # The teacher switches Артём's microphone off and forbids it: he cannot switch it on.
        await artem_row.get_by_role("button", name="Запретить микрофон").click()
        await expect(notice(artem)).to_contain_text(
            "Учитель выключил вам микрофон и пока не разрешает включать"
        )
        await artem.get_by_role("button", name="Включить микрофон").click()
        await expect(notice(artem)).to_contain_text("Учитель не разрешает включать микрофон")
        await expect(artem.get_by_role("button", name="Включить микрофон")).to_be_visible()
        await expect(artem_row.get_by_label("микрофон выключен")).to_be_visible()
        await artem.screenshot(path=artifacts / "03-artem-muted.png")

        await artem_row.get_by_role("button", name="Разрешить микрофон").click()
        await expect(notice(artem)).to_contain_text("Учитель разрешил включить микрофон")
        await artem.get_by_role("button", name="Включить микрофон").click()
        await expect(artem.get_by_role("button", name="Выключить микрофон")).to_be_visible()
        await expect(artem_row.get_by_label("микрофон выключен")).to_have_count(0)
        await teacher.screenshot(path=artifacts / "04-teacher-after.png")
    finally:
        await keep_last(artifacts, teacher=teacher, artem=artem, stepan=stepan)
        for context in contexts:
            await context.close()


def lambda_has(name: str):  # type: ignore[no-untyped-def]
    import re

    return re.compile(rf"\b{name}\b")
