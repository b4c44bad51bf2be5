"""Janus (Debian's ``janus``) as a baseline SFU for bench/sfu.py: the process and its HTTP API.

:func:`running` starts ``janus`` on loopback with a configuration written
into a temporary directory: only the videoroom plugin and the plain HTTP
transport are loaded (each folder holds a link to that one library), no
event handlers, loggers, WebSockets, STUN or mDNS, the API on 127.0.0.1,
RTP on a private port range, and one room with a single publisher. The
process is stopped when the ``with`` block ends.

ICE cannot be held to 127.0.0.1: Janus gathers no candidates on a loopback
interface (``ice_enforce_list = "127.0.0.1"`` matches nothing, and libnice
then gathers on every interface, IPv6 too), and libnice pairs none of its
candidates with a client's 127.0.0.1 (the checks go unanswered). So Janus
gathers on this machine's first IPv4 address outside loopback
(:func:`host_address`), enforced, and bench/sfu.py gives the clients of this
target that same address. Linux delivers packets between two of its own
addresses over the loopback device: nothing leaves the machine, and the
kernel's path is the one the other targets' 127.0.0.1 takes.

:class:`VideoRoom` speaks the Janus API over HTTP: one session, one plugin
handle per peer connection, a long poll (``GET /janus/<session>``) that
hands each asynchronous reply to the request with the same transaction,
and a keepalive. It has the three calls bench/sfu.py makes of every
target: publish an offer, ask for a subscriber's offer, give its answer.

The Janus API is documented at https://janus.conf.meetecho.com/docs/rest.html
and the videoroom's requests at https://janus.conf.meetecho.com/docs/videoroom.html.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import shutil
import socket
import struct
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from procstats import free_port, wait_for_port

JANUS = "janus"
LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")  # Debian's multiarch folder
ROOM = 1234
PUBLISHER = 1  # the publisher's feed id in the room
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0  # seconds for one request and its asynchronous reply
KEEPALIVE = 20.0  # seconds between keepalives (the session times out after 60)
RTP_PORTS = 1000  # size of the RTP/ICE port range


class JanusError(RuntimeError):
    """Janus refused a request (core or plugin error), or did not answer in time."""


@dataclass(frozen=True)
class Janus:
    """A running janus: its API's base URL and its process id (for /proc)."""

    url: str
    pid: int


def version() -> str:
    """The installed janus's version string, e.g. ``1.1.2``; empty when there is none."""
    if shutil.which(JANUS) is None:
        return ""
    out = subprocess.run(  # noqa: S603 (a fixed argument list)
        [JANUS, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    for line in out.splitlines():
        if line.startswith("Janus version:") and "(" in line:
            return line[line.index("(") + 1 : line.rindex(")")]
    return ""


def host_address() -> str:
    """The IPv4 address of this machine's first interface that is up and not a loopback."""
    siocgifflags, siocgifaddr, iff_up, iff_loopback = 0x8913, 0x8915, 0x1, 0x8  # netdevice(7)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                flags = struct.unpack_from("H", fcntl.ioctl(sock, siocgifflags, request), 16)[0]
                if flags & iff_loopback or not flags & iff_up:
                    continue
                address = fcntl.ioctl(sock, siocgifaddr, request)[20:24]
            except OSError:  # no IPv4 address on it
                continue
            return socket.inet_ntoa(address)
    raise RuntimeError("no IPv4 address outside loopback for Janus's ICE candidate")


def _configuration(folder: Path, http_port: int, rtp_port: int) -> None:
    """Write janus.jcfg, the HTTP transport's and the videoroom's files, and the library folders."""
    for name, library in (
        ("plugins", "plugins/libjanus_videoroom.so"),
        ("transports", "transports/libjanus_http.so"),
        ("events", None),
        ("loggers", None),
    ):
        (folder / name).mkdir()
        if library is not None:
            (folder / library).symlink_to(LIBRARIES / library)
    address = host_address()
    (folder / "janus.jcfg").write_text(
        f"""general: {{
	configs_folder = "{folder}"
	plugins_folder = "{folder}/plugins"
	transports_folder = "{folder}/transports"
	events_folder = "{folder}/events"
	loggers_folder = "{folder}/loggers"
	interface = "{address}"
	debug_level = 3
	session_timeout = 60
}}
media: {{
	rtp_port_range = "{rtp_port}-{rtp_port + RTP_PORTS - 1}"
}}
nat: {{
	nice_debug = false
	ignore_mdns = true
	ice_enforce_list = "{address}"
}}
events: {{
	broadcast = false
}}
"""
    )
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{
	json = "plain"
	base_path = "/janus"
	http = true
	ip = "127.0.0.1"
	port = {http_port}
	https = false
}}
admin: {{
	admin_http = false
	admin_https = false
}}
"""
    )
    # One publisher, no bitrate cap and no periodic FIR: the publisher sends
    # a keyframe when a subscriber's PLI reaches it, as with the other targets.
    (folder / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
	events = false
}}
room-{ROOM}: {{
	description = "bench"
	publishers = 1
	bitrate = 0
	fir_freq = 0
	audiocodec = "opus"
	videocodec = "vp8"
	record = false
}}
"""
    )


