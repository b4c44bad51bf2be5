"""aiortc clients for the SFU tests: a publisher and a subscriber on 127.0.0.1.

They are real WebRTC endpoints: ICE over UDP on loopback, DTLS, SRTP, and
libvpx/Opus encoding and decoding on the client side, exactly as a Python
client of Zvonok would do it.
"""

from __future__ import annotations

import array
import asyncio
import fractions
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from server.rooms.media import Source, TrackInfo, TrackSpec

VIDEO_RATE = 90_000
AUDIO_RATE = 48_000


class PatternVideo(MediaStreamTrack):
    """Frames whose brightness encodes their number: a subscriber can tell which it got."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, fps: int = 30) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.count = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        due = self._start + self.count / self.fps
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)  # pacing the media clock, not synchronising a test
        shade = 40 + (self.count * 7) % 180
        frame = VideoFrame(self.width, self.height, "yuv420p")
        for plane, value in zip(frame.planes, (shade, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = self.count * VIDEO_RATE // self.fps
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self.count += 1
        return frame


class ToneAudio(MediaStreamTrack):
    """A 440 Hz tone at a chosen loudness (0 is silence) in 20 ms frames."""

    kind = "audio"

    def __init__(self, amplitude: float = 0.5) -> None:
        super().__init__()
        self.amplitude = amplitude
        self.samples = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        due = self._start + self.samples / AUDIO_RATE
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        n = AUDIO_RATE // 50
        peak = self.amplitude * 32767
        wave = array.array(
            "h",
            (
                int(peak * math.sin(2 * math.pi * 440 * i / AUDIO_RATE))
                for i in range(self.samples, self.samples + n)
            ),
        )
        frame = AudioFrame(format="s16", layout="mono", samples=n)
        frame.planes[0].update(wave.tobytes())
        frame.sample_rate = AUDIO_RATE
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.samples += n
        return frame


PublishFn = Callable[[str, Sequence[TrackSpec]], Awaitable[str]]


async def publish(
    tracks: dict[Source, MediaStreamTrack], send_offer: PublishFn
) -> RTCPeerConnection:
    """Offer these tracks on a new connection; ``send_offer`` returns the SFU's answer."""
    pc = RTCPeerConnection()
    sources = {}
    for source, track in tracks.items():
        sources[source] = pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    specs = [TrackSpec(mid=str(t.mid), source=s) for s, t in sources.items()]
    answer = await send_offer(pc.localDescription.sdp, specs)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc


@dataclass
class Received:
    """What a subscriber got on one track."""

    track_id: str
    kind: str
    frames: asyncio.Queue[object] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    count: int = 0


class Subscriber:
    """A subscribing connection that decodes what arrives and counts it."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.tracks: dict[str, Received] = {}
        self.arrived: asyncio.Queue[Received] = asyncio.Queue()
        self._readers: set[asyncio.Task[None]] = set()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            received = Received(track.id, track.kind)
            self.tracks[track.id] = received
            self.arrived.put_nowait(received)
            task = asyncio.get_running_loop().create_task(self._read(track, received))
            self._readers.add(task)

    async def _read(self, track: MediaStreamTrack, received: Received) -> None:
        try:
            while True:
                frame = await track.recv()
                received.count += 1
                if received.frames.full():
                    received.frames.get_nowait()
                received.frames.put_nowait(frame)
        except MediaStreamError:
            return

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def track(self, info: TrackInfo, timeout: float = 10.0) -> Received:
        while info.track_id not in self.tracks:
            await asyncio.wait_for(self.arrived.get(), timeout)
        return self.tracks[info.track_id]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


def shade_of(frame: VideoFrame) -> float:
    """The mean brightness of a decoded frame."""
    luma = bytes(frame.planes[0])
    return sum(luma) / len(luma)
