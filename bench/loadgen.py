"""The load generator: one worker process holding many WebSocket clients.

The driver (``chat_fanout.py``) starts one or more workers, each with a share
of the classes.  A worker connects its clients (Zvonok: ``hello`` with a dev
token, until ``welcome``; baseline: ``join``, until ``joined``), reports
``ready``, and on ``go`` either sends on a fixed schedule (``rate``), keeps a
fixed number of sends in flight per sender (``peak``), or just holds the
connections open (``idle``).

A message's text starts with its send time (``repr(time.perf_counter())``),
so every receiver measures send-to-delivery latency without a lookup table,
then ``|`` and the index of the node the sender is connected to: with
several nodes (``WorkerSpec.urls``), each class's members are dealt to them
in turn, and a receiver on another node than the sender's counts the
delivery as one that crossed the bus.
``perf_counter`` is CLOCK_MONOTONIC on Linux, the same clock in every
process, so the driver's window and the workers' timestamps agree.

The clients are deliberately light: raw aiohttp WebSockets and msgpack, one
reader task per connection, and only ``chat.event``, ``ack``, ``error`` and
the handshake reply are looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import aiohttp
import msgpack
import uvloop
from aiohttp import WSMsgType
from roster_gen import ClassSpec

Target = Literal["zvonok", "baseline"]
Mode = Literal["rate", "peak", "idle"]

CONNECT_CONCURRENCY = 64  # handshakes in flight per worker (the listen backlog is 128)
HANDSHAKE_TIMEOUT = 60.0
CLOSE_TIMEOUT = 5.0
PROBE_TIMEOUT = 10.0
_PAD = "Домашнее задание на завтра: параграф 12, упражнения 3–5. "
_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker does; sent to the worker process when it starts."""

    index: int
    urls: tuple[str, ...]  # one per node; a class's members are dealt to them in turn
    target: Target
    mode: Mode
    classes: tuple[ClassSpec, ...]
    idp_dir: str | None = None  # Zvonok: the dev identity provider's key directory
    rate: float = 0.0  # rate mode: this worker's sends per second
    window: int = 1  # peak mode: sends in flight per sender
    warmup: float = 2.0
    duration: float = 10.0
    drain: float = 5.0
    text_len: int = 64
    probe: bool = True


@dataclass
class Client:
    ws: aiohttp.ClientWebSocketResponse
    chat: str
    class_size: int
    key: str
    node: str  # the index of the node it is connected to, as the text carries it
    next_id: int = 10  # ids 1..9 are left to the handshake


@dataclass
class Stats:
    window_start: float = float("inf")
    window_end: float = float("inf")
    sends_total: int = 0
    sends_window: int = 0
    expected_total: int = 0  # deliveries the sends so far should produce
    expected_window: int = 0
    deliveries_total: int = 0
    deliveries_window: int = 0  # received inside the window, whenever sent
    replies: int = 0  # acks plus errors
    acks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    # Send-to-delivery seconds of the window's sends: received on the sender's
    # node, and on another one (through the bus).
    latencies: array[float] = field(default_factory=lambda: array("d"))
    crossed: array[float] = field(default_factory=lambda: array("d"))
    max_lag: float = 0.0  # rate mode: how late the schedule ran at worst


def worker_main(spec: WorkerSpec, pipe: Connection) -> None:
    """Entry point of a worker process."""
    try:
        uvloop.run(Worker(spec, pipe).run())
    except Exception as exc:
        with contextlib.suppress(OSError):
            pipe.send(("failed", f"worker {spec.index}: {type(exc).__name__}: {exc}"))
        raise


