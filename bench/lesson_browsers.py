"""A lesson in three real browsers: the server's CPU, and each browser's fps and RTT.

    .venv/bin/python bench/lesson_browsers.py              # 5 s warm-up, 20 s measured per mode
    .venv/bin/python bench/lesson_browsers.py --seconds 10

Three Chromium processes (Debian's /usr/bin/chromium, headless, with the fake
camera, microphone and screen of ``--use-fake-device-for-media-stream``), one
per person of a 5A lesson: the teacher publishes camera, microphone and
screen (``getDisplayMedia``), two students receive all three. Each browser
runs plain ``RTCPeerConnection`` code in a page of the server's origin; the
signalling goes over this script's Python clients (signaling/client.py), so
the web client's own code is not part of the measure.

Two modes, in the same browsers, one after the other:

- ``direct``, the baseline: the teacher's page opens one peer connection per
  student and sends the same three tracks to each (a mesh, two encodings of
  each track), signalled by this script; the server runs but carries nothing;
- ``sfu``: a real ``zvonok serve`` process (started here, on 127.0.0.1) with
  its SFU: the teacher publishes once, each student subscribes to the three
  tracks (docs/protocol.md, "Rooms").

After a warm-up, every page's ``getStats()`` and the CPU of every process
tree (/proc, bench/procstats.py) are read at the start and at the end of a
fixed window. Printed per mode: each student's inbound fps per track
(frames decoded in the window / its length, and the browser's own
``framesPerSecond``), size, bitrate, packets lost, NACKs and PLIs sent,
jitter and the jitter buffer's delay; the teacher's outbound fps per track
and connection, with the encoder's quality limitation, the NACKs and PLIs it
received and ``remote-inbound-rtp``'s round-trip time; each connection's
ICE round-trip time (``currentRoundTripTime`` at the end, and the mean of
the window's STUN checks); the CPU of the server, of each browser and of this
harness, in % of one core. Then the SFU's figures as a ratio to direct's.

Everything is bounded: each step has a timeout, the whole run one of
``2 * (warm-up + window) + 90`` s; the browsers and the server are stopped
(SIGTERM, then SIGKILL) however the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, Playwright, async_playwright
from procstats import rss_kib, tree_cpu_seconds

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from signaling import rooms as r  # noqa: E402
from signaling.client import Client  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM, MEDIA_ARGS  # noqa: E402

CLASS_ID = "sosh-1-5a"
TEACHER = 1000100003  # the demo roster's teacher of 5A
STUDENTS = (1000100101, 1000100102)  # two of its students
SOURCES = ("microphone", "camera", "screen")
STEP_TIMEOUT = 20.0  # seconds for one signalling step (an offer, a connection)
BROWSER_START = 30.0

# The functions every page gets. ``pcs`` holds the page's peer connections by
# name; a student's page answers offers (from the SFU or from the teacher's
# page) and plays what it receives in <video>/<audio> elements.
PAGE_JS = """() => {
  window.pcs = {};
  window.gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
  window.capture = async () => {
    const cam = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    const screen = await navigator.mediaDevices.getDisplayMedia({video: true});
    window.tracks = [['microphone', cam.getAudioTracks()[0]],
                     ['camera', cam.getVideoTracks()[0]],
                     ['screen', screen.getVideoTracks()[0]]];
    return Object.fromEntries(window.tracks.map(([source, t]) => [t.id, source]));
  };
  window.offer = async (key) => {
    const pc = new RTCPeerConnection({});
    pcs[key] = pc;
    for (const [, track] of tracks) pc.addTransceiver(track, {direction: 'sendonly'});
    await pc.setLocalDescription();
    await gathered(pc);
    return {sdp: pc.localDescription.sdp,
            mids: pc.getTransceivers().map((t, i) => [t.mid, tracks[i][0]])};
  };
  window.accept = (key, sdp) => pcs[key].setRemoteDescription({type: 'answer', sdp});
  window.answer = async (key, sdp) => {
    let pc = pcs[key];
    if (!pc) {
      pc = pcs[key] = new RTCPeerConnection({});
      pc.ontrack = (e) => {
        const el = document.createElement(e.track.kind);
        el.autoplay = true;
        el.muted = e.track.kind === 'video';
        el.srcObject = new MediaStream([e.track]);
        document.body.append(el);
      };
    }
    await pc.setRemoteDescription({type: 'offer', sdp});
    await pc.setLocalDescription();
    await gathered(pc);
    return pc.localDescription.sdp;
  };
  window.stats = async () => {
    const out = {};
    for (const [key, pc] of Object.entries(pcs)) out[key] = [...(await pc.getStats()).values()];
    return out;
  };
  window.closeAll = () => {
    for (const key of Object.keys(pcs)) { pcs[key].close(); delete pcs[key]; }
    document.querySelectorAll('video, audio').forEach((el) => el.remove());
  };
}"""

CONNECTED_JS = "(key) => pcs[key] && pcs[key].connectionState === 'connected'"


# -- browsers, each its own process tree ---------------------------------------


@dataclass
class Person:
    """One browser process and its page; its Python client in the ``sfu`` mode."""

    name: str
    oid: int
    process: subprocess.Popen[bytes]
    browser: Browser
    page: Page
    client: Client | None = None
    offer_sources: dict[str, str] = field(default_factory=dict)  # the SFU's last offer


@contextlib.asynccontextmanager
async def chromium(playwright: Playwright, name: str, base: str) -> AsyncIterator[Person]:
    """A Chromium of its own (so its CPU is its own), driven over CDP, on a page of ``base``."""
    with tempfile.TemporaryDirectory(prefix=f"zvonok-lesson-{name}-") as profile:
        port_file = Path(profile) / "DevToolsActivePort"
        log = (Path(profile) / "stderr.log").open("wb")
        # A plain Popen, not Playwright's launch(), which would hide the browser's pid.
        process = subprocess.Popen(  # noqa: S603, ASYNC220 (Debian's chromium, our arguments)
            [
                str(CHROMIUM),
                *ARGS,
                *MEDIA_ARGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + BROWSER_START
            while not port_file.is_file() or len(port_file.read_text().split()) < 2:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name}'s chromium did not start")
                await asyncio.sleep(0.1)
            port, path = port_file.read_text().split()[:2]
            browser = await playwright.chromium.connect_over_cdp(
                f"ws://127.0.0.1:{port}{path}", timeout=BROWSER_START * 1000
            )
            context = browser.contexts[0] if browser.contexts else await browser.new_context()
            page = await context.new_page()
            await page.goto(f"{base}/healthz")  # a secure context: media devices exist
            await page.evaluate(PAGE_JS)
            yield Person(name, 0, process, browser, page)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 5)
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)
            log.close()


# -- figures from getStats -------------------------------------------------------


@dataclass
class Received:
    who: str
    source: str
    codec: str
    size: str
    fps: float
    fps_now: float | None
    kbps: float
    lost: int
    nack: int
    pli: int
    jitter_ms: float
    delay_ms: float | None  # jitter buffer delay per emitted frame/sample in the window
    freezes: int


@dataclass
class Sent:
    to: str
    source: str
    codec: str
    size: str
    captured: str  # the source's size and frames per second (media-source)
    fps: float
    kbps: float
    limit: str
    nack: int
    pli: int
    rtt_ms: float | None  # remote-inbound-rtp roundTripTime
    lost: int | None


@dataclass
class Link:
    who: str
    pc: str
    rtt_ms: float | None  # currentRoundTripTime at the end
    rtt_mean_ms: float | None  # the window's STUN checks
    available_kbps: float | None


@dataclass
class Phase:
    mode: str
    seconds: float
    cpu: dict[str, float]  # process tree -> cores
    server_rss_mib: float
    load: str
    received: list[Received] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


Stats = dict[str, dict[str, Any]]  # one peer connection's getStats(), by id


def by_id(reports: list[dict[str, Any]]) -> Stats:
    return {s["id"]: s for s in reports}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def delta(a: dict[str, Any] | None, b: dict[str, Any], key: str) -> float:
    return float(b.get(key) or 0) - float((a or {}).get(key) or 0)


def seconds_between(a: dict[str, Any] | None, b: dict[str, Any]) -> float:
    return max(float(b["timestamp"] - (a or b)["timestamp"]) / 1000, 1e-9)


def codec_of(stats: Stats, report: dict[str, Any]) -> str:
    codec = stats.get(report.get("codecId", ""), {})
    return str(codec.get("mimeType", "?")).split("/")[-1]


def size_of(report: dict[str, Any]) -> str:
    if "frameWidth" in report:  # rtp streams
        return f"{report['frameWidth']}x{report['frameHeight']}"
    if "width" in report:  # media-source
        return f"{report['width']}x{report['height']}"
    return "-"


def mid_sources(sdp: str, track_sources: dict[str, str]) -> dict[str, str]:
    """``{mid: source}`` of an offer, by each m-section's ``a=msid`` track id."""
    out: dict[str, str] = {}
    for section in sdp.split("\nm=")[1:]:
        mid = re.search(r"^a=mid:(\S+)", section, re.M)
        msid = re.search(r"^a=msid:\S+ (\S+)", section, re.M)
        if mid and msid and msid.group(1) in track_sources:
            out[mid.group(1)] = track_sources[msid.group(1)]
    return out


