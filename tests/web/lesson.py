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
from tests.web.test_chats_browser import class_chat, sign_in

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
  // The sum over the page's open connections of one counter of inbound
  // ``kind`` streams: by default frames decoded (video), samples (audio).
  window.__inbound = async (kind, counter) => {
    const name = counter ?? (kind === "video" ? "framesDecoded" : "totalSamplesReceived");
    let total = 0;
    for (const pc of window.__peers) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === kind) total += s[name] ?? 0;
      });
    }
    return total;
  };
  // For wait_for_function, whose predicate must answer at once (a promise
  // would count as true): each call starts a fresh count and answers
  // whether the one before was above ``above``.
  window.__last = {};
  window.__inboundAbove = (kind, counter, above) => {
    const key = `${kind}/${counter}`;
    window.__inbound(kind, counter).then((n) => { window.__last[key] = n; });
    return (window.__last[key] ?? -1) > above;
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


async def open_rooms(page: Page, *, from_chat: bool) -> None:
    """«Уроки и собрания» from the top bar, or «Уроки» in the class chat's header."""
    if from_chat:
        await class_chat(page).click()
        await (
            page.locator("section.chat > header")
            .get_by_role("button", name="Уроки", exact=True)
            .click()
        )
    else:
        await page.get_by_role("button", name="Уроки и собрания").click()


async def start_room(
    page: Page, title: str, *, kind: str = "lesson", from_chat: bool = False
) -> str:
    """The teacher starts a room from «Уроки и собрания» (or the class chat's
    «Уроки») and enters it: its id."""
    await open_rooms(page, from_chat=from_chat)
    dialog = page.locator("dialog.rooms")
    if kind == "meeting":
        await dialog.get_by_label("Что").select_option("meeting")
    await dialog.get_by_label("Тема").fill(title)
    await dialog.get_by_role("button", name="Начать").click()
    await enter_from_preview(page)
    room = page.url.split("room=")[1].split("&")[0]
    return room


async def join_from_list(page: Page, title: str, *, from_chat: bool = False) -> None:
    await open_rooms(page, from_chat=from_chat)
    item = page.locator(".room-item", has_text=title)
    await item.get_by_role("button").click()
    await enter_from_preview(page)


async def enter_from_preview(page: Page) -> None:
    await expect(page.get_by_role("heading", name="Проверьте камеру и микрофон")).to_be_visible()
    await page.get_by_role("button", name="Войти", exact=True).click()


async def media_grows(page: Page, kind: str, *, timeout: float = 20_000) -> None:
    """Inbound ``kind`` media is being decoded (video) or received (audio) now."""
    await inbound_above(page, kind, await inbound(page, kind) + 10, timeout=timeout)


async def inbound_above(
    page: Page, kind: str, above: int, counter: str | None = None, *, timeout: float = 20_000
) -> None:
    """Wait (bounded) until the page's inbound ``kind`` counter passes ``above``."""
    await page.wait_for_function(
        "([kind, counter, above]) => window.__inboundAbove(kind, counter, above)",
        arg=[kind, counter, above],
        polling=100,
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


async def inbound(page: Page, kind: str, counter: str | None = None) -> int:
    count: int = await page.evaluate(
        "([kind, counter]) => window.__inbound(kind, counter)", [kind, counter]
    )
    return count


async def video_packets_in_a_second_of_sound(page: Page) -> int:
    """Video packets that arrive while a second of sound (48,000 samples) does:
    synchronised on the sound, not on a clock."""
    packets = await inbound(page, "video", "packetsReceived")
    await inbound_above(page, "audio", await inbound(page, "audio") + 48_000)
    return await inbound(page, "video", "packetsReceived") - packets


async def video_flows(page: Page) -> None:
    """Video packets arrive with the sound (the page's camera tiles are sent)."""
    assert await video_packets_in_a_second_of_sound(page) >= 10


async def video_stands_still(page: Page) -> None:
    """Hardly a video packet arrives with a second of sound: the SFU sends this
    page no video. The second before lets what was already on its way land."""
    await video_packets_in_a_second_of_sound(page)
    assert await video_packets_in_a_second_of_sound(page) <= 2
