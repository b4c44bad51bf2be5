"""One subscriber's copy of a published track: encoded frames in, encoded frames out.

A :class:`ForwardTrack` is the ``MediaStreamTrack`` an aiortc sender reads
from. Its :meth:`recv` returns :class:`~media.aiortc_glue.Packed` frames
(the publisher's encoded frames, cut into RTP payloads once and shared by
every subscriber, never copied or re-encoded), which the sender sends under
its own SSRC, sequence numbers and timestamps, and keeps for retransmission
on NACK.

Video is only useful from a keyframe on, so a video track starts, resumes
and recovers from overflow by *waiting for a keyframe*: it drops delta
frames and asks (through ``want_keyframe``) for a keyframe, coalesced per
publisher by :class:`~media.keyframes.KeyframeRequester`.

The queue is bounded: a sender that cannot keep up (the loop is saturated)
loses frames here, not memory. Audio drops the oldest frame; video drops
everything queued and waits for the next keyframe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

if TYPE_CHECKING:
    from media.aiortc_glue import Packed

Kind = Literal["audio", "video"]

VIDEO_QUEUE = 60  # two seconds at 30 fps
AUDIO_QUEUE = 50  # one second of 20 ms Opus frames


def is_vp8_keyframe(data: bytes) -> bool:
    """True for a VP8 key frame (RFC 6386 section 9.1: bit 0 of the frame tag is 0)."""
    return bool(data) and not data[0] & 0x01


@dataclass(slots=True)
class Sent:
    """What the SFU handed its subscribers' senders, all tracks together (/metrics)."""

    frames: int = 0
    bytes: int = 0  # payload, before RTP and SRTP


class ForwardTrack(MediaStreamTrack):
    """A subscriber's view of one published track."""

    def __init__(
        self, kind: Kind, want_keyframe: Callable[[], None], sent: Sent | None = None
    ) -> None:
        super().__init__()
        self.kind = kind
        self._sent = sent
        self._want_keyframe = want_keyframe
        self._queue: deque[Packed] = deque(maxlen=AUDIO_QUEUE if kind == "audio" else None)
        self._limit = AUDIO_QUEUE if kind == "audio" else VIDEO_QUEUE
        self._ready = asyncio.Event()
        self._reading = False  # the sender has started pulling frames
        self._need_keyframe = kind == "video"
        self._paused = False
        self.forwarded = 0  # frames handed to the sender
        self.dropped = 0  # frames dropped here (paused, waiting for a keyframe, overflow)
        self.keyframes = 0  # video keyframes handed on

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self, paused: bool) -> None:
        """Stop (or resume) forwarding: a hidden tile, or a source muted by the host."""
        if paused == self._paused:
            return
        self._paused = paused
        self._queue.clear()
        if not paused and self.kind == "video":
            self._need_keyframe = True
            if self._reading:
                self._want_keyframe()

    def push(self, packet: Packed, keyframe: bool) -> None:
        """A frame from the publisher (called on the event loop)."""
        if self._paused or self.readyState != "live":
            self.dropped += 1
            return
        if self._need_keyframe:
            if not keyframe:
                self.dropped += 1
                return
            self._need_keyframe = False
        if len(self._queue) >= self._limit and self.kind == "video":
            self.dropped += len(self._queue) + 1
            self._queue.clear()
            self._need_keyframe = True
            if self._reading:
                self._want_keyframe()
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1  # audio: the deque drops the oldest frame
        self._queue.append(packet)
        self._ready.set()
        if keyframe and self.kind == "video":
            self.keyframes += 1

    async def recv(self) -> Packed:  # type: ignore[override]  # taken by glue.run_packed
        if not self._reading:
            self._reading = True
            if self._need_keyframe:
                self._want_keyframe()
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        self.forwarded += 1
        packet = self._queue.popleft()
        if self._sent is not None:
            self._sent.frames += 1
            self._sent.bytes += packet.size
        return packet

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        self._ready.set()  # wake recv() so it sees the track ended