def received(who: str, before: Stats, after: Stats, sources: dict[str, str]) -> list[Received]:
    rows = []
    for sid, b in after.items():
        if b["type"] != "inbound-rtp":
            continue
        a = before.get(sid)
        dt = seconds_between(a, b)
        video = b["kind"] == "video"
        emitted = delta(a, b, "jitterBufferEmittedCount")
        rows.append(
            Received(
                who=who,
                source=sources.get(str(b.get("mid")), f"mid {b.get('mid')}"),
                codec=codec_of(after, b),
                size=size_of(b),
                fps=delta(a, b, "framesDecoded") / dt if video else 0.0,
                fps_now=b.get("framesPerSecond") if video else None,
                kbps=delta(a, b, "bytesReceived") * 8 / dt / 1000,
                lost=int(delta(a, b, "packetsLost")),
                nack=int(delta(a, b, "nackCount")),
                pli=int(delta(a, b, "pliCount")),
                jitter_ms=float(b.get("jitter") or 0) * 1000,
                delay_ms=delta(a, b, "jitterBufferDelay") / emitted * 1000 if emitted else None,
                freezes=int(delta(a, b, "freezeCount")),
            )
        )
    return sorted(rows, key=lambda x: SOURCES.index(x.source) if x.source in SOURCES else 9)


