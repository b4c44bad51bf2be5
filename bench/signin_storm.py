"""A sign-in storm: 1,000 first sign-ins with GOST tokens while classes chat.

    .venv/bin/python bench/signin_storm.py [--signins 1000] [--chatting 4] [--modes before,after]

For each mode a fresh ``python -m server serve`` on 127.0.0.1 (its dev
identity provider signing with GOST3410_2012_256, as ESIA does) gets a
generated school.  First the members of ``--chatting`` classes (30 each)
sign in and stay; in each of those classes the teacher sends a message every
``--interval`` seconds throughout.  Then ``--signins`` people of the other
classes sign in for the first time, each with a fresh token: WebSocket
opened, ``hello`` sent, ``welcome`` awaited, at most ``--concurrency`` at a
time.  Then (``--again``) the same tokens sign in once more, as after a page
reload.  Reported per mode: time to ``welcome`` (p50, p99, max) for the storm
and the reload, and the send-to-delivery latency of the chat messages sent
during the storm (p50, p99, max) against a quiet period before it.

Modes:

- ``before``: every check on the event loop, nothing remembered
  (``ZVONOK_ESIA_VERIFY_WORKERS=0``, ``ZVONOK_ESIA_VERIFIED_CACHE=0``);
- ``after``: the default, checks in one worker process, verified tokens remembered.

Also reported: the CPU seconds the server process (its event loop and
threads) and its verification workers spent during the storm, which the
other engineers' load on the shared cores disturbs less than the times do.
``--rounds N`` runs the modes N times, alternating.

Bounded: every wait has a timeout, the run stops by itself; everything is on
loopback.  The client side (all connections, the senders) is this one
uvloop process, on the same two cores as the server and its worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import uvloop
from aiohttp import WSMsgType
from procstats import cpu_seconds
from roster_gen import CLASS_SIZE, make_roster
from servers import running

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOST = "GOST3410_2012_256"
HANDSHAKE_TIMEOUT = 60.0
QUIET = 2.0  # seconds of chat measured before the storm
_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)

MODES: dict[str, dict[str, str]] = {
    "before": {"ZVONOK_ESIA_VERIFY_WORKERS": "0", "ZVONOK_ESIA_VERIFIED_CACHE": "0"},
    "after": {"ZVONOK_ESIA_VERIFY_WORKERS": "1", "ZVONOK_ESIA_VERIFIED_CACHE": "10000"},
}


@dataclass
class Latencies:
    """Chat deliveries: (send time, latency), sorted into phases afterwards."""

    samples: list[tuple[float, float]] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[float]:
        return sorted(lat for sent, lat in self.samples if start <= sent < end)


async def sign_in(
    session: aiohttp.ClientSession, url: str, token: str
) -> tuple[aiohttp.ClientWebSocketResponse, float]:
    """Open a socket, say hello, return it at ``welcome`` with the seconds it took."""
    start = time.perf_counter()
    ws = await session.ws_connect(url, autoping=True, compress=0)
    hello = {"v": 1, "token": token, "client": "storm"}
    await ws.send_bytes(msgpack.packb({"type": "hello", "id": 1, "body": hello}))
    while True:
        msg = await ws.receive()
        if msg.type in _ENDED:
            raise ConnectionError(f"closed during the handshake: {msg.extra}")
        if msg.type is not WSMsgType.BINARY:
            continue
        frame = msgpack.unpackb(msg.data)
        if frame.get("type") == "welcome":
            return ws, time.perf_counter() - start
        if frame.get("type") == "error":
            await ws.close()
            raise ConnectionError(f"hello refused: {frame.get('body')}")


async def read_chat(ws: aiohttp.ClientWebSocketResponse, latencies: Latencies) -> None:
    while True:
        msg = await ws.receive()
        if msg.type in _ENDED:
            return
        if msg.type is not WSMsgType.BINARY:
            continue
        now = time.perf_counter()
        frame = msgpack.unpackb(msg.data)
        if frame.get("type") == "chat.event" and frame["body"].get("kind") == "message":
            text: str = frame["body"]["data"]["text"]
            sent = float(text[: text.index("|")])
            latencies.samples.append((sent, now - sent))


async def send_every(
    ws: aiohttp.ClientWebSocketResponse, chat: str, interval: float, until: asyncio.Event
) -> int:
    n = 10
    next_at = time.perf_counter()
    while not until.is_set():
        now = time.perf_counter()
        body = {"chat": chat, "text": f"{now!r}|Домашнее задание", "key": f"{chat}-{n}"}
        await ws.send_bytes(msgpack.packb({"type": "send", "id": n, "body": body}))
        n += 1
        next_at += interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), max(0.0, next_at - time.perf_counter()))
    return n - 10


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max": ordered[-1] * 1000,
    }


async def storm(
    session: aiohttp.ClientSession, url: str, tokens: list[str], concurrency: int
) -> tuple[list[aiohttp.ClientWebSocketResponse], list[float], int, float]:
    """Sign every token in, ``concurrency`` at a time: sockets, times, failures, seconds."""
    gate = asyncio.Semaphore(concurrency)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    times: list[float] = []
    failures = 0

    async def one(token: str) -> None:
        nonlocal failures
        async with gate:
            try:
                async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                    ws, took = await sign_in(session, url, token)
            except (ConnectionError, TimeoutError, aiohttp.ClientError):
                failures += 1
                return
        sockets.append(ws)
        times.append(took)

    start = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tokens))
    elapsed = time.perf_counter() - start
    return sockets, times, failures, elapsed


async def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    classes = args.chatting + -(-args.signins // CLASS_SIZE)
    env = {
        "ZVONOK_DEV_IDP_ALGORITHM": GOST,
        "ZVONOK_ESIA_ALGORITHMS": GOST,
        "ZVONOK_HTTP_MAX_PENDING": str(max(1000, args.signins + 100)),
        **MODES[mode],
    }
    with running("zvonok", classes, extra_env=env) as server:
        from server.auth import DevIdentityProvider
        from server.clock import SystemClock
        from server.config import DEV_ISSUER

        assert server.idp_dir is not None  # noqa: S101
        idp = DevIdentityProvider.load_or_create(
            Path(server.idp_dir),
            issuer=DEV_ISSUER,
            client_id="ZVONOK",
            clock=SystemClock(),
            algorithm=GOST,
        )
        _, specs = make_roster(classes)
        chatting, rest = specs[: args.chatting], specs[args.chatting :]
        newcomers = [oid for spec in rest for oid in spec.members][: args.signins]
        member_tokens = {oid: idp.issue(oid) for spec in chatting for oid in spec.members}
        storm_tokens = [idp.issue(oid) for oid in newcomers]

        latencies = Latencies()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        members: dict[int, aiohttp.ClientWebSocketResponse] = {}
        for oid, token in member_tokens.items():
            members[oid], _ = await sign_in(session, server.url, token)
        readers = [asyncio.ensure_future(read_chat(ws, latencies)) for ws in members.values()]
        stop = asyncio.Event()
        senders = [
            asyncio.ensure_future(
                send_every(members[spec.members[0]], spec.chat, args.interval, stop)
            )
            for spec in chatting
        ]
        try:
            quiet_start = time.perf_counter()
            await asyncio.sleep(QUIET)
            cpu_before = _cpu(server.pid)
            storm_start = time.perf_counter()
            first, first_times, first_failures, first_elapsed = await storm(
                session, server.url, storm_tokens, args.concurrency
            )
            storm_end = time.perf_counter()
            cpu_after = _cpu(server.pid)
            for ws in first:
                await ws.close()
            again_times: list[float] = []
            again_failures = 0
            again_elapsed = 0.0
            if args.again:
                again, again_times, again_failures, again_elapsed = await storm(
                    session, server.url, storm_tokens, args.concurrency
                )
                for ws in again:
                    await ws.close()
            await asyncio.sleep(args.interval * 3)  # the last sends' deliveries
        finally:
            stop.set()
            sent = sum(await asyncio.gather(*senders))
            for ws in members.values():
                await ws.close()
            await asyncio.gather(*readers, return_exceptions=True)
            await session.close()
    return {
        "mode": mode,
        "signins": len(storm_tokens),
        "storm_seconds": first_elapsed,
        "storm_failures": first_failures,
        "welcome": percentiles(first_times),
        "again_seconds": again_elapsed,
        "again_failures": again_failures,
        "welcome_again": percentiles(again_times),
        "chat_quiet": percentiles(latencies.between(quiet_start, storm_start)),
        "chat_storm": percentiles(latencies.between(storm_start, storm_end)),
        "chat_sent": sent,
        "members": len(members),
        "server_cpu": cpu_after[0] - cpu_before[0],
        "worker_cpu": cpu_after[1] - cpu_before[1],
    }


def _cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the server process, and of its children (the verification workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    workers = 0.0
    for child in children:
        with contextlib.suppress(OSError):
            workers += cpu_seconds(child)
    return cpu_seconds(pid), workers


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(results: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'mode':8} {'sign-ins':>8} {'storm s':>8} {'fail':>5} "
        f"{'welcome p50/p99/max ms':>24} {'reload p50/p99/max ms':>23} "
        f"{'chat quiet p50/p99 ms':>22} {'chat in storm p50/p99/max ms':>29} "
        f"{'CPU s server/workers':>21}"
    )
    for r in results:
        w, a, q, c = r["welcome"], r["welcome_again"], r["chat_quiet"], r["chat_storm"]
        print(
            f"{r['mode']:8} {r['signins']:8d} {r['storm_seconds']:8.2f} "
            f"{r['storm_failures'] + r['again_failures']:5d} "
            f"{fmt(w['p50']) + '/' + fmt(w['p99']) + '/' + fmt(w['max']):>24} "
            f"{fmt(a['p50']) + '/' + fmt(a['p99']) + '/' + fmt(a['max']):>23} "
            f"{fmt(q['p50']) + '/' + fmt(q['p99']):>22} "
            f"{fmt(c['p50']) + '/' + fmt(c['p99']) + '/' + fmt(c['max']):>29} "
            f"{r['server_cpu']:>10.2f}/{r['worker_cpu']:<10.2f}"
        )
    for r in results:
        print(
            f"{r['mode']}: {r['members']} members chatting, {r['chat_sent']} messages sent, "
            f"{r['chat_storm']['n']} deliveries during the storm; "
            f"reload of the same tokens took {r['again_seconds']:.2f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signins", type=int, default=1000)
    parser.add_argument("--chatting", type=int, default=4, help="classes already chatting")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between sends")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--modes", default="before,after")
    parser.add_argument("--again", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rounds", type=int, default=1, help="each mode this often, alternating")
    args = parser.parse_args(argv)
    results = []
    for round_ in range(args.rounds):
        for mode in args.modes.split(","):
            print(f"round {round_ + 1}: running {mode}...", flush=True)
            results.append(uvloop.run(run_mode(mode, args)))
    report(results)
    failures = sum(r["storm_failures"] + r["again_failures"] for r in results)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