def _rtp_base() -> int:
    """The first port of a range of RTP_PORTS UDP ports (libnice skips any taken in it)."""
    return min(free_port(), 65_535 - RTP_PORTS)


@contextlib.contextmanager
def running() -> Iterator[Janus]:
    """Start janus on loopback with a throwaway configuration; stop it on exit."""
    if shutil.which(JANUS) is None:
        raise RuntimeError("no janus: apt-get install --no-install-recommends janus")
    with tempfile.TemporaryDirectory(prefix="bench-janus-") as tmp:
        folder = Path(tmp)
        port = free_port()
        _configuration(folder, port, _rtp_base())
        log = (folder / "janus.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (a fixed argument list)
            [JANUS, "-F", str(folder), "-C", str(folder / "janus.jcfg"), "-o"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_for_port(port, START_TIMEOUT, alive=lambda: process.poll() is None)
            except RuntimeError as exc:
                log.flush()
                tail = (folder / "janus.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"janus did not start: {exc}\n{tail}") from exc
            yield Janus(f"http://127.0.0.1:{port}/janus", process.pid)
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


class VideoRoom:
    """A client of the videoroom plugin: one publisher and its subscribers, each a handle."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url
        self._session = ""  # the session's URL, once created
        self._transactions = (f"t{n}" for n in itertools.count())
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._publisher = 0  # the publisher's handle id, once attached
        self._handles: dict[int, int] = {}  # subscriber -> handle id
        self._up: dict[int, asyncio.Event] = {}  # handle id -> its PeerConnection is up
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, http: aiohttp.ClientSession, url: str) -> AsyncIterator[VideoRoom]:
        """A session with its long poll and keepalive running; destroyed on exit."""
        room = cls(http, url)
        created = await room._post(url, {"janus": "create"})
        room._session = f"{url}/{created['data']['id']}"
        room._tasks = [
            asyncio.create_task(room._poll()),
            asyncio.create_task(room._keepalive()),
        ]
        try:
            yield room
        finally:
            for task in room._tasks:
                task.cancel()
            await asyncio.gather(*room._tasks, return_exceptions=True)
            with contextlib.suppress(aiohttp.ClientError, JanusError, TimeoutError):
                await room._post(room._session, {"janus": "destroy"})

    # -- the three calls of bench/sfu.py -------------------------------------------

    async def publish(self, sdp: str, tracks: list[dict[str, Any]]) -> str:
        """Join the room as its publisher with ``sdp`` (an offer); return Janus's answer."""
        handle = self._publisher = await self._attach()
        await self._message(
            handle, {"request": "join", "ptype": "publisher", "room": ROOM, "id": PUBLISHER}
        )
        reply = await self._message(
            handle, {"request": "publish", "audio": True, "video": True}, offer=sdp
        )
        return _jsep(reply, "answer")

    async def subscribe(self, participant: int) -> str:
        """A new subscriber's handle on the publisher's feed; return Janus's offer."""
        # Janus refuses a subscriber ("No such feed") until the publisher's
        # PeerConnection is up (ICE and DTLS done: its "webrtcup" event).
        publisher = self._up_event(self._publisher)
        try:
            await asyncio.wait_for(publisher.wait(), REQUEST_TIMEOUT)
        except TimeoutError as exc:
            raise JanusError(f"the publisher's WebRTC not up in {REQUEST_TIMEOUT:g} s") from exc
        handle = self._handles[participant] = await self._attach()
        body = {"request": "join", "ptype": "subscriber", "room": ROOM, "feed": PUBLISHER}
        return _jsep(await self._message(handle, body), "offer")

    async def answer(self, participant: int, sdp: str) -> None:
        """The subscriber's answer: Janus starts sending."""
        await self._message(self._handles[participant], {"request": "start"}, answer=sdp)

    # -- the Janus API --------------------------------------------------------------

    def _up_event(self, handle: int) -> asyncio.Event:
        return self._up.setdefault(handle, asyncio.Event())

    async def _attach(self) -> int:
        attached = await self._post(
            self._session, {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        handle: int = attached["data"]["id"]
        return handle

    async def _message(
        self,
        handle: int,
        body: dict[str, Any],
        offer: str | None = None,
        answer: str | None = None,
    ) -> dict[str, Any]:
        """Send a plugin request; return its reply (an event: its data and jsep)."""
        request: dict[str, Any] = {"janus": "message", "body": body}
        if offer is not None or answer is not None:
            kind, sdp = ("offer", offer) if offer is not None else ("answer", answer)
            request["jsep"] = {"type": kind, "sdp": sdp}
        reply = await self._post(f"{self._session}/{handle}", request, asynchronous=True)
        data = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(f"videoroom {body['request']}: {data['error']} ({data['error_code']})")
        return reply

    async def _post(
        self, url: str, request: dict[str, Any], asynchronous: bool = False
    ) -> dict[str, Any]:
        """POST one request; for an ``asynchronous`` one (a plugin message) Janus
        acknowledges at once and the reply is the event with the same transaction."""
        transaction = next(self._transactions)
        waiter = asyncio.get_running_loop().create_future()
        self._pending[transaction] = waiter
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                async with self._http.post(
                    url, json={**request, "transaction": transaction}
                ) as response:
                    response.raise_for_status()
                    reply: dict[str, Any] = await response.json()
                if asynchronous and reply.get("janus") == "ack":
                    reply = await waiter
        except TimeoutError as exc:
            raise JanusError(f"no reply to {request['janus']} in {REQUEST_TIMEOUT:g} s") from exc
        finally:
            del self._pending[transaction]
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(f"{request['janus']}: {error.get('reason')} ({error.get('code')})")
        return reply

    async def _poll(self) -> None:
        """The long poll: each asynchronous reply goes to the request that waits for it."""
        while True:
            try:
                async with self._http.get(self._session, params={"maxev": "10"}) as response:
                    response.raise_for_status()
                    events = await response.json()
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)  # a dropped poll: ask again
                continue
            for event in events if isinstance(events, list) else [events]:
                if event.get("janus") == "webrtcup":
                    self._up_event(event["sender"]).set()
                    continue
                waiter = self._pending.get(event.get("transaction", ""))
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)
                # Anything else (media, slowlink, keepalive) is not needed here.

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE)
            with contextlib.suppress(aiohttp.ClientError, JanusError):
                await self._post(self._session, {"janus": "keepalive"})


def _jsep(reply: dict[str, Any], kind: str) -> str:
    jsep = reply.get("jsep")
    if not jsep or jsep.get("type") != kind:
        raise JanusError(f"expected an {kind} from Janus, got {reply}")
    sdp: str = jsep["sdp"]
    return sdp