class Worker:
    def __init__(self, spec: WorkerSpec, pipe: Connection) -> None:
        self.spec = spec
        self.pipe = pipe
        self.stats = Stats()
        self.clients: list[Client] = []
        self.readers: list[asyncio.Task[None]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.end = 0.0  # set when the load starts; until then, acks send nothing more
        self.pad = (_PAD * (spec.text_len // len(_PAD) + 1))[: spec.text_len]

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                tokens = self._tokens()
                began = time.perf_counter()
                await self._connect_all(session, tokens)
                info: dict[str, Any] = {
                    "connected": len(self.clients),
                    "connect_s": time.perf_counter() - began,
                }
                if self.spec.mode != "idle" and self.spec.probe:
                    info["probe_error"] = await self._probe()
                self.pipe.send(("ready", info))
                command = await self._receive()
                if command[0] == "go":
                    if self.spec.mode != "idle":
                        await self._load(float(command[1]))
                        self.pipe.send(("result", self._result()))
                    await self._receive()  # "stop"
            finally:
                await self._close_all()

    async def _receive(self) -> tuple[Any, ...]:
        """The driver's next command (blocking read in a thread)."""
        command: tuple[Any, ...] = await asyncio.to_thread(self.pipe.recv)
        return command

    # -- connecting -----------------------------------------------------------

    async def _connect_all(self, session: aiohttp.ClientSession, tokens: dict[int, str]) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        jobs = [
            self._connect(session, gate, spec, oid, tokens.get(oid), n % len(self.spec.urls))
            for spec in self.spec.classes
            for n, oid in enumerate(spec.members)
        ]
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            self.clients = list(await asyncio.gather(*jobs))
        for client in self.clients:
            self.readers.append(asyncio.create_task(self._read(client)))

    def _tokens(self) -> dict[int, str]:
        if self.spec.target != "zvonok":
            return {}
        from server.auth import DevIdentityProvider
        from server.clock import SystemClock
        from server.config import DEV_ISSUER

        assert self.spec.idp_dir is not None  # noqa: S101
        idp = DevIdentityProvider.load_or_create(
            Path(self.spec.idp_dir), issuer=DEV_ISSUER, client_id="ZVONOK", clock=SystemClock()
        )
        return {
            oid: idp.issue(oid, lifetime=3600) for spec in self.spec.classes for oid in spec.members
        }

    async def _connect(
        self,
        session: aiohttp.ClientSession,
        gate: asyncio.Semaphore,
        spec: ClassSpec,
        oid: int,
        token: str | None,
        node: int,
    ) -> Client:
        async with gate:
            ws = await session.ws_connect(self.spec.urls[node], autoping=True, compress=0)
            if token is not None:
                hello = {"v": 1, "token": token, "client": "bench"}
                await ws.send_bytes(msgpack.packb({"type": "hello", "id": 1, "body": hello}))
                expected = "welcome"
            else:
                await ws.send_bytes(msgpack.packb({"type": "join", "room": spec.chat}))
                expected = "joined"
            while True:
                msg = await ws.receive()
                if msg.type in _ENDED:
                    raise ConnectionError(f"closed during the handshake: {msg.extra}")
                if msg.type is not WSMsgType.BINARY:
                    continue
                frame = msgpack.unpackb(msg.data)
                if frame.get("type") == expected:
                    break
                if frame.get("type") == "error":
                    raise ConnectionError(f"handshake refused: {frame.get('body')}")
        key = f"w{self.spec.index}-{oid}"
        return Client(ws, spec.chat, len(spec.members), key, str(node))

    async def _close_all(self) -> None:
        for task in [*self.readers, *self.tasks]:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.gather(*(c.ws.close() for c in self.clients), return_exceptions=True)

    # -- reading --------------------------------------------------------------

    async def _read(self, client: Client) -> None:
        ws = client.ws
        stats = self.stats
        unpack = msgpack.unpackb
        clock = time.perf_counter
        while True:
            msg = await ws.receive()
            if msg.type is not WSMsgType.BINARY:
                if msg.type in _ENDED:
                    return
                continue
            now = clock()
            frame = unpack(msg.data)
            kind = frame.get("type")
            if kind == "chat.event":
                body = frame["body"]
                if body.get("kind") != "message":
                    continue
                text: str = body["data"]["text"]
                bar = text.index("|")
                sent = float(text[:bar])
                stats.deliveries_total += 1
                if stats.window_start <= now < stats.window_end:
                    stats.deliveries_window += 1
                if stats.window_start <= sent < stats.window_end:
                    if text[bar + 1] == client.node:
                        stats.latencies.append(now - sent)
                    else:
                        stats.crossed.append(now - sent)
            elif kind == "ack":
                stats.replies += 1
                stats.acks += 1
                if self.spec.mode == "peak" and now < self.end:
                    await self._send(client)
            elif kind == "error":
                stats.replies += 1
                body = frame.get("body") or {}
                stats.errors[str(body.get("code"))] += 1
                if self.spec.mode == "peak" and now < self.end:
                    delay = float(body.get("retry_after") or 0.01)
                    self._later(delay, client)

    def _later(self, delay: float, client: Client) -> None:
        async def resend() -> None:
            await asyncio.sleep(delay)
            if time.perf_counter() < self.end:
                await self._send(client)

        task = asyncio.create_task(resend())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- sending --------------------------------------------------------------

    async def _send(self, client: Client) -> None:
        n = client.next_id
        client.next_id += 1
        stats = self.stats
        now = time.perf_counter()
        text = f"{now!r}|{client.node}|{self.pad}"
        body = {"chat": client.chat, "text": text, "key": f"{client.key}-{n}"}
        await client.ws.send_bytes(msgpack.packb({"type": "send", "id": n, "body": body}))
        stats.sends_total += 1
        stats.expected_total += client.class_size
        if stats.window_start <= now < stats.window_end:
            stats.sends_window += 1
            stats.expected_window += client.class_size

    async def _probe(self) -> str | None:
        """Send one message and wait for its reply and deliveries; say what failed."""
        stats = self.stats
        await self._send(self.clients[0])
        deadline = time.perf_counter() + PROBE_TIMEOUT
        while time.perf_counter() < deadline:
            if stats.errors:
                return ", ".join(f"{code} ×{n}" for code, n in stats.errors.items())
            if stats.acks and stats.deliveries_total >= stats.expected_total:
                return None
            await asyncio.sleep(0.02)
        return (
            f"no reply or deliveries within {PROBE_TIMEOUT:.0f} s "
            f"(acks {stats.acks}, deliveries {stats.deliveries_total}/{stats.expected_total})"
        )

    async def _load(self, t0: float) -> None:
        spec = self.spec
        stats = self.stats
        stats.window_start = t0 + spec.warmup
        stats.window_end = self.end = stats.window_start + spec.duration
        await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        if spec.mode == "rate":
            await self._open_loop(t0)
        else:
            for client in self.clients:
                for _ in range(spec.window):
                    await self._send(client)
            await asyncio.sleep(max(0.0, self.end - time.perf_counter()))
        # Drain: wait (bounded) for every reply and delivery still in flight.
        deadline = self.end + spec.drain
        while time.perf_counter() < deadline:
            if (
                stats.deliveries_total >= stats.expected_total
                and stats.replies >= stats.sends_total
            ):
                break
            await asyncio.sleep(0.02)

    async def _open_loop(self, t0: float) -> None:
        """Send at a fixed rate, senders round-robin over classes, then members."""
        groups = [[c for c in self.clients if c.chat == s.chat] for s in self.spec.classes]
        order = []
        for k in range(len(self.clients)):
            group = groups[k % len(groups)]
            order.append(group[(k // len(groups)) % len(group)])
        interval = 1.0 / self.spec.rate
        i = 0
        while True:
            due = t0 + i * interval
            if due >= self.end:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.stats.max_lag = max(self.stats.max_lag, -delay)
            await self._send(order[i % len(order)])
            i += 1

    def _result(self) -> dict[str, Any]:
        s = self.stats
        return {
            "sends_total": s.sends_total,
            "sends_window": s.sends_window,
            "expected_window": s.expected_window,
            "deliveries_total": s.deliveries_total,
            "deliveries_window": s.deliveries_window,
            "acks": s.acks,
            "errors": dict(s.errors),
            "latencies": s.latencies.tobytes(),
            "crossed": s.crossed.tobytes(),
            "max_lag": s.max_lag,
        }