def sent(to: str, before: Stats, after: Stats, sources: dict[str, str]) -> list[Sent]:
    rows = []
    for sid, b in after.items():
        if b["type"] != "outbound-rtp":
            continue
        a = before.get(sid)
        dt = seconds_between(a, b)
        video = b["kind"] == "video"
        media = after.get(b.get("mediaSourceId", ""), {})
        media_before = before.get(b.get("mediaSourceId", ""))
        remote = after.get(b.get("remoteId", ""), {})
        rtt = remote.get("roundTripTime")
        captured = "-"
        if video and "frames" in media:
            rate = delta(media_before, media, "frames") / seconds_between(media_before, media)
            captured = f"{size_of(media)}@{rate:.0f}"
        rows.append(
            Sent(
                to=to,
                source=sources.get(str(b.get("mid")), f"mid {b.get('mid')}"),
                codec=codec_of(after, b),
                size=size_of(b),
                captured=captured,
                fps=delta(a, b, "framesEncoded") / dt if video else 0.0,
                kbps=delta(a, b, "bytesSent") * 8 / dt / 1000,
                limit=str(b.get("qualityLimitationReason", "-")) if video else "-",
                nack=int(delta(a, b, "nackCount")),
                pli=int(delta(a, b, "pliCount")),
                rtt_ms=None if rtt is None else rtt * 1000,
                lost=remote.get("packetsLost"),
            )
        )
    return sorted(rows, key=lambda x: SOURCES.index(x.source) if x.source in SOURCES else 9)


def link(who: str, pc: str, before: Stats, after: Stats) -> Link:
    pair_id = next(
        (s.get("selectedCandidatePairId") for s in after.values() if s["type"] == "transport"),
        None,
    )
    b = after.get(pair_id or "") or next(
        (s for s in after.values() if s["type"] == "candidate-pair" and s.get("nominated")), {}
    )
    a = before.get(b.get("id", ""))
    checks = delta(a, b, "responsesReceived") if b else 0
    current = b.get("currentRoundTripTime")
    available = b.get("availableOutgoingBitrate")
    return Link(
        who=who,
        pc=pc,
        rtt_ms=None if current is None else current * 1000,
        rtt_mean_ms=delta(a, b, "totalRoundTripTime") / checks * 1000 if checks else None,
        available_kbps=None if available is None else available / 1000,
    )


# -- one measured window -----------------------------------------------------------


