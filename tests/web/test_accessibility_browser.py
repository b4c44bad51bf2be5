"""The page for screen readers and keyboards, in Chromium and Firefox (issue 15).

axe-core (the npm package, from web/node_modules) checks the sign-in (the
landing page and the local ESIA's picker), the chat list, an open chat with
messages and its «…» menu, on a laptop and on a 360x640 phone: no violation
of WCAG 2.1 A/AA rules. And a teacher does the whole round by keyboard
alone: the chat list, open the class chat, write, send.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from server.clock import SystemClock
from tests.signin_server import SignInServer
from tests.web.test_chats_browser import ARTEM, PHONE, STEPAN, TEACHER, class_chat, sign_in

Start = Callable[..., Awaitable[SignInServer]]

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
MAX_TABS = 40  # presses of Tab to reach a control; bounded, never a loop forever


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe's WCAG 2.1 A and AA violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(
            AXE.read_text("utf-8")
        )  # Runtime.evaluate: the page's CSP allows no inline script
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {
             runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           })).violations.map((v) => ({id: v.id, impact: v.impact,
             nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}))"""
    )
    return found


def readable(found: list[dict[str, Any]]) -> str:
    return json.dumps(found, ensure_ascii=False, indent=1)


async def test_the_chat_list_an_open_chat_and_its_menu_pass_axe_on_a_laptop_and_a_phone(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    assert AXE.is_file(), "axe-core is not installed: `npm ci` in web/ (make does it)"
    server = await start_sign_in_server(SystemClock())
    laptop = {"width": 1280, "height": 800}
    for name, person, viewport in (("laptop", STEPAN, laptop), ("phone", ARTEM, PHONE)):
        context = await each_browser.new_context(locale="ru-RU", viewport=viewport)  # type: ignore[arg-type]
        page = await context.new_page()
        try:
            # The sign-in: the landing page «Войти через Госуслуги», and the local ESIA's picker.
            await page.goto(server.base + "/")
            await expect(page.get_by_role("link", name="Войти через Госуслуги")).to_be_visible()
            found = await violations(page)
            assert found == [], readable(found)
            await page.get_by_role("link", name="Войти через Госуслуги").click()
            await expect(page.get_by_role("button", name=person)).to_be_visible()
            found = await violations(page)
            assert found == [], readable(found)
            await page.screenshot(path=artifacts / f"{name}-0-sign-in.png")
            await sign_in(page, server.base, person)
            await expect(class_chat(page)).to_be_visible()
            assert await violations(page) == [], readable(await violations(page))
            await page.screenshot(path=artifacts / f"{name}-1-list.png")

            await class_chat(page).click()
            composer = page.get_by_label("Текст сообщения")
            await composer.fill(f"Проверка с {name}")
            await composer.press("Enter")
            sent = page.locator("li.message.mine", has_text=f"Проверка с {name}")
            await expect(sent).to_have_attribute("data-state", "sent")
            found = await violations(page)
            assert found == [], readable(found)
            await page.screenshot(path=artifacts / f"{name}-2-chat.png")

            await sent.hover()
            await sent.get_by_role("button").first.click()
            await expect(page.get_by_role("menu")).to_be_visible()
            found = await violations(page)
            assert found == [], readable(found)
            await page.screenshot(path=artifacts / f"{name}-3-menu.png")
        finally:
            await context.close()


async def focused(page: Page) -> str:
    """What has the keyboard focus: its role-ish tag, name and text, for matching."""
    text: str = await page.evaluate(
        "() => { const e = document.activeElement; return e ? `${e.tagName} "
        "${e.getAttribute('aria-label') ?? ''} ${e.getAttribute('data-chat') ?? ''} "
        "${e.textContent ?? ''}` : '' }"
    )
    return text


async def tab_to(page: Page, wanted: Callable[[str], bool]) -> None:
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if wanted(await focused(page)):
            return
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached it; last: {await focused(page)}")


async def test_a_teacher_reads_and_writes_by_keyboard_alone(
    start_sign_in_server: Start, each_browser: Browser, artifacts: Path
) -> None:
    server = await start_sign_in_server(SystemClock())
    context = await each_browser.new_context(locale="ru-RU")
    page = await context.new_page()
    try:
        await sign_in(page, server.base, TEACHER)
        await expect(class_chat(page)).to_be_visible()
        await tab_to(page, lambda f: f.startswith("BUTTON") and "class:" in f)
        await page.keyboard.press("Enter")
        await tab_to(page, lambda f: f.startswith("TEXTAREA"))
        await page.keyboard.type("Завтра контрольная по математике")
        await page.keyboard.press("Enter")
        sent = page.locator("li.message.mine", has_text="Завтра контрольная по математике")
        await expect(sent).to_have_attribute("data-state", "sent")
        await page.screenshot(path=artifacts / "keyboard-sent.png")
    finally:
        await context.close()
