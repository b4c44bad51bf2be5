"""Inside an open chat, in a real Chromium: authors, replies, edits, deletes,
reactions, typing, read marks, the unread divider, reports and moderation.

Classmates of 5А and their class teacher (the chat's moderator) each sign in
in their own browser context; one of them on a phone-sized viewport. Every
wait is a Playwright expectation; nothing sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from server.chats.keys import CHATS
from server.clock import SystemClock
from server.safety.keys import MODERATION
from tests.web.conftest import keep_last
from tests.web.test_chats_browser import (
    ARTEM,
    CLASS_5A,
    PHONE,
    STEPAN,
    TEACHER,
    Start,
    class_chat,
    sign_in,
)

ACTIONS = "Действия с сообщением"
ARTEM_OID = 1000100101
STEPAN_OID = 1000100102
TEACHER_OID = 1000100003


def message(page: Page, text: str) -> Locator:
    """The message whose own text (not a quote of it) has this."""
    return page.locator("li.message").filter(has=page.locator("p.text", has_text=text))


async def menu(page: Page, row: Locator, item: str) -> None:
    """The message's «…» menu, then one of its items."""
    await row.get_by_role("button", name=ACTIONS).click()
    await page.get_by_role("menuitem", name=item).click()


async def send(page: Page, text: str) -> None:
    composer = page.get_by_label("Текст сообщения")
    await composer.fill(text)
    await composer.press("Enter")
    await expect(page.locator('li.message[data-state="sent"]', has_text=text)).to_have_count(1)


