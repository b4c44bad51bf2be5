"""Two tabs of one person stay consistent, in a real Chromium (issue 15).

A teacher has Zvonok open in two tabs of one browser (one cookie, one
IndexedDB). What she reads in one tab is read in the other; what she writes
in one appears in the other once, as hers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, expect

from server.clock import SystemClock
from tests.signin_server import SignInServer
from tests.web.test_chats_browser import CLASS_5A, PHONE, STEPAN, TEACHER, class_chat, sign_in

Start = Callable[..., Awaitable[SignInServer]]


async def test_reading_and_writing_in_one_tab_shows_in_the_other(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    teacher_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    first = await teacher_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await sign_in(first, server.base, TEACHER)
        second = await teacher_context.new_page()  # the same browser: signed in already
        await second.goto(server.base + "/")
        await expect(class_chat(second)).to_be_visible()

        await sign_in(stepan, server.base, STEPAN)
        await class_chat(stepan).click()
        composer = stepan.get_by_label("Текст сообщения")
        for text in ("Здравствуйте!", "Когда родительское собрание?"):
            await composer.fill(text)
            await composer.press("Enter")
        for tab in (first, second):
            await expect(class_chat(tab).locator(".unread")).to_have_text("2")
        await second.screenshot(path=artifacts / "01-second-tab-unread.png")

        # Read in the first tab: the second tab's count goes too.
        await class_chat(first).click()
        await expect(first.locator("li.message .text")).to_have_text(
            ["Здравствуйте!", "Когда родительское собрание?"]
        )
        await expect(class_chat(second).locator(".unread")).to_have_count(0)
        await second.screenshot(path=artifacts / "02-second-tab-read.png")

        # Written in the first tab: in the second, once, as hers.
        await class_chat(second).click()
        answer = "В четверг в 18:00"
        await first.get_by_label("Текст сообщения").fill(answer)
        await first.get_by_label("Текст сообщения").press("Enter")
        mine = second.locator("li.message.mine", has_text=answer)
        await expect(mine).to_have_count(1)
        await expect(mine).to_have_attribute("data-state", "sent")
        await expect(first.locator("li.message", has_text=answer)).to_have_count(1)
        assert f"chat=class%3A{CLASS_5A}" in second.url or f"chat=class:{CLASS_5A}" in second.url
        await second.screenshot(path=artifacts / "03-second-tab-mine.png")
    finally:
        await teacher_context.close()
        await stepan_context.close()
