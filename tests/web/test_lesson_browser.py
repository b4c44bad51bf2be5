"""A video lesson in real Chromium browsers with fake cameras and microphones (issue 16).

The class teacher of 5А starts a lesson from the page; two pupils join
from the list of lessons, one on a laptop, one on a phone-sized screen.
Each pupil's browser decodes the teacher's video and receives her sound
(``getStats``); a raised hand is lowered by the teacher; a microphone the
teacher forbids cannot be switched on until she allows it. Media goes
through the real SFU over UDP on this machine.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    DMITRY,
    LAPTOP,
    PHONE,
    POLINA,
    STEPAN,
    TEACHER,
    Start,
    enter_from_preview,
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
        await expect(tile(teacher, ARTEM)).to_have_class(re.compile(r"\braised\b"))
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
        await expect(notice(artem)).to_contain_text("не разрешает включать микрофон")
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


async def test_a_parent_waits_until_admitted_and_another_class_is_refused(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    """An evening meeting: Артём's father waits in the waiting room until the
    teacher lets him in; a pupil of 5Б who opens the meeting's link is refused."""
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
    ]
    teacher, father, polina = [await c.new_page() for c in contexts]
    try:
        await signed_in(teacher, server.base, TEACHER)
        room = await start_room(teacher, "Родительское собрание 5А", kind="meeting")
        await expect(teacher.locator(".tiles figure.own")).to_be_visible()

        await signed_in(father, server.base, DMITRY)
        await join_from_list(father, "Родительское собрание 5А")
        await expect(father.get_by_role("status")).to_have_text(
            "Ожидайте: учитель скоро впустит вас"
        )
        await father.screenshot(path=artifacts / "01-father-waits.png")
        waiting = teacher.locator(".waiting-room")
        await expect(waiting).to_contain_text("Ждут входа: 1")
        await expect(waiting).to_contain_text(DMITRY)
        await teacher.screenshot(path=artifacts / "02-teacher-sees-the-waiter.png")
        await expect(tile(father, TEACHER)).to_have_count(0)  # nothing of the meeting yet

        await waiting.get_by_role("button", name="Впустить", exact=True).click()
        await tile_plays(father, TEACHER)
        await media_grows(father, "audio")
        await expect(teacher.locator(".waiting-room")).to_have_count(0)
        await expect(teacher.locator(".people-list .person", has_text=DMITRY)).to_be_visible()
        await father.screenshot(path=artifacts / "03-father-admitted.png")

        # A pupil of 5Б with the meeting's link: the page says why she cannot join.
        await signed_in(polina, server.base, POLINA)
        await polina.goto(f"{server.base}/?room={room}")
        await enter_from_preview(polina)
        await expect(polina.get_by_role("alert")).to_have_text(
            "Этот урок или собрание — для другого класса. Войти нельзя."
        )
        await polina.screenshot(path=artifacts / "04-another-class-refused.png")
        await expect(teacher.locator(".people-list .person")).to_have_count(2)
    finally:
        await keep_last(artifacts, teacher=teacher, father=father, polina=polina)
        for context in contexts:
            await context.close()


async def test_a_shared_screen_reaches_the_pupils_and_the_teacher_ends_the_lesson(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
    ]
    teacher, artem = [await c.new_page() for c in contexts]
    try:
        # Both from the class chat's «Уроки», this time.
        await signed_in(teacher, server.base, TEACHER)
        await start_room(teacher, "Презентация", from_chat=True)
        await signed_in(artem, server.base, ARTEM)
        await join_from_list(artem, "Презентация", from_chat=True)
        await tile_plays(artem, TEACHER)

        await teacher.get_by_role("button", name="Показать экран").click()
        await expect(teacher.get_by_role("button", name="Остановить показ")).to_be_visible()
        await tile_plays(artem, f"Экран: {TEACHER}", "screen")
        await artem.screenshot(path=artifacts / "01-artem-sees-the-screen.png")

        # The pupil shares his screen; the teacher stops it and the page says so.
        await artem.get_by_role("button", name="Показать экран").click()
        await tile_plays(teacher, f"Экран: {ARTEM}", "screen")
        row = teacher.locator(".people-list .person", has_text=ARTEM)
        await row.get_by_text(f"Действия: {ARTEM}").click()
        await row.get_by_role("button", name="Остановить показ экрана").click()
        await expect(notice(artem)).to_contain_text("Учитель остановил показ вашего экрана")
        await expect(artem.get_by_role("button", name="Показать экран")).to_be_visible()
        await expect(tile(teacher, f"Экран: {ARTEM}", "screen")).to_have_count(0)
        # He may share again (the teacher stopped it, she did not forbid it).
        await artem.get_by_role("button", name="Показать экран").click()
        await tile_plays(teacher, f"Экран: {ARTEM}", "screen")
        await artem.get_by_role("button", name="Остановить показ").click()
        await expect(tile(teacher, f"Экран: {ARTEM}", "screen")).to_have_count(0)

        # The teacher ends the lesson for everyone.
        await teacher.get_by_role("button", name="Завершить для всех").click()
        await teacher.get_by_role("button", name="Да, завершить").click()
        await expect(artem.get_by_role("alert")).to_have_text("Урок окончен")
        await artem.screenshot(path=artifacts / "02-lesson-over.png")
    finally:
        await keep_last(artifacts, teacher=teacher, artem=artem)
        for context in contexts:
            await context.close()
