"""SFU benchmark: one publisher to N subscribers, against Janus and MediaRelay, in one run.

One publisher sends 640x480 VP8 at 30 fps plus Opus; N subscribers receive
both over loopback. The server runs in its own process (bench/sfu_server.py)
and is measured from /proc: CPU seconds per second of media and RSS. The
same workload then goes, driven by the same publisher and subscribers,
through two baselines, each in a fresh process:

* ``janus``: Debian's Janus, its videoroom plugin over its HTTP API
  (bench/janus_server.py), a C SFU forwarding RTP;
* ``relay``: aiortc's MediaRelay (decode once, encode per subscriber).

The table gives the ratios, and after the last N each target's CPU per
added subscriber: the least-squares slope of its CPU over the N values.

The client side is made cheap so that the server gets the machine: the
publisher loops over frames encoded once before the run, and the
subscribers count encoded frames and RTP packets without decoding them.
The client's own CPU is printed too, since both share the cores.

    .venv/bin/python bench/sfu.py                      # N = 1, 10, 20, 30; 10 s each
    .venv/bin/python bench/sfu.py --targets zvonok,janus
    .venv/bin/python bench/sfu.py --subscribers 10 --seconds 20

After each measured window, ``--late`` more subscribers join the running
room one after another, and the time from each join request to its first
video frame is printed (the target: under a second). The publisher
answers a PLI with a keyframe, as a live encoder does, so this shows the
SFU's keyframe request, not the publisher's keyframe interval.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import av
import janus_server as janus
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from procstats import cpu_seconds, free_port, rss_kib, wait_for_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This checkout's media package, here and (through PYTHONPATH) in the server
# process: not the one the virtual environment's editable install names.
sys.path.insert(0, str(REPO))

from media import aiortc_glue as glue  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30
VIDEO_BITRATE = 1_000_000
LATE_TIMEOUT = 10.0  # seconds a late subscriber waits for its first frame


# -- the publisher: frames encoded once, sent in a loop -----------------------------


def encode_video(seconds: int = 1) -> list[bytes]:
    """``seconds`` of moving 640x480 picture as VP8, a keyframe first (then one per loop)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = Fraction(1, FPS)
    codec.framerate = Fraction(FPS, 1)
    codec.bit_rate = VIDEO_BITRATE
    codec.gop_size = FPS * seconds
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    # A diagonal gradient sliding sideways, with a bright square crossing it:
    # enough change per frame for a real bitrate.
    row = bytes((x * 256 // WIDTH) % 256 for x in range(WIDTH * 2))
    out: list[bytes] = []
    for n in range(FPS * seconds):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        shift = n * 8
        luma = bytearray(b"".join(row[(shift + y) % WIDTH :][:WIDTH] for y in range(HEIGHT)))
        x0, y0 = (n * 17) % (WIDTH - 96), (n * 11) % (HEIGHT - 96)
        for y in range(y0, y0 + 96):
            luma[y * WIDTH + x0 : y * WIDTH + x0 + 96] = b"\xeb" * 96
        planes = frame.planes
        planes[0].update(_strided(bytes(luma), WIDTH, planes[0].line_size, HEIGHT))
        for plane, value in ((planes[1], 90 + n % 60), (planes[2], 160)):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = n
        out.extend(bytes(p) for p in codec.encode(frame))
    out.extend(bytes(p) for p in codec.encode(None))
    return out


def _strided(data: bytes, width: int, line_size: int, height: int) -> bytes:
    if line_size == width:
        return data
    pad = bytes(line_size - width)
    return b"".join(data[y * width : (y + 1) * width] + pad for y in range(height))


def encode_audio(seconds: int = 1) -> list[bytes]:
    """``seconds`` of a 440 Hz tone as 20 ms Opus packets."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48_000, "stereo", "s16"
    codec.bit_rate = 64_000
    out: list[bytes] = []
    samples = 960
    for n in range(50 * seconds):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        values = [
            int(8000 * math.sin(2 * math.pi * 440 * (n * samples + i) / 48_000))
            for i in range(samples)
        ]
        pcm = b"".join(v.to_bytes(2, "little", signed=True) * 2 for v in values)
        frame.planes[0].update(pcm)
        frame.sample_rate = 48_000
        frame.pts = n * samples
        out.extend(bytes(p) for p in codec.encode(frame))
    return out


class LoopTrack(MediaStreamTrack):
    """Sends pre-encoded packets at their real rate, for ever, as ``av.Packet``.

    The loop starts with a keyframe, so :meth:`restart` (called on a PLI)
    makes the next packet a keyframe, as a live encoder would.
    """

    def __init__(self, kind: str, packets: list[bytes], rate: int, step: int) -> None:
        super().__init__()
        self.kind = kind
        self._packets = packets
        self._interval = step / rate
        self._step = step
        self._time_base = Fraction(1, rate)
        self._n = 0  # packets sent: the media clock
        self._at = 0  # index of the next packet in the loop
        self._start: float | None = None
        self.restarts = 0

    def restart(self) -> None:
        self._at = 0
        self.restarts += 1

    async def recv(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        if (wait := self._start + self._n * self._interval - loop.time()) > 0:
            await asyncio.sleep(wait)  # the media clock
        packet = glue.encoded_packet(self._packets[self._at], self._n * self._step, self._time_base)
        self._n += 1
        self._at = (self._at + 1) % len(self._packets)
        return packet


# -- subscribers that count without decoding -----------------------------------------


@dataclass
class Counts:
    frames: int = 0
    packets: int = 0
    first_seq: int | None = None
    last_seq: int = 0  # unwrapped
    ssrc: int | None = None

    def packet(self, packet: RtpPacket) -> None:
        if self.ssrc is None:
            self.ssrc = packet.ssrc
        if packet.ssrc != self.ssrc:
            return  # a retransmission (RTX): not counted as a first delivery
        self.packets += 1
        seq = packet.sequence_number
        if self.first_seq is None:
            self.first_seq = self.last_seq = seq
            return
        base = self.last_seq - (self.last_seq & 0xFFFF)
        candidate = base + seq
        if candidate < self.last_seq - 0x8000:
            candidate += 0x10000
        self.last_seq = max(self.last_seq, candidate)

    def expected(self) -> int:
        return 0 if self.first_seq is None else self.last_seq - self.first_seq + 1


@dataclass
class Sub:
    pc: RTCPeerConnection
    video: Counts = field(default_factory=Counts)
    audio: Counts = field(default_factory=Counts)
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    first_frame_at: float = 0.0
    first_data: bytes = b""


def tapped_subscriber() -> Sub:
    sub = Sub(RTCPeerConnection())

    @sub.pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        counts = sub.video if track.kind == "video" else sub.audio
        for transceiver in sub.pc.getTransceivers():
            if transceiver.receiver.track is track:

                def on_frame(codec: RTCRtpCodecParameters, frame: Any, c: Counts = counts) -> None:
                    c.frames += 1
                    if c is sub.video and not sub.first_frame.is_set():
                        sub.first_frame_at = time.monotonic()
                        sub.first_data = frame.data
                        sub.first_frame.set()

                glue.tap_receiver(transceiver.receiver, on_frame, counts.packet)

    return sub


@dataclass
class Result:
    kind: str
    subscribers: int
    server_cpu: float  # CPU seconds per second of media
    client_cpu: float
    rss_mib: float
    fps_min: float
    fps_mean: float
    packets: float  # RTP packets (video and audio) delivered per second, all subscribers
    loss_max: float  # fraction of video packets not delivered the first time
    audio_fps_min: float
    late_ms: list[float]  # each late subscriber: join request to its first video frame
    late_decoded: int  # late subscribers whose first frame decoded on its own
    keyframe_requests: int  # PLIs the publisher answered with a keyframe

    @property
    def ms_per_frame(self) -> float:
        """Server CPU milliseconds per video frame delivered to a subscriber."""
        delivered = self.fps_mean * self.subscribers
        return 1000 * self.server_cpu / delivered if delivered else math.inf

    @property
    def us_per_packet(self) -> float:
        """Server CPU microseconds per RTP packet delivered to a subscriber."""
        return 1e6 * self.server_cpu / self.packets if self.packets else math.inf


def decodes_alone(data: bytes) -> bool:
    """Whether a VP8 frame decodes with no frame before it (a keyframe, whole)."""
    codec = av.CodecContext.create("libvpx", "r")
    try:
        return len(codec.decode(av.Packet(data))) == 1
    except av.error.FFmpegError:
        return False


class Signaling(Protocol):
    """How the clients reach a target: the same three steps for each."""

    async def publish(self, sdp: str, tracks: list[dict[str, Any]]) -> str:
        """The publisher's offer and its tracks; returns the server's answer."""
        ...

    async def subscribe(self, participant: int) -> str:
        """A new subscriber of every published track; returns the server's offer."""
        ...

    async def answer(self, participant: int, sdp: str) -> None:
        """The subscriber's answer to that offer."""
        ...


class BenchSignaling:
    """bench/sfu_server.py's small HTTP signaling (Zvonok's SFU and the MediaRelay)."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self._http = http
        self._base = base

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._http.post(self._base + path, json=body) as response:
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def publish(self, sdp: str, tracks: list[dict[str, Any]]) -> str:
        answer = await self._post("/publish", {"sdp": sdp, "tracks": tracks})
        sdp_answer: str = answer["sdp"]
        return sdp_answer

    async def subscribe(self, participant: int) -> str:
        offer = await self._post("/subscribe", {"participant": participant})
        sdp: str = offer["sdp"]
        return sdp

    async def answer(self, participant: int, sdp: str) -> None:
        await self._post("/answer", {"participant": participant, "sdp": sdp})


def signaling(
    kind: str, http: aiohttp.ClientSession, base: str
) -> contextlib.AbstractAsyncContextManager[Signaling]:
    if kind == "janus":
        return janus.VideoRoom.open(http, base)
    return contextlib.nullcontext(BenchSignaling(http, base))


async def run_clients(
    base: str, subscribers: int, seconds: float, late: int, pid: int, kind: str
) -> Result:
    video = LoopTrack("video", encode_video(), 90_000, 90_000 // FPS)
    audio = LoopTrack("audio", encode_audio(), 48_000, 960)
    publisher = RTCPeerConnection()
    subs: list[Sub] = []
    async with aiohttp.ClientSession() as http, signaling(kind, http, base) as server:
        try:
            v = publisher.addTransceiver(video, direction="sendonly")
            vp8 = [c for c in v.sender.getCapabilities("video").codecs if c.name in ("VP8", "rtx")]
            v.setCodecPreferences(vp8)
            glue.on_keyframe_request(v.sender, video.restart)
            a = publisher.addTransceiver(audio, direction="sendonly")
            await publisher.setLocalDescription(await publisher.createOffer())
            tracks = [{"mid": v.mid, "source": "camera"}, {"mid": a.mid, "source": "microphone"}]
            answer = await server.publish(publisher.localDescription.sdp, tracks)
            await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))

            async def join(participant: int) -> Sub:
                sub = tapped_subscriber()
                offer = await server.subscribe(participant)
                await sub.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
                await sub.pc.setLocalDescription(await sub.pc.createAnswer())
                await server.answer(participant, sub.pc.localDescription.sdp)
                return sub

            for participant in range(2, subscribers + 2):
                subs.append(await join(participant))
            await asyncio.wait_for(asyncio.gather(*(s.first_frame.wait() for s in subs)), 60)
            await asyncio.sleep(2.0)  # warm-up: every subscriber is receiving

            def snapshot() -> tuple[float, float, float, list[tuple[int, int, int, int, int]]]:
                usage = resource.getrusage(resource.RUSAGE_SELF)
                per = [
                    (
                        s.video.frames,
                        s.video.packets,
                        s.video.expected(),
                        s.audio.frames,
                        s.audio.packets,
                    )
                    for s in subs
                ]
                return time.monotonic(), cpu_seconds(pid), usage.ru_utime + usage.ru_stime, per

            t0, cpu0, mine0, per0 = snapshot()
            await asyncio.sleep(seconds)  # the measured window
            t1, cpu1, mine1, per1 = snapshot()

            # Late subscribers, one after another, into the running room: the
            # time from the join request to the first video frame, which must
            # be a keyframe that decodes on its own.
            late_ms: list[float] = []
            late_decoded = 0
            requests_before = video.restarts
            for participant in range(subscribers + 2, subscribers + 2 + late):
                started = time.monotonic()
                sub = await join(participant)
                subs.append(sub)
                try:
                    await asyncio.wait_for(sub.first_frame.wait(), LATE_TIMEOUT)
                except TimeoutError:
                    late_ms.append(math.inf)  # a starved server: counted, not fatal
                    continue
                late_ms.append(1000 * (sub.first_frame_at - started))
                late_decoded += decodes_alone(sub.first_data)
            keyframe_requests = video.restarts - requests_before
        finally:
            await publisher.close()
            await asyncio.gather(*(s.pc.close() for s in subs))
    wall = t1 - t0
    fps = [(b[0] - a[0]) / wall for a, b in zip(per0, per1, strict=True)]
    audio_fps = [(b[3] - a[3]) / wall for a, b in zip(per0, per1, strict=True)]
    loss = [1 - (b[1] - a[1]) / max(1, b[2] - a[2]) for a, b in zip(per0, per1, strict=True)]
    packets = sum(b[1] - a[1] + b[4] - a[4] for a, b in zip(per0, per1, strict=True)) / wall
    return Result(
        kind=kind,
        subscribers=subscribers,
        server_cpu=(cpu1 - cpu0) / wall,
        client_cpu=(mine1 - mine0) / wall,
        rss_mib=rss_kib(pid) / 1024,
        fps_min=min(fps),
        fps_mean=sum(fps) / len(fps),
        packets=packets,
        loss_max=max(0.0, max(loss)),
        audio_fps_min=min(audio_fps),
        late_ms=late_ms,
        late_decoded=late_decoded,
        keyframe_requests=keyframe_requests,
    )


TARGETS = ("zvonok", "janus", "relay")
SERVER_KINDS = {"zvonok": "sfu", "relay": "relay"}  # bench/sfu_server.py --kind


@contextlib.contextmanager
def server(target: str) -> Iterator[tuple[str, int]]:
    """Start ``target`` in its own process; yield its signaling URL and its pid."""
    if target == "janus":
        with janus.running() as running:
            yield running.url, running.pid
        return
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [
            sys.executable,
            str(HERE / "sfu_server.py"),
            "--kind",
            SERVER_KINDS[target],
            "--port",
            str(port),
        ],
        env=env,
    )
    try:
        wait_for_port(port, 60, alive=lambda: process.poll() is None)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(kind: str, subscribers: int, seconds: float, late: int) -> Result:
    # Janus's ICE pairs no candidate with a loopback one: its clients take the
    # address it gathers on (bench/janus_server.py says why that stays local).
    glue.use_host_addresses([janus.host_address() if kind == "janus" else "127.0.0.1"])
    with server(kind) as (base, pid):
        return asyncio.run(run_clients(base, subscribers, seconds, late, pid, kind))


def slope(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The least-squares line through ``points`` (x, y): its slope and intercept."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if not spread:
        return math.nan, mean_y
    rise = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return rise, mean_y - rise * mean_x


def per_subscriber(results: Sequence[Result]) -> tuple[float, float]:
    """CPU per added subscriber (CPU s/s, the slope over N) and the same per packet (µs).

    The second divides the slope by the packets one subscriber receives per
    second: the marginal cost of a delivered packet, without the publisher's
    ingest and the room's fixed cost that ``us_per_packet`` spreads over N.
    """
    rise, _ = slope([(r.subscribers, r.server_cpu) for r in results])
    packets = sum(r.packets for r in results) / sum(r.subscribers for r in results)
    return rise, 1e6 * rise / packets if packets else math.inf


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and math.isfinite(a) and math.isfinite(b) else "n/a"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", default="1,10,20,30", help="comma-separated N")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    parser.add_argument(
        "--late", type=int, default=5, help="subscribers joining after the window, timed"
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"comma-separated, of {', '.join(TARGETS)} (zvonok is Zvonok's SFU)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="only zvonok")
    args = parser.parse_args(argv)
    targets = ["zvonok"] if args.no_baseline else args.targets.split(",")
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    counts = [int(n) for n in args.subscribers.split(",")]
    print(f"one publisher, {WIDTH}x{HEIGHT} VP8 at {FPS} fps + Opus; {args.seconds:g} s per run")
    if "janus" in targets:
        print(f"janus {janus.version()}")
    header = (
        f"{'server':>7} {'N':>3} {'cpu s/s':>8} {'client':>7} {'RSS MiB':>8} "
        f"{'fps min':>8} {'fps mean':>8} {'audio min':>9} {'loss max':>8} {'ms/frame':>8} "
        f"{'pkt/s':>7} {'µs/pkt':>7}"
    )
    print(header)
    runs: dict[str, list[Result]] = {target: [] for target in targets}
    for n in counts:
        results = {}
        for kind in targets:
            r = measure(kind, n, args.seconds, args.late)
            results[kind] = r
            runs[kind].append(r)
            print(
                f"{kind:>7} {n:>3} {r.server_cpu:>8.3f} {r.client_cpu:>7.3f} {r.rss_mib:>8.1f} "
                f"{r.fps_min:>8.1f} {r.fps_mean:>8.1f} {r.audio_fps_min:>9.1f} {r.loss_max:>8.2%} "
                f"{r.ms_per_frame:>8.2f} {r.packets:>7.0f} {r.us_per_packet:>7.1f}",
                flush=True,
            )
            if r.late_ms:
                ms = sorted(r.late_ms)
                print(
                    f"{'':>7} {n:>3} {len(ms)} late subscribers, join to first frame: "
                    f"min {ms[0]:.0f} ms, median {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms; "
                    f"{r.late_decoded}/{len(ms)} first frames decode alone; "
                    f"{sum(map(math.isinf, ms))} with none in {LATE_TIMEOUT:g} s; "
                    f"{r.keyframe_requests} keyframes on request",
                    flush=True,
                )
        if "zvonok" in results:
            ours = results["zvonok"]
            for other in (k for k in ("janus", "relay") if k in results):
                them = results[other]
                print(
                    f"{'':>7} {n:>3} zvonok/{other}: server CPU "
                    f"{ratio(ours.server_cpu, them.server_cpu)}, "
                    f"CPU per delivered frame {ratio(ours.ms_per_frame, them.ms_per_frame)}, "
                    f"per delivered packet {ratio(ours.us_per_packet, them.us_per_packet)}",
                    flush=True,
                )
    if len(counts) < 2:
        return
    print(f"per added subscriber (least squares over N = {args.subscribers}):")
    marginal = {kind: per_subscriber(results) for kind, results in runs.items()}
    for kind, (cpu, us) in marginal.items():
        print(f"{kind:>7} {1000 * cpu:8.2f} ms of CPU per second, {us:6.1f} µs per packet")
    if "zvonok" in marginal:
        for other in (k for k in ("janus", "relay") if k in marginal):
            print(
                f"zvonok/{other}: CPU per added subscriber "
                f"{ratio(marginal['zvonok'][0], marginal[other][0])}"
            )


if __name__ == "__main__":
    main()
