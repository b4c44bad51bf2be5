"""The media server under test in bench/sfu.py, in its own process.

Two kinds behind the same small HTTP signaling, so the only difference
measured is how media crosses the server:

* ``sfu``: Zvonok's :class:`media.sfu.Sfu`, forwarding encoded frames;
* ``relay``: the textbook aiortc relay: the publisher's tracks are decoded
  once and each subscriber gets ``MediaRelay().subscribe(track)``, which
  aiortc's sender encodes again for every subscriber.

    python bench/sfu_server.py --kind sfu --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from typing import Any

import uvloop
from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from media import aiortc_glue
from media.sfu import Sfu
from server.config import MediaConfig
from server.rooms.media import TrackInfo, TrackSpec

ROOM = "bench"


class Events:
    def __init__(self) -> None:
        self.offers: dict[int, asyncio.Queue[str]] = {}
        self.tracks: list[TrackInfo] = []

    def queue(self, participant: int) -> asyncio.Queue[str]:
        return self.offers.setdefault(participant, asyncio.Queue())

    def subscriber_offer(self, room_id: str, participant: int, sdp: str) -> None:
        self.queue(participant).put_nowait(sdp)

    def track_added(self, room_id: str, track: TrackInfo) -> None:
        self.tracks.append(track)

    def track_removed(self, room_id: str, track: TrackInfo) -> None:
        pass

    def speakers(self, room_id: str, speaking: Sequence[int]) -> None:
        pass

    def media_failed(self, room_id: str, participant: int) -> None:
        pass


class SfuBackend:
    def __init__(self) -> None:
        self.sfu = Sfu(MediaConfig(ice_addresses=("127.0.0.1",)))
        self.events = Events()

    async def start(self) -> None:
        await self.sfu.open_room(ROOM, self.events)

    async def publish(self, sdp: str, tracks: list[dict[str, str]]) -> str:
        specs = [TrackSpec(mid=t["mid"], source=t["source"]) for t in tracks]  # type: ignore[arg-type]
        return await self.sfu.publish(ROOM, 1, sdp, specs)

    async def subscribe(self, participant: int) -> str:
        ids = [t.track_id for t in self.sfu.tracks(ROOM)]
        await self.sfu.subscribe(ROOM, participant, ids)
        return await self.events.queue(participant).get()

    async def answer(self, participant: int, sdp: str) -> None:
        await self.sfu.answer(ROOM, participant, sdp)

    async def close(self) -> None:
        await self.sfu.close()


class RelayBackend:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.published: list[MediaStreamTrack] = []
        self.pcs: dict[int, RTCPeerConnection] = {}
        aiortc_glue.use_host_addresses(["127.0.0.1"])

    async def start(self) -> None:
        return None

    async def publish(self, sdp: str, tracks: list[dict[str, str]]) -> str:
        pc = self.pcs[1] = RTCPeerConnection()
        pc.on("track", self.published.append)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def subscribe(self, participant: int) -> str:
        pc = self.pcs[participant] = RTCPeerConnection()
        for track in self.published:
            pc.addTransceiver(self.relay.subscribe(track), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    async def answer(self, participant: int, sdp: str) -> None:
        await self.pcs[participant].setRemoteDescription(
            RTCSessionDescription(sdp=sdp, type="answer")
        )

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs.values()))


def make_app(backend: SfuBackend | RelayBackend) -> web.Application:
    async def publish(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        return web.json_response({"sdp": await backend.publish(body["sdp"], body["tracks"])})

    async def subscribe(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        return web.json_response({"sdp": await backend.subscribe(int(body["participant"]))})

    async def answer(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        await backend.answer(int(body["participant"]), body["sdp"])
        return web.json_response({})

    async def on_startup(app: web.Application) -> None:
        await backend.start()

    async def on_cleanup(app: web.Application) -> None:
        await backend.close()

    app = web.Application()
    app.router.add_post("/publish", publish)
    app.router.add_post("/subscribe", subscribe)
    app.router.add_post("/answer", answer)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def serve(kind: str, port: int) -> None:
    backend = SfuBackend() if kind == "sfu" else RelayBackend()
    runner = web.AppRunner(make_app(backend))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()  # until the benchmark terminates the process
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=("sfu", "relay"), required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # On uvloop, as `zvonok serve` runs (server/cli.py), for both kinds.
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand
        uvloop.run(serve(args.kind, args.port))


if __name__ == "__main__":
    main()
