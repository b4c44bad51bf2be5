"""The panels around the chats in a real Chromium: «Написать», groups, members
and moderation, reports, and a parent's oversight of a child's chat list.

Each person signs in in their own browser context (their own cookies), as on
their own phone. Playwright's expectations wait for the page (bounded by
their timeouts); nothing sleeps. What the tests arrange without a page (a
message to report, a report, a school setting) goes through the server's own
services, so these tests do not depend on the chat pane's message menu.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from server.appkeys import STORE
from server.chats.keys import CHATS
from server.clock import SystemClock
from server.roster.document import parse_roster
from server.safety.keys import REPORTS, SCHOOLS
from tests.server.test_safety_ws import STRANGER_STUDENT, second_school
from tests.signin_server import SignInServer
from tests.web.conftest import keep_last
from tests.web.test_chats_browser import ARTEM, PHONE, STEPAN, TEACHER, sign_in

Start = Callable[..., Awaitable[SignInServer]]

ARTEM_MOTHER = "Белова Ксения Андреевна"  # a guardian of Artem (5А)
STEPAN_FATHER = (
    "Гусев Николай Владимирович"  # a guardian of Stepan: an adult Artem may not write to
)
STEPAN_MOTHER = "Гусева Светлана Анатольевна"
DIRECTOR = 1000100001  # the admin of sosh-1
CLASS_CHAT = "class:sosh-1-5a"
SEARCH = "Кого найти: фамилия или имя"
ADD_TO_GROUP = "Добавить участников"


def oid_of(server: SignInServer, full_name: str) -> int:
    return next(e.person.oid for e in server.directory if e.person.full_name == full_name)


def chat_item(page: Page, prefix: str) -> Locator:
    return page.locator(f'.chat-item[data-chat^="{prefix}"]')


def dialog(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("dialog", name=name)


async def person_page(
    browser: Browser, server: SignInServer, name: str, **options: object
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(locale="ru-RU", **options)  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, server.base, name)
    return context, page


async def close_all(artifacts: Path, pages: dict[str, tuple[BrowserContext, Page]]) -> None:
    await keep_last(artifacts, **{name: page for name, (_, page) in pages.items()})
    for context, _ in pages.values():
        await context.close()


async def test_a_parent_writes_to_the_class_teacher_and_they_chat_in_the_new_direct_chat(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["mother"] = _, mother = await person_page(
            each_browser, server, ARTEM_MOTHER, viewport=PHONE
        )
        pages["teacher"] = _, teacher = await person_page(each_browser, server, TEACHER)
        await mother.bring_to_front()  # her window has the focus (Firefox gives it to one)
        await mother.get_by_role("button", name="Написать", exact=True).click()
        write = dialog(mother, "Написать")
        await expect(write).to_be_visible()
        await expect(write.get_by_label(SEARCH)).to_be_focused()  # the dialog takes the focus
        await write.get_by_label(SEARCH).fill("Морозова")
        found = write.get_by_role("button", name=re.compile(TEACHER))
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text("учитель")
        await mother.screenshot(path=artifacts / "01-mother-search.png")
        await found.click()

        await expect(write).to_have_count(0)
        await expect(mother.get_by_role("heading", name=TEACHER)).to_be_visible()
        composer = mother.get_by_label("Текст сообщения")
        await composer.fill("Добрый день! Артём завтра пропустит физкультуру.")
        await composer.press("Enter")
        await expect(mother.locator("li.message.mine", has_text="пропустит")).to_have_attribute(
            "data-state", "sent"
        )
        await mother.screenshot(path=artifacts / "02-mother-direct-chat.png")

        # The teacher's list gets the new direct chat, named for the mother, marked «Личный».
        direct = chat_item(teacher, "direct:")
        await expect(direct).to_contain_text(ARTEM_MOTHER)
        await expect(direct).to_contain_text("Личный")
        await expect(direct.get_by_role("img", name="в сети")).to_be_visible()  # she is signed in
        await expect(direct.locator(".unread")).to_have_text("1")
        await direct.click()
        await expect(teacher.locator("li.message", has_text="пропустит")).to_have_count(1)
        answer = teacher.get_by_label("Текст сообщения")
        await answer.fill("Спасибо, передам учителю физкультуры.")
        await answer.press("Enter")
        await expect(mother.locator("li.message", has_text="передам")).to_have_count(1)
        await teacher.screenshot(path=artifacts / "03-teacher-direct-chat.png")
        await mother.screenshot(path=artifacts / "04-mother-answer.png")
    finally:
        await close_all(artifacts, pages)


async def test_a_students_search_shows_a_classmate_but_not_the_classmates_parents(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    # docs/safety.md: a student writes to classmates, teachers, admins and their
    # own parents, "not to adults who are neither their teachers nor their parents".
    server = await start_sign_in_server(SystemClock())
    # Another school, with a pupil of Artem's age: on the roster, and never found by him.
    await server.app[STORE].import_roster(parse_roster(second_school()))
    assert await server.app[STORE].person(STRANGER_STUDENT) is not None
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["artem"] = _, artem = await person_page(each_browser, server, ARTEM, viewport=PHONE)
        await artem.get_by_role("button", name="Написать", exact=True).click()
        write = dialog(artem, "Написать")
        await write.get_by_label(SEARCH).fill("Гусев")
        results = write.locator("button.person")
        await expect(results).to_have_count(1)
        await expect(results).to_contain_text(STEPAN)
        await expect(write).not_to_contain_text(STEPAN_FATHER)
        await expect(write).not_to_contain_text(STEPAN_MOTHER)
        await artem.screenshot(path=artifacts / "01-search-classmate-only.png")
        await write.get_by_label(SEARCH).fill("Гусева Светлана")
        await expect(write).to_contain_text("Никого не нашли")
        await artem.screenshot(path=artifacts / "02-nobody.png")
        await write.get_by_label(SEARCH).fill("Чужой")  # the other school's pupil
        await expect(write).to_contain_text("Никого не нашли")
        await artem.screenshot(path=artifacts / "03-nobody-of-another-school.png")
        await artem.keyboard.press("Escape")
        await expect(write).to_have_count(0)
        await expect(artem.get_by_role("button", name="Написать", exact=True)).to_be_focused()
    finally:
        await close_all(artifacts, pages)


async def test_the_class_teacher_makes_a_group_and_removes_a_student_who_loses_it(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["teacher"] = _, teacher = await person_page(each_browser, server, TEACHER)
        pages["artem"] = _, artem = await person_page(each_browser, server, ARTEM, viewport=PHONE)
        pages["stepan"] = _, stepan = await person_page(
            each_browser, server, STEPAN, viewport=PHONE
        )
        # Students make no groups: the button is for staff only.
        await expect(artem.get_by_role("button", name="Создать группу")).to_have_count(0)

        await teacher.get_by_role("button", name="Создать группу").click()
        form = dialog(teacher, "Создать группу")
        await form.get_by_label("Название группы").fill("Олимпиада по математике")
        for name, query in ((ARTEM, "Белов Артём"), (STEPAN, "Гусев Степан")):
            await form.get_by_label(SEARCH).fill(query)
            await form.get_by_role("button", name=f"Добавить: {name}").click()
            await expect(
                form.get_by_role("button", name=f"Убрать из списка: {name}")
            ).to_be_visible()
        await teacher.screenshot(path=artifacts / "01-group-form.png")
        await form.get_by_role("button", name="Создать", exact=True).click()
        await expect(form).to_have_count(0)
        await expect(teacher.get_by_role("heading", name="Олимпиада по математике")).to_be_visible()
        await teacher.screenshot(path=artifacts / "02-group-open.png")

        for page, name in ((artem, "artem"), (stepan, "stepan")):
            group = chat_item(page, "group:")
            await expect(group).to_contain_text("Олимпиада по математике")
            await expect(group).to_contain_text("Группа")
            await page.screenshot(path=artifacts / f"03-{name}-sees-group.png")

        await teacher.get_by_role("button", name="Участники", exact=True).click()
        members = dialog(teacher, re.compile("Участники чата"))
        row = members.locator("li.member", has_text=STEPAN)
        await expect(row).to_contain_text("ученик")
        await expect(members.locator("li.member", has_text=TEACHER)).to_contain_text("модератор")
        await teacher.screenshot(path=artifacts / "04-members.png")
        await row.get_by_role("button", name="Удалить из группы").click()
        await expect(row).to_have_count(0)
        await expect(members.locator("li.member", has_text=ARTEM)).to_have_count(1)
        await teacher.screenshot(path=artifacts / "05-removed.png")

        await expect(chat_item(stepan, "group:")).to_have_count(0)
        await expect(chat_item(artem, "group:")).to_have_count(1)
        await stepan.screenshot(path=artifacts / "06-stepan-lost-group.png")

        # She adds him back from the same panel; the group comes back to his list.
        await members.get_by_role("button", name=ADD_TO_GROUP).click()
        await members.get_by_label(SEARCH).fill("Гусев Степан")
        await members.get_by_role("button", name=f"Добавить: {STEPAN}").click()
        await expect(members.locator("li.member", has_text=STEPAN)).to_have_count(1)
        await expect(chat_item(stepan, "group:")).to_contain_text("Олимпиада по математике")
        await stepan.screenshot(path=artifacts / "07-stepan-added-back.png")
    finally:
        await close_all(artifacts, pages)


async def test_a_teacher_mutes_a_student_who_is_refused_in_russian(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["teacher"] = _, teacher = await person_page(
            each_browser, server, TEACHER, viewport=PHONE
        )
        pages["stepan"] = _, stepan = await person_page(
            each_browser, server, STEPAN, viewport=PHONE
        )
        await chat_item(teacher, "class:").click()
        await teacher.get_by_role("button", name="Участники", exact=True).click()
        members = dialog(teacher, re.compile("Участники чата"))
        row = members.locator("li.member", has_text=STEPAN)
        await (
            row.get_by_role("group", name=f"Заглушить: {STEPAN}")
            .get_by_role("button", name="1 час")
            .click()
        )
        await expect(row).to_contain_text("заглушён до")
        await expect(row.get_by_role("button", name="Снять заглушение")).to_be_visible()
        await teacher.screenshot(path=artifacts / "01-muted.png")

        await chat_item(stepan, "class:").click()
        composer = stepan.get_by_label("Текст сообщения")
        await composer.fill("Можно спросить?")
        await composer.press("Enter")
        refusal = stepan.locator("li.message.refused").get_by_role("alert")
        await expect(refusal).to_contain_text("Модератор временно запретил вам писать")
        await expect(refusal).not_to_contain_text("moderation.")
        await stepan.screenshot(path=artifacts / "02-refused.png")

        # Unmuted, his next message goes through.
        await row.get_by_role("button", name="Снять заглушение").click()
        await expect(row).not_to_contain_text("заглушён")
        await composer.fill("А теперь можно?")
        await composer.press("Enter")
        await expect(
            stepan.locator("li.message.mine", has_text="А теперь можно?")
        ).to_have_attribute("data-state", "sent")
        await stepan.screenshot(path=artifacts / "03-unmuted.png")

        # «Только объявления»: only the moderators post; his composer says so, in Russian.
        announcements = members.get_by_label("Только объявления")
        await announcements.check()
        await expect(announcements).to_be_checked()
        await expect(stepan.locator(".composer.closed")).to_have_text("Писать могут только учителя")
        await expect(stepan.get_by_label("Текст сообщения")).to_have_count(0)
        await stepan.screenshot(path=artifacts / "04-announcements-only.png")
        await teacher.screenshot(path=artifacts / "05-teacher-announcements.png")
    finally:
        await close_all(artifacts, pages)


async def test_a_report_reaches_the_teachers_inbox_and_its_outcome_the_reporter(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_oid, stepan_oid = oid_of(server, ARTEM), oid_of(server, STEPAN)
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["teacher"] = _, teacher = await person_page(each_browser, server, TEACHER)
        pages["artem"] = _, artem = await person_page(each_browser, server, ARTEM, viewport=PHONE)
        await teacher.get_by_role("button", name="Жалобы", exact=True).click()
        inbox = teacher.get_by_role("dialog", name="Жалобы", exact=True)
        await expect(inbox).to_contain_text("Жалоб нет")

        # Stepan writes something rude; Artem reports it (while both pages are open).
        ack = await server.app[CHATS].send(stepan_oid, CLASS_CHAT, "Ты дурак", key="rude-1")
        await server.app[REPORTS].create(artem_oid, CLASS_CHAT, ack.message_id, "Обзывается")

        report = inbox.locator("li.report", has_text="Обзывается")  # arrives live (report.new)
        await expect(report).to_contain_text("Ты дурак")
        await expect(report).to_contain_text("5А")
        await expect(report).to_contain_text(f"Пожаловался: {ARTEM}")
        await teacher.screenshot(path=artifacts / "01-inbox.png")
        await report.get_by_label("Комментарий (необязательно)").fill("Поговорила со Степаном")
        await report.get_by_role("button", name="Предупредить").click()
        await expect(inbox.locator('li.report[data-status="resolved"]')).to_contain_text(
            "Автор получил предупреждение — Поговорила со Степаном"
        )
        await expect(inbox.locator('li.report[data-status="open"]')).to_have_count(0)
        await teacher.screenshot(path=artifacts / "02-resolved.png")

        await artem.get_by_role("button", name="Мои жалобы").click()
        mine = dialog(artem, "Мои жалобы")
        await expect(mine.locator("li.report", has_text="Обзывается")).to_contain_text(
            "Автор получил предупреждение"
        )
        await artem.screenshot(path=artifacts / "03-my-reports.png")
    finally:
        await close_all(artifacts, pages)


async def test_a_parent_sees_her_childs_chats_and_with_whom_but_no_messages(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    await server.app[CHATS].send(
        oid_of(server, STEPAN), CLASS_CHAT, "Секрет для класса", key="secret-1"
    )
    pages: dict[str, tuple[BrowserContext, Page]] = {}
    try:
        pages["mother"] = _, mother = await person_page(
            each_browser, server, ARTEM_MOTHER, viewport=PHONE
        )
        await mother.get_by_role("button", name="Дети").click()
        children = dialog(mother, "Дети")
        await children.get_by_role("button", name=ARTEM).click()
        listed = children.get_by_role("region", name=f"Чаты: {ARTEM}")
        class_row = listed.locator(f'li[data-chat="{CLASS_CHAT}"]')
        await expect(class_row).to_contain_text("Класс")
        await expect(class_row).to_contain_text(STEPAN)  # with whom
        await expect(class_row).to_contain_text(TEACHER)
        await expect(children).not_to_contain_text("Секрет для класса")  # never the content
        await mother.screenshot(path=artifacts / "01-child-chats.png")
        await mother.keyboard.press("Escape")
        await expect(children).to_have_count(0)

        # The school turns oversight off: the same panel says so in Russian.
        await server.app[SCHOOLS].change_settings(DIRECTOR, "sosh-1", {"oversight_age": 0})
        await mother.get_by_role("button", name="Дети").click()
        await children.get_by_role("button", name=ARTEM).click()
        refusal = children.get_by_role("alert")
        await expect(refusal).to_contain_text("Школа не показывает родителям чаты детей")
        await expect(refusal).not_to_contain_text("policy.")
        await expect(children.locator(f'li[data-chat="{CLASS_CHAT}"]')).to_have_count(0)
        await mother.screenshot(path=artifacts / "02-oversight-off.png")
    finally:
        await close_all(artifacts, pages)
