"""A browser session that ESIA will not renew, in a real Chromium.

A pupil has the class chat open and a long message half typed when ESIA
refuses to renew the session (its refresh token revoked). The page says
«Сессия истекла — войдите снова»; signing in again through the local ESIA
brings her back to the same chat with her text still in the composer. And
signing out leaves no draft behind for the next person at a shared PC.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, expect

from server.clock import ManualClock
from tests.signin_server import SignInServer
from tests.web.test_chats_browser import ARTEM, CLASS_5A, class_chat, sign_in

Start = Callable[..., Awaitable[SignInServer]]

DRAFT = "Ирина Александровна, завтра меня не будет: у нас соревнования"


async def test_an_expired_session_signs_in_again_back_to_the_chat_with_the_text_kept(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    clock = ManualClock()
    server = await start_sign_in_server(clock)
    context = await each_browser.new_context(locale="ru-RU")
    page = await context.new_page()
    try:
        await sign_in(page, server.base, ARTEM)
        await class_chat(page).click()
        assert parse_qs(urlsplit(page.url).query)["chat"] == [f"class:{CLASS_5A}"]
        composer = page.get_by_label("Текст сообщения")
        await composer.fill(DRAFT)
        await page.screenshot(path=artifacts / "01-typing.png")

        server.esia.forget_refresh_tokens()  # revoked at ESIA
        clock.advance(3600 - 60)  # the server's renewal comes due, and ESIA refuses it
        banner = page.get_by_role("alert")
        await expect(banner).to_contain_text("Сессия истекла — войдите снова")
        await page.screenshot(path=artifacts / "02-expired.png")

        await banner.get_by_role("link", name="Войти через Госуслуги").click()
        await page.get_by_role("button", name=ARTEM).click()  # consent was given before
        await expect(page.get_by_role("heading", name="Чаты")).to_be_visible()
        assert parse_qs(urlsplit(page.url).query)["chat"] == [f"class:{CLASS_5A}"]
        await expect(page.get_by_role("log")).to_be_visible()  # the chat is open again
        await expect(page.get_by_label("Текст сообщения")).to_have_value(DRAFT)
        await page.screenshot(path=artifacts / "03-back-with-the-text.png")

        # Signing out on a shared PC: ESIA's sign-out, the landing page, and no draft kept.
        await page.get_by_role("button", name="Выйти").click()
        await expect(page.get_by_role("link", name="Войти через Госуслуги")).to_be_visible()
        kept = await page.evaluate(
            "Object.keys(localStorage).filter((k) => k.startsWith('zvonok.draft.'))"
        )
        assert kept == []
        await page.screenshot(path=artifacts / "04-signed-out.png")
    finally:
        await context.close()
