"""A browser's camera and microphone through the real SFU to another browser of its kind.

Issue 16: the SFU answers what current browsers offer (VP8 and Opus, RTX,
NACK, PLI, congestion feedback) without a warning in either browser's
console. A teacher's page publishes its fake camera and microphone to a
real ``zvonok serve``; a pupil's page of the same browser subscribes,
decodes the picture and plays the sound. Signalling goes over the Python
client (the web client's rooms UI is tested on its own); the pages run
only ``RTCPeerConnection``, on a bare page of the server's origin served
by the test (``<link rel=icon href=data:,>``: no favicon request, whose 404
Chromium reports as a console error).

The SFU gathers on the machine's own address, not 127.0.0.1: Firefox never
pairs with a loopback candidate (not even with
``media.peerconnection.ice.loopback``), and its own candidates are mDNS
names, so its connection only works the way it would at a school: its
checks reach the SFU's candidate and ICE learns its address from them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from pathlib import Path
from typing import Any

import aiohttp
import ifaddr
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route

from media import aiortc_glue as glue
from signaling import rooms as r
from signaling.client import Client
from tests.serverproc import ServerProcess
from tests.web.conftest import keep_last

TEACHER_5A, STUDENT_5A = 1000100003, 1000100101
PAGE = "/rtc-browser-test"  # answered by the test's route, never by the server
BLANK = """<!doctype html>
<html><head><link rel="icon" href="data:,"><script>
window.gathered = (pc) => new Promise((done) => {
  if (pc.iceGatheringState === "complete") return done();
  pc.addEventListener("icegatheringstatechange", () => {
    if (pc.iceGatheringState === "complete") done();
  });
});
</script></head><body></body></html>"""
DEV_IDP_WARNING = "the development identity provider is ON"

PUBLISH = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const pc = window.pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: "sendonly"});
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return {
    sdp: pc.localDescription.sdp,
    tracks: pc.getTransceivers().map((t) => ({mid: t.mid, kind: t.sender.track.kind})),
  };
}"""

SUBSCRIBE = """async (sdp) => {
  const pc = window.pc = new RTCPeerConnection();
  pc.ontrack = ({track}) => {
    const element = document.createElement(track.kind);  // audio counts samples only when played
    element.autoplay = true;
    element.muted = false;
    element.srcObject = new MediaStream([track]);
    document.body.append(element);
  };
  await pc.setRemoteDescription({type: "offer", sdp});
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription.sdp;
}"""

RECEIVED = """async () => {
  const out = {state: pc.connectionState, frames: 0, samples: 0};
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp") return;
    if (s.kind === "video") out.frames += s.framesDecoded || 0;
    if (s.kind === "audio") out.samples += s.totalSamplesReceived || 0;
  });
  return out;
}"""


def machine_address() -> str:
    """The machine's own IPv4 address (not loopback, not link-local), for the SFU's ICE."""
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                address = ipaddress.IPv4Address(ip.ip)
                if not (address.is_loopback or address.is_link_local):
                    return ip.ip
    pytest.fail("no IPv4 address but loopback: Firefox's WebRTC does not connect over 127.0.0.1")