async def measure(
    mode: str,
    people: list[Person],
    server: ServerProcess,
    warmup: float,
    seconds: float,
    sources: dict[str, dict[str, str]],  # "person/pc" -> {mid: source}
    dump: Path | None,
) -> Phase:
    """Read every page's stats and every process tree's CPU around a window."""
    assert server.process is not None  # noqa: S101
    trees = {"server": server.process.pid, **{p.name: p.process.pid for p in people}}

    def cpu() -> dict[str, float]:
        now = {name: tree_cpu_seconds(pid) for name, pid in trees.items()}
        now["harness"] = tree_cpu_seconds(os.getpid()) - sum(now.values())
        return now

    async def all_stats() -> list[dict[str, list[dict[str, Any]]]]:
        return list(await asyncio.gather(*(p.page.evaluate("stats()") for p in people)))

    await asyncio.sleep(warmup)
    cpu0, t0 = cpu(), time.monotonic()
    stats0 = await all_stats()
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu(), time.monotonic()
    stats1 = await all_stats()
    wall = t1 - t0
    if dump is not None:
        pairs = zip(people, stats0, stats1, strict=True)
        raw = {p.name: {"before": a, "after": b} for p, a, b in pairs}
        dump.with_suffix(f".{mode}.json").write_text(json.dumps(raw, indent=1))
    phase = Phase(
        mode=mode,
        seconds=wall,
        cpu={name: (cpu1[name] - cpu0[name]) / wall for name in cpu1},
        server_rss_mib=rss_kib(server.process.pid) / 1024,
        load=load_average(),
    )
    for person, before_all, after_all in zip(people, stats0, stats1, strict=True):
        for pc, reports in after_all.items():
            before, after = by_id(before_all.get(pc, [])), by_id(reports)
            mids = sources.get(f"{person.name}/{pc}", {})
            phase.received += received(person.name, before, after, mids)
            target = "server" if pc == "pub" else pc.removeprefix("to ")
            phase.sent += sent(target, before, after, mids)
            phase.links.append(link(person.name, pc, before, after))
    return phase


async def wait_connected(page: Page, key: str) -> None:
    await page.wait_for_function(CONNECTED_JS, arg=key, timeout=STEP_TIMEOUT * 1000)


async def run_direct(
    teacher: Person, students: list[Person], track_sources: dict[str, str]
) -> dict[str, dict[str, str]]:
    """The teacher's page sends its tracks to each student's page: one connection each."""
    sources: dict[str, dict[str, str]] = {}
    for student in students:
        key = f"to {student.name}"
        offer = await teacher.page.evaluate("(k) => offer(k)", key)
        sources[f"teacher/{key}"] = dict(offer["mids"])
        answer = await student.page.evaluate("([k, s]) => answer(k, s)", ["direct", offer["sdp"]])
        sources[f"{student.name}/direct"] = mid_sources(offer["sdp"], track_sources)
        await teacher.page.evaluate("([k, s]) => accept(k, s)", [key, answer])
    for student in students:
        await wait_connected(teacher.page, f"to {student.name}")
        await wait_connected(student.page, "direct")
    return sources


async def answer_offers(student: Person, room: str, track_sources: dict[str, str]) -> None:
    """Answer every ``rtc.offer`` of the SFU for the student's subscribing connection."""
    assert student.client is not None  # noqa: S101
    while True:
        offer = await student.client.next_of(r.RtcOffer, timeout=None)
        student.offer_sources = mid_sources(offer.sdp, track_sources)
        sdp = await student.page.evaluate("([k, s]) => answer(k, s)", ["sub", offer.sdp])
        await student.client.room_request(r.RtcAnswer(room=room, sdp=sdp))


