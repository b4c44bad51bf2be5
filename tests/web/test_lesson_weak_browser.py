"""A lesson is cheap for weak networks and old PCs (issue 16, point 3), in real Chromium.

Tiles that are not on screen are not received: the page tells the SFU which
video it shows (``media.show``), and the SFU stops sending the rest, so the
browser decodes nothing it does not show. «Только звук» stops video both
ways. Both are seen in the pupil's own ``getStats``: while a second of the
teacher's sound arrives, hardly a packet of her video does, where
before (and after) dozens did.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    PHONE,
    TEACHER,
    Start,
    join_from_list,
    lesson_server,
    media_grows,
    signed_in,
    start_room,
    tile,
    tile_plays,
    video_flows,
    video_stands_still,
)

HIDE_TILES = "document.querySelector('.tiles').style.height = '0px'"
SHOW_TILES = "document.querySelector('.tiles').style.height = ''"


async def test_video_off_screen_or_in_sound_only_mode_is_not_received(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path
) -> None:
    server = await lesson_server(start_sign_in_server)
    contexts = [
        await media_chromium.new_context(locale="ru-RU"),
        await media_chromium.new_context(locale="ru-RU", viewport=PHONE),
    ]
    teacher, artem = [await c.new_page() for c in contexts]
    try:
        await signed_in(teacher, server.base, TEACHER)
        await start_room(teacher, "Математика")
        await signed_in(artem, server.base, ARTEM)
        await join_from_list(artem, "Математика")
        await tile_plays(artem, TEACHER)
        await video_flows(artem)

        # The tiles scrolled out of sight (here: their area shrunk to nothing).
        await artem.evaluate(HIDE_TILES)
        await video_stands_still(artem)
        await artem.evaluate(SHOW_TILES)
        await tile_plays(artem, TEACHER)
        await video_flows(artem)

        # «Только звук»: no video comes, none goes; the sound stays.
        await artem.get_by_label("Только звук").check()
        sound_only = "Только звук: видео не передаётся и не принимается"
        await expect(artem.get_by_text(sound_only)).to_be_visible()
        await expect(tile(artem, TEACHER).locator("video")).to_have_count(0)
        await video_stands_still(artem)
        await expect(tile(teacher, ARTEM).locator("video")).to_have_count(0)  # his camera is off
        await artem.screenshot(path=artifacts / "01-sound-only.png")

        await artem.get_by_label("Только звук").uncheck()
        await tile_plays(artem, TEACHER)
        await tile_plays(teacher, ARTEM)
        await media_grows(artem, "audio")
    finally:
        await keep_last(artifacts, teacher=teacher, artem=artem)
        for context in contexts:
            await context.close()