class Console:
    """Every warning and error a page reports: console messages and uncaught exceptions."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, name: str, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("warning", "error"):
                self.problems.append(f"{name} {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{name} pageerror: {error}"))


async def bare_page(browser: Browser, base: str, name: str, console: Console) -> Page:
    page = await browser.new_page()
    console.watch(name, page)

    async def blank(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body=BLANK)

    await page.route(base + PAGE, blank)
    await page.goto(base + PAGE)
    return page


def video_and_audio(sdp: str) -> tuple[Any, Any]:
    """The video and audio sections of a description, as aiortc reads them."""
    media = glue.parse_description(sdp).media
    return next(m for m in media if m.kind == "video"), next(m for m in media if m.kind == "audio")


def assert_forwardable(sdp: str, what: str) -> None:
    """VP8 with its RTX, NACK, PLI and congestion feedback; Opus for audio."""
    video, audio = video_and_audio(sdp)
    vp8 = next((c for c in video.rtp.codecs if c.mimeType == "video/VP8"), None)
    assert vp8 is not None, f"{what}: no VP8 in {[c.mimeType for c in video.rtp.codecs]}"
    assert any(
        c.mimeType == "video/rtx" and c.parameters.get("apt") == vp8.payloadType
        for c in video.rtp.codecs
    ), f"{what}: no RTX for VP8"
    feedback = {(f.type, f.parameter) for f in vp8.rtcpFeedback}
    assert {("nack", None), ("nack", "pli")} <= feedback, f"{what}: VP8 feedback {feedback}"
    assert feedback & {("transport-cc", None), ("goog-remb", None)}, f"{what}: {feedback}"
    assert [c.mimeType for c in audio.rtp.codecs][:1] == ["audio/opus"], f"{what}: audio"


async def connected(page: Page) -> None:
    async with asyncio.timeout(20):
        while (state := await page.evaluate("pc.connectionState")) != "connected":
            assert state in ("new", "connecting"), f"the connection is {state}"
            await asyncio.sleep(0.1)


async def received(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = await page.evaluate(RECEIVED)
    return stats


@pytest.fixture(params=["media_chromium", "media_firefox"], ids=["chromium", "firefox"])
def media_browser(request: pytest.FixtureRequest) -> Browser:
    """A browser with fake devices, Chromium and then Firefox."""
    browser: Browser = request.getfixturevalue(request.param)
    return browser


async def test_a_browser_publishes_to_the_sfu_and_another_plays_it_without_a_warning(
    media_browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    server = ServerProcess(
        tmp_path / "server", env={"ZVONOK_MEDIA_ICE_ADDRESSES": machine_address()}
    )
    await server.start()
    console = Console()
    pages: dict[str, Page] = {}
    try:
        idp = server.identity_provider()
        async with aiohttp.ClientSession() as session:
            teacher = await Client.connect(
                server.ws_url, idp.issue(TEACHER_5A, lifetime=600), session=session
            )
            pupil = await Client.connect(
                server.ws_url, idp.issue(STUDENT_5A, lifetime=600), session=session
            )
            room = (await teacher.start_room("sosh-1-5a", "lesson", "Окружающий мир"))["id"]
            await teacher.join_room(room)
            await pupil.join_room(room)

            pages["teacher"] = await bare_page(media_browser, server.base, "teacher", console)
            offer = await pages["teacher"].evaluate(PUBLISH)
            sources = {"video": "camera", "audio": "microphone"}
            answer = await teacher.publish(
                room, offer["sdp"], [(t["mid"], sources[t["kind"]]) for t in offer["tracks"]]
            )
            assert_forwardable(answer, "the SFU's answer to the publisher")
            await pages["teacher"].evaluate(
                "(sdp) => pc.setRemoteDescription({type: 'answer', sdp})", answer
            )
            await connected(pages["teacher"])

            tracks = [(await pupil.next_of(r.TrackChanged)).track for _ in range(2)]
            assert {t["source"] for t in tracks} == {"camera", "microphone"}
            await pupil.room_request(r.Subscribe(room=room, tracks=tuple(t["id"] for t in tracks)))
            sub_offer = (await pupil.next_of(r.RtcOffer)).sdp
            assert_forwardable(sub_offer, "the SFU's offer to the subscriber")
            pages["pupil"] = await bare_page(media_browser, server.base, "pupil", console)
            sub_answer = await pages["pupil"].evaluate(SUBSCRIBE, sub_offer)
            assert_forwardable(sub_answer, "the subscriber's answer")
            await pupil.room_request(r.RtcAnswer(room=room, sdp=sub_answer))
            await connected(pages["pupil"])

            async with asyncio.timeout(20):
                first = await received(pages["pupil"])
                while first["frames"] < 10 or first["samples"] == 0:
                    await asyncio.sleep(0.2)
                    first = await received(pages["pupil"])
                await asyncio.sleep(1)
                later = await received(pages["pupil"])
            assert later["frames"] > first["frames"], (first, later)
            assert later["samples"] > first["samples"], (first, later)
            await pages["pupil"].screenshot(path=artifacts / "01-pupil-sees-the-teacher.png")

            for client in (teacher, pupil):
                await client.close()
        assert console.problems == []
    finally:
        await keep_last(artifacts, **pages)
        for page in pages.values():
            await page.close()
        await server.stop()
    problems = [
        line
        for line in server.stderr().splitlines()
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback|Exception", line)
        and DEV_IDP_WARNING not in line
    ]
    assert problems == []