async def run_sfu(
    teacher: Person, students: list[Person], tasks: list[asyncio.Task[None]], remb: bool
) -> dict[str, dict[str, str]]:
    """A lesson on the server: the teacher publishes once, the students subscribe to all."""
    assert teacher.client is not None  # noqa: S101
    room = (await teacher.client.start_room(CLASS_ID, "lesson", "Замер: урок в браузерах"))["id"]
    await teacher.client.join_room(room)
    for student in students:
        assert student.client is not None  # noqa: S101
        await student.client.join_room(room)
    offer = await teacher.page.evaluate("(k) => offer(k)", "pub")
    answer = await teacher.client.publish(room, offer["sdp"], offer["mids"])
    if not remb:
        answer = re.sub(r"^a=rtcp-fb:\d+ goog-remb\r?\n", "", answer, flags=re.M)
    await teacher.page.evaluate("([k, s]) => accept(k, s)", ["pub", answer])
    await wait_connected(teacher.page, "pub")
    track_sources: dict[str, str] = {}
    for student in students:
        assert student.client is not None  # noqa: S101
        ids: list[str] = []
        while len(ids) < len(SOURCES):
            event = await student.client.next_of(
                r.TrackChanged, timeout=STEP_TIMEOUT, where=lambda e: e.change == "added"
            )
            ids.append(event.track["id"])
            track_sources[event.track["id"]] = event.track["source"]
        tasks.append(asyncio.create_task(answer_offers(student, room, track_sources)))
        await student.client.room_request(r.Subscribe(room=room, tracks=tuple(ids)))
    for student in students:
        await wait_connected(student.page, "sub")
    return {"teacher/pub": dict(offer["mids"])} | {
        f"{s.name}/sub": s.offer_sources for s in students
    }


# -- the run ------------------------------------------------------------------------------


async def run(
    modes: list[str], warmup: float, seconds: float, remb: bool, dump: Path | None
) -> tuple[list[Phase], str]:
    with tempfile.TemporaryDirectory(prefix="zvonok-lesson-") as tmp:
        server = ServerProcess(
            Path(tmp) / "server", env={"ZVONOK_MEDIA_ICE_ADDRESSES": "127.0.0.1"}
        )
        await server.start()
        phases: list[Phase] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            idp = server.identity_provider()
            async with (
                aiohttp.ClientSession() as session,
                async_playwright() as playwright,
                chromium(playwright, "teacher", server.base) as teacher,
                chromium(playwright, "student 1", server.base) as s1,
                chromium(playwright, "student 2", server.base) as s2,
            ):
                people, students = [teacher, s1, s2], [s1, s2]
                for person, oid in zip(people, (TEACHER, *STUDENTS), strict=True):
                    person.oid = oid
                    person.client = await Client.connect(
                        server.ws_url, idp.issue(oid, lifetime=600), session=session
                    )
                track_sources = await teacher.page.evaluate("capture()")
                for mode in modes:
                    steps: Callable[[], Awaitable[dict[str, dict[str, str]]]] = (
                        (lambda: run_direct(teacher, students, track_sources))
                        if mode == "direct"
                        else (lambda: run_sfu(teacher, students, tasks, remb))
                    )
                    sources = await asyncio.wait_for(steps(), STEP_TIMEOUT * 3)
                    phases.append(
                        await measure(mode, people, server, warmup, seconds, sources, dump)
                    )
                    for person in people:
                        await person.page.evaluate("closeAll()")
                    for task in tasks:
                        task.cancel()
                for person in people:
                    if person.client is not None:
                        await person.client.close()
        finally:
            for task in tasks:
                task.cancel()
            await server.stop()
        return phases, server.stderr()


# -- the report ----------------------------------------------------------------------------


