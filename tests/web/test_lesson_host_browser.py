"""A host's controls in the page, in real Chromium (issue 16, point 2).

An evening parent meeting of 5А: two parents wait and the class teacher
lets them all in at once; a second teacher of the class joins and is made
co-host, and gets the host's tools; the host switches every microphone
off, forbids a parent's camera (which he then cannot switch on), lowers
every hand, downloads the attendance and removes a parent, who is told.
A parent writes in the meeting's chat beside the video and the host reads
it; the person speaking is marked on the others' pages.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from tests.web.conftest import keep_last
from tests.web.lesson import (
    DMITRY,
    LAPTOP,
    PHONE,
    TEACHER,
    Start,
    join_from_list,
    lesson_server,
    notice,
    signed_in,
    start_room,
    tile,
)

KSENIA = "Белова Ксения Андреевна"  # Артём's mother
NATALYA = "Волкова Наталья Сергеевна"  # a teacher of 5А
TITLE = "Собрание: итоги четверти"


def row(page: Page, name: str) -> Locator:
    return page.locator(".people-list .person", has_text=name)


async def act(page: Page, name: str, action: str) -> None:
    """Open the person's «Действия» (if closed) and press ``action``."""
    person = row(page, name)
    details = person.locator("details.host-actions")
    if not await details.evaluate("(d) => d.open"):
        await person.get_by_text(f"Действия: {name}").click()
    await person.get_by_role("button", name=action, exact=True).click()


async def test_a_host_admits_all_makes_a_cohost_mutes_removes_and_downloads_attendance(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP, accept_downloads=True),
        await media_chromium.new_context(locale="ru-RU", viewport=LAPTOP),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
    ]
    host, natalya, dmitry, ksenia = [await c.new_page() for c in contexts]
    try:
        await signed_in(host, server.base, TEACHER)
        await start_room(host, TITLE, kind="meeting")
        for page, name in ((dmitry, DMITRY), (ksenia, KSENIA)):
            await signed_in(page, server.base, name)
            await join_from_list(page, TITLE)
            await expect(page.get_by_role("status")).to_have_text(
                "Ожидайте: учитель скоро впустит вас"
            )
        waiting = host.locator(".waiting-room")
        await expect(waiting).to_contain_text("Ждут входа: 2")
        await waiting.get_by_role("button", name="Впустить всех").click()
        await expect(waiting).to_have_count(0)
        for page in (dmitry, ksenia):
            await expect(tile(page, TEACHER)).to_be_visible()
        # Whoever speaks is marked (the fake microphones beep in turn).
        # (Media first has to connect and the detector to hear a beep: on a
        # loaded machine that takes longer than expect's default 5 s.)
        await expect(dmitry.locator(".tiles figure.speaking")).not_to_have_count(0, timeout=20_000)

        # A second teacher of the class joins (no waiting: staff) and is made co-host.
        await signed_in(natalya, server.base, NATALYA)
        await join_from_list(natalya, TITLE)
        await expect(row(host, NATALYA)).to_be_visible()
        await expect(natalya.get_by_role("button", name="Выключить все микрофоны")).to_have_count(0)
        await act(host, NATALYA, "Сделать соведущим")
        await expect(notice(natalya)).to_contain_text("Вы теперь соведущий")
        await expect(natalya.get_by_role("button", name="Выключить все микрофоны")).to_be_visible()
        await expect(row(host, NATALYA)).to_contain_text("соведущий")

        # The meeting's chat, beside the video.
        await dmitry.get_by_role("tab", name="Чат").click()
        composer = dmitry.get_by_label("Текст сообщения")
        await composer.fill("Здравствуйте! Когда будет экскурсия?")
        await composer.press("Enter")
        await host.get_by_role("tab", name="Чат").click()
        await expect(host.locator(".call-side")).to_contain_text("Когда будет экскурсия?")
        await host.get_by_role("tab", name="Участники").click()

        # Every microphone off (the co-host's own stays: hosts are not muted).
        await host.get_by_role("button", name="Выключить все микрофоны").click()
        for page in (dmitry, ksenia):
            await expect(notice(page)).to_contain_text("Учитель выключил вам микрофон")
            await expect(page.get_by_role("button", name="Включить микрофон")).to_be_visible()
        await expect(row(host, KSENIA).get_by_label("микрофон выключен")).to_be_visible()

        # Her camera forbidden: switching it on is refused until allowed.
        await act(host, KSENIA, "Запретить камеру")
        await expect(notice(ksenia)).to_contain_text(
            "Учитель выключил вам камеру и пока не разрешает включать"
        )
        await ksenia.get_by_role("button", name="Включить камеру").click()
        await expect(notice(ksenia)).to_contain_text("не разрешает включать камеру")
        await expect(tile(host, KSENIA).locator("video")).to_have_count(0)
        await ksenia.screenshot(path=artifacts / "01-ksenia-camera-forbidden.png")

        # Hands up, and all lowered at once.
        for page in (dmitry, ksenia):
            await page.get_by_role("button", name="Поднять руку").click()
        await expect(host.locator(".tiles figure.raised")).to_have_count(2)
        await host.get_by_role("button", name="Опустить все руки").click()
        for page in (dmitry, ksenia):
            await expect(notice(page)).to_contain_text("Учитель опустил вашу руку")
        await expect(host.locator(".tiles figure.raised")).to_have_count(0)

        # The attendance, as the file a school keeps.
        async with host.expect_download() as download_info:
            await host.get_by_role("link", name="Посещаемость (CSV)").click()
        download = await download_info.value
        assert download.suggested_filename.endswith(".csv"), download.suggested_filename
        saved = Path(await download.path())
        text = await asyncio.to_thread(saved.read_text, encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        names = {cell for line in rows for cell in line}
        assert {TEACHER, DMITRY, KSENIA, NATALYA} <= names, rows
        await host.screenshot(path=artifacts / "02-host-tools.png")

        # A parent removed: told so, and gone from everyone's list.
        await act(host, KSENIA, "Удалить из комнаты")
        await expect(ksenia.get_by_role("alert")).to_have_text("Ведущий удалил вас из собрания")
        await expect(row(host, KSENIA)).to_have_count(0)
        await expect(row(natalya, KSENIA)).to_have_count(0)
        await expect(host.locator(".people-list .person")).to_have_count(3)
        await ksenia.screenshot(path=artifacts / "03-ksenia-removed.png")
    finally:
        await keep_last(artifacts, host=host, natalya=natalya, dmitry=dmitry, ksenia=ksenia)
        for context in contexts:
            await context.close()