async def test_classmates_reply_edit_react_delete_and_see_typing_and_reads(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    artem = await artem_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await sign_in(artem, server.base, ARTEM)
        await sign_in(stepan, server.base, STEPAN)
        await class_chat(artem).click()
        await send(artem, "Кто решил задачу номер пять?")
        await send(artem, "Мне нужна подсказка")
        first = message(artem, "Кто решил задачу номер пять?")
        await expect(first).to_have_class("message mine")
        await expect(first.locator(".author")).to_have_text("Вы")
        await expect(first).not_to_contain_text("прочитано")

        # Stepan opens the chat with Artem's two unread: the divider stands above the first.
        await class_chat(stepan).click()
        divider = stepan.get_by_role("separator")
        await expect(divider).to_have_text("Новые сообщения")
        await expect(stepan.locator("li.divider + li.message")).to_contain_text(
            "Кто решил задачу номер пять?"
        )
        await expect(divider).to_be_in_viewport()
        await expect(message(stepan, "Кто решил").locator(".author")).to_have_text(ARTEM)
        await stepan.screenshot(path=artifacts / "01-unread-divider-phone.png")
        # …and his reading reaches Artem as a receipt.
        await expect(first.locator(".read")).to_contain_text("прочитано")
        await artem.screenshot(path=artifacts / "02-read-mark.png")

        # Stepan types: Artem sees who.
        await stepan.get_by_label("Текст сообщения").press_sequentially("Я ")
        typing = artem.locator(".typing")
        await expect(typing).to_have_text("Степан печатает…")
        await artem.screenshot(path=artifacts / "03-typing.png")

        # Stepan answers the first message: the quote above his composer, then in the message.
        await menu(stepan, message(stepan, "Кто решил задачу номер пять?"), "Ответить")
        await expect(stepan.locator(".replying")).to_contain_text("Кто решил задачу номер пять?")
        await stepan.screenshot(path=artifacts / "04-replying.png")
        await send(stepan, "Я решил, могу объяснить")
        answer = message(artem, "Я решил, могу объяснить")
        await expect(answer.locator(".quote")).to_contain_text("Кто решил задачу номер пять?")
        await expect(answer.locator(".author")).to_have_text(STEPAN)
        await expect(stepan.locator(".replying")).to_have_count(0)
        await expect(typing).to_have_text("")  # his message ends «печатает…»
        await artem.screenshot(path=artifacts / "05-reply.png")

        # Artem edits his own message: «изменено» on both sides.
        await menu(artem, first, "Изменить")
        editor = artem.get_by_label("Новый текст сообщения")
        await editor.fill("Кто решил задачу номер шесть?")
        await editor.press("Enter")
        for page in (artem, stepan):
            edited = message(page, "Кто решил задачу номер шесть?")
            await expect(edited.locator(".edited")).to_contain_text("изменено")
        await stepan.screenshot(path=artifacts / "06-edited.png")

        # A reaction from the picker: a chip with its count for both; toggled by a click.
        await menu(stepan, message(stepan, "номер шесть"), "Поставить реакцию")
        await (
            stepan.get_by_role("dialog", name="Выберите реакцию")
            .get_by_role("button", name="👍")
            .click()
        )
        for page in (artem, stepan):
            await expect(
                message(page, "номер шесть").get_by_role("button", name="👍: 1")
            ).to_be_visible()
        chip = message(artem, "номер шесть").locator('.chip[data-emoji="👍"]')
        await expect(chip).to_have_attribute("aria-pressed", "false")
        await chip.click()
        await expect(chip).to_have_attribute("aria-pressed", "true")
        await expect(
            message(stepan, "номер шесть").get_by_role("button", name="👍: 2")
        ).to_be_visible()
        await artem.screenshot(path=artifacts / "07-reactions.png")
        await chip.click()
        await message(stepan, "номер шесть").get_by_role("button", name="👍: 1").click()
        for page in (artem, stepan):
            await expect(message(page, "номер шесть").locator(".chip")).to_have_count(0)

        # Escape closes the menu, from the keyboard (in the window that has the focus).
        await artem.bring_to_front()
        await message(artem, "Мне нужна подсказка").get_by_role("button", name=ACTIONS).focus()
        await artem.keyboard.press("Enter")
        await expect(artem.get_by_role("menu")).to_be_visible()
        await expect(artem.get_by_role("menuitem", name="Ответить")).to_be_focused()
        await artem.keyboard.press("Escape")
        await expect(artem.get_by_role("menu")).to_have_count(0)
        more = message(artem, "Мне нужна подсказка").get_by_role("button", name=ACTIONS)
        await expect(more).to_be_focused()  # the focus goes back where it was

        # Artem deletes his own message: the tombstone on both sides.
        await menu(artem, message(artem, "Мне нужна подсказка"), "Удалить")
        for page in (artem, stepan):
            await expect(page.locator("li.message .text.deleted")).to_have_text(
                ["Сообщение удалено"]
            )
            await expect(message(page, "Мне нужна подсказка")).to_have_count(0)
        await stepan.screenshot(path=artifacts / "08-deleted-phone.png")
    finally:
        await keep_last(artifacts, artem=artem, stepan=stepan)
        await artem_context.close()
        await stepan_context.close()


async def test_a_student_reports_and_the_class_teacher_deletes_pins_and_mutes(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    contexts = [await each_browser.new_context(locale="ru-RU") for _ in range(2)]
    contexts.append(await each_browser.new_context(locale="ru-RU", viewport=PHONE))
    teacher, stepan, artem = [await c.new_page() for c in contexts]
    try:
        for page, name in ((teacher, TEACHER), (stepan, STEPAN), (artem, ARTEM)):
            await sign_in(page, server.base, name)
            await class_chat(page).click()
        # Two type at once: the teacher sees both first names.
        await stepan.get_by_label("Текст сообщения").press_sequentially("А")
        await artem.get_by_label("Текст сообщения").press_sequentially("К")
        await expect(teacher.locator(".typing")).to_have_text(
            re.compile(r"^(Степан и Артём|Артём и Степан) печатают…$")
        )
        await teacher.screenshot(path=artifacts / "00-two-typing.png")
        await send(stepan, "Артём, ты дурак")
        await send(artem, "Контрольная в пятницу в 9:00")

        # Artem reports Stepan's message.
        await menu(artem, message(artem, "ты дурак"), "Пожаловаться")
        dialog = artem.get_by_role("dialog", name="Жалоба на сообщение")
        await dialog.get_by_label("Что не так с этим сообщением?").fill("Оскорбление")
        await artem.screenshot(path=artifacts / "01-report-dialog-phone.png")
        await dialog.get_by_role("button", name="Отправить жалобу").click()
        await expect(message(artem, "ты дурак").get_by_role("status")).to_have_text(
            "Жалоба отправлена"
        )
        await expect(dialog).to_have_count(0)
        await artem.screenshot(path=artifacts / "02-report-sent.png")

        # A student has no moderator's tools.
        await message(artem, "ты дурак").get_by_role("button", name=ACTIONS).click()
        await expect(artem.get_by_role("menuitem", name="Закрепить")).to_have_count(0)
        await expect(artem.get_by_role("menuitem", name="Заглушить автора")).to_have_count(0)
        await expect(artem.get_by_role("menuitem", name="Удалить")).to_have_count(0)
        await artem.keyboard.press("Escape")

        # The teacher deletes it: the tombstone for every one.
        await menu(teacher, message(teacher, "ты дурак"), "Удалить")
        for page in (teacher, stepan, artem):
            await expect(message(page, "ты дурак")).to_have_count(0)
            await expect(page.locator("li.message .text.deleted")).to_have_text(
                ["Сообщение удалено"]
            )
        await teacher.screenshot(path=artifacts / "03-moderator-deleted.png")

        # She pins Artem's message: the bar on the students' pages.
        await menu(teacher, message(teacher, "Контрольная в пятницу"), "Закрепить")
        bar = stepan.locator("button.pinned")
        await expect(bar).to_contain_text("Контрольная в пятницу в 9:00")
        await expect(bar).to_contain_text("Закреплённое сообщение")
        await bar.click()
        await expect(message(stepan, "Контрольная в пятницу")).to_be_in_viewport()
        await stepan.screenshot(path=artifacts / "04-pinned.png")
        await message(teacher, "Контрольная в пятницу").get_by_role("button", name=ACTIONS).click()
        await expect(teacher.get_by_role("menuitem", name="Открепить")).to_be_visible()
        await teacher.keyboard.press("Escape")

        # She mutes Stepan for 15 minutes: his composer says until when,
        # and a send is refused in Russian.
        await send(stepan, "Извините")
        await menu(teacher, message(teacher, "Извините"), "Заглушить автора")
        await teacher.get_by_role("menuitem", name="15 минут").click()
        await expect(stepan.locator(".composer-state")).to_contain_text("Вы не можете писать до ")
        await stepan.screenshot(path=artifacts / "05-muted.png")
        composer = stepan.get_by_label("Текст сообщения")
        await composer.fill("Можно мне сказать?")
        await composer.press("Enter")
        refused = stepan.locator('li.message[data-state="refused"]', has_text="Можно мне сказать?")
        await expect(refused.get_by_role("alert")).to_contain_text(
            "Модератор временно запретил вам писать"
        )
        await expect(refused).not_to_contain_text("moderation.muted")
        await stepan.screenshot(path=artifacts / "06-muted-refused.png")
        await expect(message(artem, "Можно мне сказать?")).to_have_count(0)
        # A muted member may not add a reaction either: the reason, in Russian.
        await menu(stepan, message(stepan, "Контрольная в пятницу"), "Поставить реакцию")
        await (
            stepan.get_by_role("dialog", name="Выберите реакцию")
            .get_by_role("button", name="👍")
            .click()
        )
        notice = stepan.locator(".notice")
        await expect(notice).to_contain_text("Модератор временно запретил вам писать в этот чат")
        await expect(message(teacher, "Контрольная в пятницу").locator(".chip")).to_have_count(0)

        # Announcements only: the students' composers say who may write; hers stays.
        await server.app[MODERATION].announcements(TEACHER_OID, f"class:{CLASS_5A}", True)
        await expect(artem.locator(".composer.closed")).to_have_text("Писать могут только учителя")
        await expect(artem.get_by_label("Текст сообщения")).to_have_count(0)
        await expect(teacher.get_by_label("Текст сообщения")).to_be_visible()
        await artem.screenshot(path=artifacts / "07-announcements-phone.png")
    finally:
        await keep_last(artifacts, teacher=teacher, stepan=stepan, artem=artem)
        for context in contexts:
            await context.close()


async def test_a_direct_chat_says_whether_the_other_is_online_and_when_last_seen(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    direct = await server.app[CHATS].open_direct(ARTEM_OID, STEPAN_OID)
    artem_context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    stepan_context = await each_browser.new_context(locale="ru-RU")
    artem = await artem_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await sign_in(stepan, server.base, STEPAN)
        await sign_in(artem, server.base, ARTEM)
        await artem.locator(f'.chat-item[data-chat="{direct.id}"]').click()
        status = artem.locator(".bar .status")
        await expect(status).to_have_text("в сети")
        await artem.screenshot(path=artifacts / "01-online-phone.png")
        # Stepan closes his browser: Artem is told, and sees when he was last here.
        await stepan_context.close()
        await expect(status).to_have_text(re.compile(r"^был\(а\) в сети сегодня \d\d:\d\d$"))
        await artem.screenshot(path=artifacts / "02-last-seen-phone.png")
    finally:
        if not artem.is_closed():
            await artem.screenshot(path=artifacts / "99-last-artem.png")
        await artem_context.close()
        await stepan_context.close()


async def test_an_edit_and_reactions_paged_in_before_their_message_wait_for_it(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    """History comes newest first: the edit and reactions of an old message are
    read a page before the message itself, and must still land on it."""
    server = await start_sign_in_server(SystemClock())
    chats = server.app[CHATS]
    chat = f"class:{CLASS_5A}"
    old = await chats.send(ARTEM_OID, chat, "Старое сообщение", key="old")
    for n in range(1, 61):  # the old message falls out of the latest page of 50
        await chats.send(STEPAN_OID, chat, f"Сообщение {n}", key=f"filler-{n}")
    await chats.edit(ARTEM_OID, chat, old.message_id, "Старое сообщение, исправленное", key="fix")
    await chats.react(STEPAN_OID, chat, old.message_id, "👍", key="up")
    await chats.react(STEPAN_OID, chat, old.message_id, "🎉", key="party")
    await chats.react(STEPAN_OID, chat, old.message_id, "🎉", on=False, key="party-off")
    context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    page = await context.new_page()
    try:
        await sign_in(page, server.base, ARTEM)
        await class_chat(page).click()
        texts = page.locator("li.message .text")
        await expect(texts.last).to_have_text("Сообщение 60")
        while await message(page, "Старое сообщение").count() == 0:
            before = await texts.count()
            await texts.first.scroll_into_view_if_needed()
            await expect(texts).not_to_have_count(before)
        row = message(page, "Старое сообщение")
        await expect(row.locator("p.text")).to_have_text("Старое сообщение, исправленное")
        await expect(row.locator(".edited")).to_contain_text("изменено")
        await expect(row.get_by_role("button", name="👍: 1")).to_be_visible()
        await expect(row.locator(".chip")).to_have_count(1)  # 🎉 was taken back
        await row.scroll_into_view_if_needed()
        await page.screenshot(path=artifacts / "01-old-message-phone.png")
    finally:
        if not page.is_closed():
            await page.screenshot(path=artifacts / "99-last.png")
        await context.close()
