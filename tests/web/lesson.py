"""What the lesson and meeting browser tests share: a server whose SFU is on
127.0.0.1, the way into a room through the page, and the media a page
receives, read from its peer connections' ``getStats``.

The page's peer connections are found by an init script that records each
``RTCPeerConnection`` the page makes (instrumentation of the test, not a
hook in the product); the counters it sums are the browser's own:
``framesDecoded`` of inbound video and ``totalSamplesReceived`` of inbound
audio. "Media arrives" means such a counter grows while the test watches,
waited for with ``wait_for_function`` (bounded), never slept for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

from media import aiortc_glue
from server.clock import SystemClock
from server.config import MediaConfig
from tests.signin_server import SignInServer
from tests.web.test_chats_browser import sign_in

Start = Callable[..., Awaitable[SignInServer]]

TEACHER = "Морозова Ирина Александровна"  # the class teacher of 5А
ARTEM = "Белов Артём Дмитриевич"  # 5А
STEPAN = "Гусев Степан Николаевич"  # 5А
POLINA = "Алексеева Полина Антоновна"  # 5Б
DMITRY = "Белов Дмитрий Олегович"  # Артём's father
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 640}

RECORD_PEERS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (Native === undefined || window.__peers !== undefined) return;
  window.__peers = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
    }
  };
  window.__inbound = async (kind) => {
    let total = 0;
    for (const pc of window.__peers) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type !== "inbound-rtp" || s.kind !== kind) return;
        total += kind === "video" ? (s.framesDecoded ?? 0) : (s.totalSamplesReceived ?? 0);
      });
    }
    return total;
  };
})();
"""

RELAY_ONLY = """
(() => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config, ...rest) {
      super({ ...(config ?? {}), iceTransportPolicy: "relay" }, ...rest);
    }
  };
})();
"""


async def lesson_server(start: Start, **media: object) -> SignInServer:
    """A server whose SFU gathers on 127.0.0.1 only (the browsers reach it there)."""
    aiortc_glue.use_host_addresses(["127.0.0.1"])
    config = MediaConfig(ice_addresses=("127.0.0.1",), **media)  # type: ignore[arg-type]
    return await start(SystemClock(), media=config)


async def signed_in(page: Page, base: str, name: str, *, relay_only: bool = False) -> None:
    if relay_only:
        await page.add_init_script(RELAY_ONLY)
    await page.add_init_script(RECORD_PEERS)
    await sign_in(page, base, name)


async def start_room(page: Page, title: str, *, kind: str = "lesson") -> str:
    """The teacher starts a room from «Уроки и собрания» and enters it: its id."""
    await page.get_by_role("button", name="Уроки и собрания").click()
    dialog = page.locator("dialog.rooms")
    if kind == "meeting":
        await dialog.get_by_label("Что").select_option("meeting")
    await dialog.get_by_label("Тема").fill(title)
    await dialog.get_by_role("button", name="Начать").click()
    await enter_from_preview(page)
    room = page.url.split("room=")[1].split("&")[0]
    return room


async def join_from_list(page: Page, title: str) -> None:
    await page.get_by_role("button", name="Уроки и собрания").click()
    item = page.locator(".room-item", has_text=title)
    await item.get_by_role("button").click()
    await enter_from_preview(page)


async def enter_from_preview(page: Page) -> None:
    await expect(page.get_by_role("heading", name="Проверьте камеру и микрофон")).to_be_visible()
    await page.get_by_role("button", name="Войти", exact=True).click()


async def media_grows(page: Page, kind: str, *, timeout: float = 20_000) -> None:
    """Inbound ``kind`` media is being decoded (video) or received (audio) now."""
    before = await page.evaluate("(kind) => window.__inbound(kind)", kind)
    await page.wait_for_function(
        "async ([kind, before]) => (await window.__inbound(kind)) > before + 10",
        arg=[kind, before],
        polling=250,
        timeout=timeout,
    )


def tile(page: Page, person_name: str, source: str = "camera"):  # type: ignore[no-untyped-def]
    return page.locator(f'.tiles figure[data-source="{source}"]', has_text=person_name)


async def tile_plays(page: Page, person_name: str, source: str = "camera") -> None:
    """The tile of this person's ``source`` shows moving video: its element's frame count grows."""
    video = tile(page, person_name, source).locator("video")
    await expect(video).to_be_visible()
    handle = await video.element_handle()
    before = await handle.evaluate("(v) => v.getVideoPlaybackQuality().totalVideoFrames")
    await page.wait_for_function(
        "([v, before]) => v.getVideoPlaybackQuality().totalVideoFrames > before + 5",
        arg=[handle, before],
        polling=250,
        timeout=20_000,
    )


def notice(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".call-notice")


async def inbound(page: Page, kind: str) -> int:
    count: int = await page.evaluate("(kind) => window.__inbound(kind)", kind)
    return count


async def video_stands_still(page: Page) -> None:
    """While a second of sound arrives (48,000 samples), hardly a video frame is decoded:
    the SFU sends this page no video. Synchronised on the sound, not on a clock."""
    frames = await inbound(page, "video")
    samples = await inbound(page, "audio")
    await page.wait_for_function(
        "async (before) => (await window.__inbound('audio')) > before + 48000",
        arg=samples,
        polling=100,
        timeout=20_000,
    )
    await page.wait_for_function(  # frames already on their way when it was asked may land
        "async (before) => (await window.__inbound('audio')) > before + 48000",
        arg=samples + 48000,
        polling=100,
        timeout=20_000,
    )
    settled = await inbound(page, "video")
    samples = await inbound(page, "audio")
    await page.wait_for_function(
        "async (before) => (await window.__inbound('audio')) > before + 48000",
        arg=samples,
        polling=100,
        timeout=20_000,
    )
    assert await inbound(page, "video") - settled <= 1, (frames, settled)
