"""The web client in a real Chromium: sign in through the local ESIA, chat, see refusals.

Two classmates of 5А each sign in in their own browser context (their own
cookies), as a parent and a child would on two phones. Playwright's
expectations wait for the page (bounded by their timeouts); nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, Page, WebSocketRoute, expect

from server.chats.keys import CHATS
from server.clock import SystemClock
from tests.signin_server import SignInServer
from tests.web.conftest import keep_last

Start = Callable[..., Awaitable[SignInServer]]

ARTEM = "Белов Артём Дмитриевич"  # 5А
STEPAN = "Гусев Степан Николаевич"  # 5А
TEACHER = "Морозова Ирина Александровна"  # the class teacher of 5А
PHONE = {"width": 360, "height": 640}
CLASS_5A = "sosh-1-5a"


async def sign_in(page: Page, base: str, full_name: str) -> None:
    """«Войти через Госуслуги», pick the demo person at the local ESIA, consent, back in the app."""
    await page.goto(base + "/")
    await page.get_by_role("link", name="Войти через Госуслуги").click()
    await page.get_by_role("button", name=full_name).click()
    await page.get_by_role("button", name="Предоставить").click()
    await expect(page.get_by_role("heading", name="Чаты")).to_be_visible()


def class_chat(page: Page):  # type: ignore[no-untyped-def]
    return page.locator('.chat-item[data-chat^="class:"]')


async def test_two_classmates_chat_live_and_a_refusal_is_shown_in_russian(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    artem = await artem_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await artem.goto(server.base + "/")
        await expect(artem.get_by_role("link", name="Войти через Госуслуги")).to_be_visible()
        await artem.screenshot(path=artifacts / "01-landing.png")

        await sign_in(artem, server.base, ARTEM)
        await expect(class_chat(artem)).to_contain_text("5А")
        await artem.screenshot(path=artifacts / "02-chat-list.png")
        await sign_in(stepan, server.base, STEPAN)
        await stepan.screenshot(path=artifacts / "03-phone-chat-list.png")

        await class_chat(artem).click()
        await class_chat(stepan).click()
        composer = artem.get_by_label("Текст сообщения")
        await expect(composer).to_be_visible()

        # Enter sends; Shift+Enter is a new line in the same message.
        await composer.fill("Всем привет!")
        await composer.press("Shift+Enter")
        await composer.press_sequentially("Кто идёт на экскурсию?")
        await composer.press("Enter")
        sent = artem.locator("li.message.mine", has_text="Кто идёт на экскурсию?")
        await expect(sent).to_have_attribute("data-state", "sent")
        await expect(sent).to_contain_text("Всем привет!\nКто идёт на экскурсию?")
        await expect(artem.locator('li.message[data-state="pending"]')).to_have_count(0)
        await expect(composer).to_have_value("")
        await artem.screenshot(path=artifacts / "04-sent.png")

        # Stepan has the chat open on his phone: the message arrives live, once.
        received = stepan.locator("li.message", has_text="Кто идёт на экскурсию?")
        await expect(received).to_have_count(1)
        await expect(received).not_to_have_class("message mine")
        await stepan.screenshot(path=artifacts / "05-phone-received.png")

        # He answers; Artem sees it live too, and his chat list shows it as the last message.
        reply = stepan.get_by_label("Текст сообщения")
        await reply.fill("Я иду!")
        await reply.press("Enter")
        await expect(stepan.locator("li.message.mine", has_text="Я иду!")).to_have_attribute(
            "data-state", "sent"
        )
        await expect(artem.locator("li.message", has_text="Я иду!")).to_have_count(1)
        await expect(class_chat(artem)).to_contain_text("Я иду!")

        # The content filter refuses мат in a chat with minors: a Russian sentence, no code.
        await composer.fill("ну и бл.я погода")  # мат, disguised: blocked with minors
        await composer.press("Enter")
        refusal = artem.locator("li.message.refused").get_by_role("alert")
        await expect(refusal).to_contain_text("слова, которые в этом чате запрещены")
        await expect(refusal).not_to_contain_text("content.")
        await artem.screenshot(path=artifacts / "06-refused.png")
        await expect(stepan.locator("li.message", has_text="погода")).to_have_count(0)
        await stepan.screenshot(path=artifacts / "07-phone-after.png")
    finally:
        await keep_last(artifacts, artem=artem, stepan=stepan)
        await artem_context.close()
        await stepan_context.close()


async def test_messages_written_offline_are_sent_once_and_missed_ones_arrive_on_reconnect(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU")
    artem = await artem_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await sign_in(artem, server.base, ARTEM)
        await sign_in(stepan, server.base, STEPAN)
        await class_chat(artem).click()
        await class_chat(stepan).click()
        composer = artem.get_by_label("Текст сообщения")
        await expect(composer).to_be_visible()

        await artem_context.set_offline(True)
        await expect(artem.get_by_role("status")).to_have_text(
            "Нет соединения, переподключаемся…", timeout=15_000
        )
        for text in ("Первое без сети", "Второе без сети"):
            await composer.fill(text)
            await composer.press("Enter")
        await expect(artem.locator('li.message[data-state="pending"]')).to_have_count(2)
        await expect(artem.locator("li.message.pending").first).to_contain_text("отправляется")
        # Meanwhile Stepan writes: Artem's page must get it by resuming, not lose it.
        other = stepan.get_by_label("Текст сообщения")
        await other.fill("Пока тебя не было")
        await other.press("Enter")
        written = stepan.locator("li.message.mine", has_text="Пока тебя не было")
        await expect(written).to_have_attribute("data-state", "sent")
        await artem.screenshot(path=artifacts / "01-offline.png")

        await artem_context.set_offline(False)
        await expect(artem.get_by_role("status")).to_have_count(0, timeout=15_000)
        await expect(artem.locator('li.message[data-state="pending"]')).to_have_count(0)
        for page in (artem, stepan):
            texts = page.locator("li.message .text")
            await expect(texts).to_have_text(
                ["Пока тебя не было", "Первое без сети", "Второе без сети"]
            )
        await artem.screenshot(path=artifacts / "02-back-online.png")
        await stepan.screenshot(path=artifacts / "03-other-side.png")
    finally:
        await keep_last(artifacts, artem=artem, stepan=stepan)
        await artem_context.close()
        await stepan_context.close()


async def test_a_long_history_pages_back_as_one_scrolls_up(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_oid = next(e.person.oid for e in server.directory if e.person.full_name == ARTEM)
    chat = f"class:{CLASS_5A}"
    for n in range(1, 121):  # more than two pages of 50
        await server.app[CHATS].send(artem_oid, chat, f"Сообщение {n}", key=f"history-{n}")
    context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    page = await context.new_page()
    try:
        await sign_in(page, server.base, ARTEM)
        await class_chat(page).click()
        messages = page.locator("li.message .text")
        await expect(messages.last).to_have_text("Сообщение 120")
        await expect(messages).to_have_count(50)
        await page.screenshot(path=artifacts / "01-latest-page.png")
        for count in (100, 120):
            await messages.first.scroll_into_view_if_needed()
            await expect(messages).to_have_count(count)
        await expect(messages.first).to_have_text("Сообщение 1")
        await page.screenshot(path=artifacts / "02-first-message.png")
    finally:
        if not page.is_closed():
            await page.screenshot(path=artifacts / "99-last.png")
        await context.close()


async def test_the_chat_list_puts_the_latest_active_first_with_its_unread_count(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    teacher_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU", viewport=PHONE)
    teacher = await teacher_context.new_page()
    stepan = await stepan_context.new_page()
    try:
        await sign_in(teacher, server.base, TEACHER)
        items = teacher.locator(".chat-item")
        await expect(items.first).to_be_visible()
        assert await items.count() > 1  # class, parents', staff chats at least
        await sign_in(stepan, server.base, STEPAN)
        await class_chat(stepan).click()
        composer = stepan.get_by_label("Текст сообщения")
        for text in ("Здравствуйте!", "Можно вопрос про домашнее задание?"):
            await composer.fill(text)
            await composer.press("Enter")
        # The teacher's list, not a chat, is open: the class chat comes first, two unread.
        await expect(items.first).to_have_attribute("data-chat", f"class:{CLASS_5A}")
        await expect(items.first).to_contain_text("Можно вопрос про домашнее задание?")
        unread = items.first.locator(".unread")
        await expect(unread).to_have_text("2")
        await expect(unread).to_have_attribute("aria-label", "2 непрочитанных")
        await teacher.screenshot(path=artifacts / "01-unread.png")
        # Opening it reads it.
        await items.first.click()
        await expect(teacher.locator("li.message .text")).to_have_text(
            ["Здравствуйте!", "Можно вопрос про домашнее задание?"]
        )
        await expect(items.first.locator(".unread")).to_have_count(0)
        await teacher.screenshot(path=artifacts / "02-read.png")
    finally:
        await keep_last(artifacts, teacher=teacher, stepan=stepan)
        await teacher_context.close()
        await stepan_context.close()


async def test_the_outbox_survives_a_reload_and_sends_each_message_once(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    artem_context = await each_browser.new_context(locale="ru-RU")
    stepan_context = await each_browser.new_context(locale="ru-RU")
    artem = await artem_context.new_page()
    stepan = await stepan_context.new_page()
    blocked = False

    async def socket(route: WebSocketRoute) -> None:
        # While `blocked`, every new WebSocket of Artem's is refused: the server is out of reach.
        if blocked:
            await route.close()
        else:
            route.connect_to_server()

    try:
        await artem_context.route_web_socket("**/ws", socket)
        await sign_in(artem, server.base, ARTEM)
        await sign_in(stepan, server.base, STEPAN)
        await class_chat(artem).click()
        await class_chat(stepan).click()
        composer = artem.get_by_label("Текст сообщения")
        await expect(composer).to_be_visible()

        blocked = True
        await artem_context.set_offline(True)  # drops the open socket
        await artem_context.set_offline(False)  # back, but the server stays out of reach
        offline = artem.get_by_role("status")
        await expect(offline).to_have_text("Нет соединения, переподключаемся…")
        for text in ("Первое до перезагрузки", "Второе до перезагрузки"):
            await composer.fill(text)
            await composer.press("Enter")
        await expect(artem.locator("li.message.pending")).to_have_count(2)
        await artem.screenshot(path=artifacts / "01-written-offline.png")

        await artem.reload()
        await expect(artem.get_by_role("status")).to_be_visible()
        await artem.screenshot(path=artifacts / "02-reloaded.png")
        blocked = False
        await artem_context.set_offline(True)
        await artem_context.set_offline(False)  # the online event: reconnect now, not after backoff
        await expect(artem.get_by_role("status")).to_have_count(0, timeout=15_000)

        expected = ["Первое до перезагрузки", "Второе до перезагрузки"]
        await expect(stepan.locator("li.message .text")).to_have_text(expected)
        await class_chat(artem).click()
        await expect(artem.locator("li.message .text")).to_have_text(expected)
        await expect(artem.locator('li.message[data-state="pending"]')).to_have_count(0)
        await artem.screenshot(path=artifacts / "03-sent-once.png")
        # A second reload finds nothing left to send.
        await artem.reload()
        await class_chat(artem).click()
        await expect(artem.locator("li.message .text")).to_have_text(expected)
        await expect(stepan.locator("li.message .text")).to_have_text(expected)
    finally:
        await keep_last(artifacts, artem=artem, stepan=stepan)
        await artem_context.close()
        await stepan_context.close()