def f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(phases: list[Phase]) -> None:
    for phase in phases:
        print(f"\n== {phase.mode}: {phase.seconds:.1f} s measured, load average {phase.load}")
        print(
            f"{'receiver':<10} {'track':<11} {'codec':<5} {'size':>9} {'fps':>5} {'fps now':>7} "
            f"{'kbit/s':>7} {'lost':>5} {'nack':>5} {'pli':>4} {'jitter ms':>9} "
            f"{'buffer ms':>9} {'freezes':>7}"
        )
        for x in phase.received:
            print(
                f"{x.who:<10} {x.source:<11} {x.codec:<5} {x.size:>9} "
                f"{f(x.fps) if x.size != '-' else '-':>5} {f(x.fps_now, 0):>7} {f(x.kbps, 0):>7} "
                f"{x.lost:>5} {x.nack:>5} {x.pli:>4} {f(x.jitter_ms):>9} "
                f"{f(x.delay_ms):>9} {x.freezes:>7}"
            )
        print(
            f"{'sender to':<10} {'track':<11} {'codec':<5} {'captured':>12} {'size':>9} {'fps':>5} "
            f"{'kbit/s':>7} {'limit':>9} {'nack':>5} {'pli':>4} {'rtt ms':>7} {'lost':>5}"
        )
        for s in phase.sent:
            print(
                f"{s.to:<10} {s.source:<11} {s.codec:<5} {s.captured:>12} {s.size:>9} "
                f"{f(s.fps) if s.size != '-' else '-':>5} {f(s.kbps, 0):>7} {s.limit:>9} "
                f"{s.nack:>5} {s.pli:>4} {f(s.rtt_ms):>7} {'-' if s.lost is None else s.lost:>5}"
            )
        print(
            f"{'browser':<10} {'connection':<12} {'rtt ms':>7} {'mean ms':>7} {'avail kbit/s':>12}"
        )
        for k in phase.links:
            print(
                f"{k.who:<10} {k.pc:<12} {f(k.rtt_ms):>7} {f(k.rtt_mean_ms, 2):>7} "
                f"{f(k.available_kbps, 0):>12}"
            )
        print(
            "CPU, % of a core: "
            + ", ".join(f"{name} {share * 100:.1f}" for name, share in phase.cpu.items())
            + f"; server RSS {phase.server_rss_mib:.1f} MiB"
        )
    modes = {p.mode: p for p in phases}
    if "direct" not in modes or "sfu" not in modes:
        return
    direct, sfu = modes["direct"], modes["sfu"]
    print("\n== sfu / direct")
    for x in sfu.received:
        y = next((d for d in direct.received if (d.who, d.source) == (x.who, x.source)), None)
        if y is None or x.size == "-":
            continue
        ratio = x.fps / max(y.fps, 1e-9)
        print(f"{x.who:<10} {x.source:<8} fps {x.fps:5.1f} / {y.fps:5.1f} = {ratio:.2f}x")
    for k in sfu.links:
        if k.who == "teacher":
            continue
        d = next(d for d in direct.links if d.who == k.who)
        teacher_leg = next(t for t in sfu.links if t.who == "teacher")
        if k.rtt_mean_ms and d.rtt_mean_ms and teacher_leg.rtt_mean_ms:
            path = k.rtt_mean_ms + teacher_leg.rtt_mean_ms
            print(
                f"{k.who:<10} rtt (mean) to the server {k.rtt_mean_ms:.2f} ms, + the teacher's "
                f"{teacher_leg.rtt_mean_ms:.2f} = {path:.2f} ms; direct {d.rtt_mean_ms:.2f} ms: "
                f"{path / d.rtt_mean_ms:.2f}x"
            )
    print(
        "CPU: "
        + ", ".join(
            f"{name} {sfu.cpu[name] * 100:.1f} / {direct.cpu[name] * 100:.1f} %"
            + (f" = {sfu.cpu[name] / direct.cpu[name]:.2f}x" if direct.cpu[name] > 0.005 else "")
            for name in sfu.cpu
        )
    )
    browsers = [n for n in sfu.cpu if n not in ("server", "harness")]
    all_sfu = sum(sfu.cpu[n] for n in [*browsers, "server"])
    all_direct = sum(direct.cpu[n] for n in [*browsers, "server"])
    print(
        f"all three browsers and the server: {all_sfu * 100:.1f} / {all_direct * 100:.1f} % "
        f"= {all_sfu / all_direct:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before each window")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per mode")
    parser.add_argument("--modes", default="direct,sfu", help="comma-separated: direct, sfu")
    parser.add_argument(
        "--no-remb",
        action="store_true",
        help="drop goog-remb from the SFU's answer to the teacher (a diagnosis: Chromium "
        "obeys the SFU's REMB all the same)",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        help="write every page's raw getStats() to DUMP.<mode>.json, start and end of the window",
    )
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(
        f"a lesson in three Chromium processes: teacher publishes camera + microphone + screen, "
        f"2 students receive all; {args.warmup:g} s warm-up, {args.seconds:g} s measured per mode"
    )
    budget = len(modes) * (args.warmup + args.seconds) + 90

    async def bounded() -> tuple[list[Phase], str]:
        return await asyncio.wait_for(
            run(modes, args.warmup, args.seconds, not args.no_remb, args.dump), budget
        )

    phases, log = asyncio.run(bounded())
    report(phases)
    noted = [
        line
        for line in log.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) ", line) and "development identity" not in line
    ]
    print(f"\nserver log: {len(noted)} warnings or errors" + ("" if not noted else ":"))
    for line in noted[:20]:
        print("  " + line)


if __name__ == "__main__":
    main()
