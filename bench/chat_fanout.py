"""Chat fan-out benchmark: Zvonok against a bare baseline, in the same run.

C classes of 30 connected members over loopback; a total send rate S (each
send is delivered to the 30 members of the sender's class).  Every target
(the bare aiohttp + msgpack broadcast of ``baseline_server.py`` first, then
Zvonok) runs in its own server process with the same load, and the table
shows Zvonok's figures as a ratio to the baseline's: the network and codec
cost alone.  See docs/performance.md.

    .venv/bin/python bench/chat_fanout.py --classes 4 --rate 67 --duration 10
    .venv/bin/python bench/chat_fanout.py --peak
    .venv/bin/python bench/chat_fanout.py --idle 1000,5000

Several nodes (issue 18): with ``--nodes 2`` Zvonok runs twice after the
baseline, on one node and then on two ``zvonok serve`` processes sharing one
PostgreSQL and one Redis (the bus), each class's members dealt to the nodes
in turn, so that half of every send's deliveries cross Redis.  Latency is
also shown apart for the deliveries on the sender's node and on the other;
CPU is summed over the nodes, with PostgreSQL's and Redis's beside it, and
the table has a column of two nodes against one.

    .venv/bin/python bench/chat_fanout.py --nodes 2 --store postgresql --classes 4 --rate 67
    .venv/bin/python bench/chat_fanout.py --nodes 2 --store postgresql --peak
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import multiprocessing
import os
import platform
import re
import sys
import time
import urllib.request
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import aiohttp
from loadgen import Mode, Target, WorkerSpec, worker_main
from procstats import cpu_seconds
from roster_gen import CLASS_SIZE, ClassSpec, make_roster
from servers import POSTGRES_SETTINGS, Server, running

TARGETS: tuple[Target, ...] = ("baseline", "zvonok")
READY_TIMEOUT = 180.0  # token signing and 5,000 handshakes on a busy 2-core machine
START_DELAY = 0.3  # between "go" and the first send, so every worker starts together
SETTLE = 1.0  # idle mode: wait before reading the RSS
P99_TARGET_MS = 50.0
TARGET_RATE = 2000  # deliveries/s at which the p99 target is stated
PEAK_TARGET = 0.5
IDLE_TARGET_KIB = 50.0


@dataclass
class Outcome:
    """One target's figures (``None`` where not measured), or why it failed."""

    figures: dict[str, float | None]
    failure: str | None = None
    notes: list[str] = field(default_factory=list)  # printed under the table


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    print(_machine())
    if args.idle:
        return _idle(args)
    mode: Mode = "peak" if args.peak else "rate"
    outcomes: dict[str, Outcome] = {}
    stores = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    counts = (1, args.nodes) if args.nodes > 1 else (1,)
    pairs: list[tuple[str, str, str]] = []  # ratio columns: label, figure of, against
    for target in _targets(args):
        for store in stores if target == "zvonok" else ("",):
            for nodes in counts if target == "zvonok" else (1,):
                name: str = target
                if target == "zvonok" and len(stores) > 1:
                    name += f" ({store})"
                if target == "zvonok" and len(counts) > 1:
                    name += f", {nodes} node" + ("s" if nodes > 1 else "")
                    if nodes > 1:
                        pairs.append((f"{nodes} nodes/1 node", name, f"{target}, 1 node"))
                spread = f", members dealt to {nodes} nodes" if nodes > 1 else ""
                print(f"… {name}: {mode} run, {args.classes} classes × {CLASS_SIZE}{spread}")
                sys.stdout.flush()
                run = functools.partial(_chat_run, target, mode, args, store, nodes)
                outcomes[name] = _guard(run)
    if "postgresql" in stores:
        settings = ", ".join(f"{k}={v}" for k, v in POSTGRES_SETTINGS.items())
        print(f"PostgreSQL {_postgres_version()}, defaults but: {settings}")
    if args.nodes > 1:
        print(
            f"Redis {_redis_version()}: the tests' settings (no persistence), tests/redisserver.py"
        )
    if "baseline" in outcomes:
        pairs[:0] = [(f"{n}/baseline", n, "baseline") for n in outcomes if n != "baseline"]
    _print_chat(outcomes, mode, pairs)
    return 0 if all(o.failure is None for o in outcomes.values()) else 1


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=4, help="classes of 30 (default 4)")
    parser.add_argument(
        "--rate",
        type=float,
        default=round(TARGET_RATE / CLASS_SIZE),
        help="total sends/s (default 67: about 2,000 deliveries/s)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--drain", type=float, default=5.0, help="max wait for stragglers")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--peak", action="store_true", help="closed loop: every member keeps --window in flight"
    )
    modes.add_argument(
        "--idle", type=_counts, help="RSS per idle connection at these counts, e.g. 1000,5000"
    )
    parser.add_argument("--window", type=int, default=1, help="peak: sends in flight per member")
    parser.add_argument("--procs", type=int, default=0, help="client processes (default 1; idle 2)")
    parser.add_argument("--text-len", type=int, default=64, help="characters of padding per text")
    parser.add_argument("--only", choices=TARGETS, help="run one target only")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="Zvonok's store (default sqlite; both: Zvonok once on each)",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="Zvonok on one node and on this many sharing PostgreSQL and Redis (default 1)",
    )
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL"),
        default="FULL",
        help="Zvonok's SQLite durability (default FULL, the server's default)",
    )
    args = parser.parse_args(argv)
    if args.classes < 1 or args.rate <= 0 or args.duration <= 0 or args.window < 1:
        parser.error("--classes, --rate, --duration and --window must be positive")
    if args.duration > 300 or args.rate > 100_000:
        parser.error("keep runs bounded: --duration <= 300, --rate <= 100000")
    if not 1 <= args.nodes <= 4:
        parser.error("--nodes between 1 and 4")
    if args.nodes > 1 and (args.store != "postgresql" or args.idle):
        parser.error("--nodes needs --store postgresql (the nodes share one database), not --idle")
    return args


def _counts(text: str) -> list[int]:
    counts = [int(n) for n in text.split(",") if n.strip()]
    if not counts or min(counts) < 1 or max(counts) > 9000:
        raise argparse.ArgumentTypeError("connection counts between 1 and 9000")
    return counts


def _targets(args: argparse.Namespace) -> tuple[Target, ...]:
    return (args.only,) if args.only else TARGETS


def _machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, load average {load}; Python "
        f"{platform.python_version()}, aiohttp {aiohttp.__version__}; "
        "client and server share the machine (127.0.0.1)"
    )


def _guard(run: Callable[[], Outcome]) -> Outcome:
    try:
        outcome = run()
    except Exception as exc:
        print(f"   failed: {exc}", file=sys.stderr)
        return Outcome({}, f"{type(exc).__name__}: {exc}")
    return outcome


# -- workers ----------------------------------------------------------------------


class Workers:
    """The load generator's processes and their pipes."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for spec in specs:
            parent, child = context.Pipe()
            process = context.Process(target=worker_main, args=(spec, child), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def expect(self, kind: str, timeout: float) -> list[Any]:
        """Every worker's next message, which must be ``kind``."""
        deadline = time.monotonic() + timeout
        payloads = []
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            while not pipe.poll(0.5):
                if not process.is_alive():
                    raise RuntimeError(f"a load worker exited (code {process.exitcode})")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"a load worker sent no {kind!r} within {timeout:.0f} s")
            message = pipe.recv()
            if message[0] != kind:
                raise RuntimeError(str(message[1]) if message[0] == "failed" else str(message))
            payloads.append(message[1])
        return payloads

    def send(self, *command: Any) -> None:
        for pipe in self.pipes:
            pipe.send(command)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes if p.pid is not None)

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.terminate()
                process.join(5)


def _split(classes: list[ClassSpec], procs: int) -> list[tuple[ClassSpec, ...]]:
    shares = [tuple(classes[i::procs]) for i in range(min(procs, len(classes)))]
    return [share for share in shares if share]


# -- the fan-out runs ---------------------------------------------------------------


def _postgres_version() -> str:
    import subprocess

    from tests.pgserver import find_bindir

    out = subprocess.run(  # noqa: S603
        [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"\d+\.\d+", out.stdout)
    return found[0] if found else out.stdout.strip()


def _redis_version() -> str:
    import subprocess

    out = subprocess.run(
        ["redis-server", "--version"],  # noqa: S607 (Debian's, as tests/redisserver.py runs it)
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"v=(\S+)", out.stdout)
    return found[1] if found else out.stdout.strip()


def _chat_run(
    target: Target, mode: Mode, args: argparse.Namespace, store: str, nodes: int
) -> Outcome:
    classes = make_roster(args.classes)[1]
    store = store or "sqlite"
    with running(target, args.classes, args.synchronous, store=store, nodes=nodes) as server:
        shares = _split(classes, args.procs or 1)
        specs = [
            WorkerSpec(
                index=i,
                urls=server.urls,
                target=target,
                mode=mode,
                classes=share,
                idp_dir=server.idp_dir,
                rate=args.rate * len(share) / len(classes),
                window=args.window,
                warmup=args.warmup,
                duration=args.duration,
                drain=args.drain,
                text_len=args.text_len,
            )
            for i, share in enumerate(shares)
        ]
        workers = Workers(specs)
        try:
            return _measure_chat(server, workers, args, target)
        finally:
            workers.stop()


def _measure_chat(
    server: Server, workers: Workers, args: argparse.Namespace, target: Target
) -> Outcome:
    open_loop = not args.peak
    ready = workers.expect("ready", READY_TIMEOUT)
    problems = [r["probe_error"] for r in ready if r.get("probe_error")]
    if problems:
        return Outcome({}, f"send does not work: {problems[0]}")
    t0 = time.perf_counter() + START_DELAY
    workers.send("go", t0)
    start = t0 + args.warmup
    time.sleep(max(0.0, start - time.perf_counter()))
    reading = _Reading.take(server, workers, target)
    time.sleep(max(0.0, start + args.duration - time.perf_counter()))
    used = _Reading.take(server, workers, target) - reading
    rss = server.rss_kib()
    results = workers.expect("result", args.drain + 60)
    same, crossed = array("d"), array("d")
    for r in results:
        same.frombytes(r["latencies"])
        crossed.frombytes(r["crossed"])
    ordered = sorted([*same, *crossed])
    sends = sum(r["sends_window"] for r in results)
    deliveries = sum(r["deliveries_window"] for r in results)
    errors = sum(sum(r["errors"].values()) for r in results)
    per_delivery = 1e6 / deliveries if deliveries else None
    figures: dict[str, float | None] = {"nodes": len(server.urls)} if args.nodes > 1 else {}
    figures |= {
        "connections": sum(r["connected"] for r in ready),
        "sends/s": sends / args.duration,
        "deliveries/s": deliveries / args.duration,
        "p50 ms": _percentile(ordered, 50),
        "p95 ms": _percentile(ordered, 95),
        "p99 ms": _percentile(ordered, 99),
        "max ms": ordered[-1] * 1000 if ordered else None,
    }
    if len(server.urls) > 1:
        same_sorted, crossed_sorted = sorted(same), sorted(crossed)
        figures |= {
            "p50 ms, sender's node": _percentile(same_sorted, 50),
            "p99 ms, sender's node": _percentile(same_sorted, 99),
            "p50 ms, other node": _percentile(crossed_sorted, 50),
            "p99 ms, other node": _percentile(crossed_sorted, 99),
        }
    figures |= {
        "lost deliveries": sum(r["expected_window"] for r in results) - len(ordered),
        "errors": errors,
        "server CPU s": used.server,
        "server CPU % of a core": 100 * used.server / args.duration,
        "server CPU µs/delivery": used.server * per_delivery if per_delivery else None,
        "server RSS MiB": rss / 1024,
    }
    if server.database_pid:
        figures["PostgreSQL CPU s"] = used.database
    if server.redis_pid:
        figures["Redis CPU s"] = used.redis
    if server.database_pid or server.redis_pid:
        total = used.server + used.database + used.redis
        figures["all servers' CPU µs/delivery"] = total * per_delivery if per_delivery else None
    if target == "zvonok":
        figures["store commits/s"] = used.batches / args.duration
        figures["posts per commit"] = used.posts / used.batches if used.batches else None
    notes = []
    if server.redis_port and sends:
        figures["Redis calls/s"] = sum(used.redis_commands.values()) / args.duration
        figures["Redis bytes in per send"] = used.redis_bytes[0] / sends
        figures["Redis bytes out per send"] = used.redis_bytes[1] / sends
        calls = sorted(used.redis_commands.items(), key=lambda c: -c[1])
        shown = ", ".join(f"{name} {n / sends:.2f}" for name, n in calls if n)
        inner = "a script's own calls too"
        notes.append(f"Redis calls per send ({inner}): {shown}; {used.channels:.0f} channels")
    figures |= {
        "client CPU s": used.client,
        "schedule lag max ms": max(r["max_lag"] for r in results) * 1000 if open_loop else None,
    }
    codes = {code for r in results for code in r["errors"]}
    if codes:
        print(f"   error codes: {', '.join(sorted(codes))}", file=sys.stderr)
    return Outcome(figures, notes=notes)


@dataclass(frozen=True)
class _Reading:
    """Counters read at the start of the window and at its end."""

    server: float  # CPU seconds, every node
    database: float
    redis: float
    client: float
    batches: float  # the store's commits of posts, every node (/metrics)
    posts: float
    redis_commands: dict[str, float]  # calls by command, Redis's INFO less ours
    redis_bytes: tuple[float, float]  # in, out
    channels: float  # Redis channels with a subscriber (at the end)

    @classmethod
    def take(cls, server: Server, workers: Workers, target: Target) -> _Reading:
        batches, posts = _store_batches(server) if target == "zvonok" else (0.0, 0.0)
        redis = server.redis_stats()
        commands = {k[4:]: v for k, v in redis.items() if k.startswith("cmd:") and k != "cmd:info"}
        return cls(
            server=server.cpu_seconds(),
            database=server.database_cpu(),
            redis=server.redis_cpu(),
            client=workers.cpu_seconds(),
            batches=batches,
            posts=posts,
            redis_commands=commands,
            redis_bytes=(redis.get("bytes in", 0.0), redis.get("bytes out", 0.0)),
            channels=redis.get("channels", 0.0),
        )

    def __sub__(self, before: _Reading) -> _Reading:
        return _Reading(
            server=self.server - before.server,
            database=self.database - before.database,
            redis=self.redis - before.redis,
            client=self.client - before.client,
            batches=self.batches - before.batches,
            posts=self.posts - before.posts,
            redis_commands={
                k: v - before.redis_commands.get(k, 0.0) for k, v in self.redis_commands.items()
            },
            redis_bytes=(
                self.redis_bytes[0] - before.redis_bytes[0],
                self.redis_bytes[1] - before.redis_bytes[1],
            ),
            channels=self.channels,
        )


def _store_batches(server: Server) -> tuple[float, float]:
    """Batches of posts committed so far and the posts in them, summed over the
    nodes' /metrics (``zvonok_store_batch_size``; loopback may read it)."""
    batches = posts = 0.0
    for url in server.urls:
        metrics = url.removesuffix("/ws") + "/metrics"
        with urllib.request.urlopen(metrics, timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
            text = response.read().decode()
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "zvonok_store_batch_size_count":
                batches += float(value)
            elif name == "zvonok_store_batch_size_sum":
                posts += float(value)
    return batches, posts


def _percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] * 1000


def _print_chat(
    outcomes: dict[str, Outcome], mode: Mode, pairs: list[tuple[str, str, str]]
) -> None:
    print()
    if any(o.figures for o in outcomes.values()):
        print(_table(outcomes, pairs))
    for target, outcome in outcomes.items():
        for note in outcome.notes:
            print(f"{target}: {note}")
        if outcome.failure:
            print(f"{target}: not measured: {outcome.failure}")
    baseline = outcomes.get("baseline")
    for name, zvonok in outcomes.items():
        if name.startswith("zvonok") and not zvonok.failure:
            _verdict(name, zvonok, baseline, mode)


def _verdict(name: str, zvonok: Outcome, baseline: Outcome | None, mode: Mode) -> None:
    z = zvonok.figures
    if mode == "rate":
        p99, rate = z["p99 ms"], z["deliveries/s"] or 0.0
        verdict = "met" if p99 is not None and p99 < P99_TARGET_MS else "MISSED"
        if abs(rate - TARGET_RATE) > 0.1 * TARGET_RATE:
            verdict = f"not judged: the target is stated at {TARGET_RATE:,} deliveries/s"
        print(f"{name}: target p99 < {P99_TARGET_MS:.0f} ms at {rate:,.0f} deliveries/s: {verdict}")
    elif baseline is not None and not baseline.failure:
        ratio = _ratio(z["deliveries/s"], baseline.figures["deliveries/s"])
        verdict = "met" if ratio is not None and ratio >= PEAK_TARGET else "MISSED"
        print(f"{name}: target peak deliveries/s >= {PEAK_TARGET:.0%} of the baseline's: {verdict}")


def _table(outcomes: dict[str, Outcome], pairs: list[tuple[str, str, str]] | None = None) -> str:
    """The figures, a column per target, and a ratio column per pair (label, of,
    against); by default each target against the baseline when it comes first."""
    names = list(outcomes)
    if pairs is None:
        first = names[:1] == ["baseline"]
        pairs = [(f"{n}/baseline", n, "baseline") for n in names[1:]] if first else []
    keys: list[str] = []
    for outcome in outcomes.values():  # each target's rows in its order, merged
        at = -1
        for key in outcome.figures:
            if key in keys:
                at = keys.index(key)
            else:
                at += 1
                keys.insert(at, key)
    header = ["", *names, *(label for label, _, _ in pairs)]
    rows = [header]
    for key in keys:
        values = {n: outcomes[n].figures.get(key) for n in names}
        row = [key, *(_fmt(v) for v in values.values())]
        for _, of, against in pairs:
            ratio = _ratio(values.get(of), values.get(against))
            row.append("" if ratio is None or key == "nodes" else f"{ratio:.2f}×")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- idle connections ---------------------------------------------------------------


def _idle(args: argparse.Namespace) -> int:
    outcomes: dict[str, dict[int, Outcome]] = {}
    for target in _targets(args):
        outcomes[target] = {}
        for n in args.idle:
            print(f"… {target}: {n:,} idle connections", flush=True)
            outcomes[target][n] = _guard(functools.partial(_idle_run, target, n, args))
    print()
    for n in args.idle:
        print(f"{n:,} idle connections")
        if any(o[n].figures for o in outcomes.values()):
            print(_table({t: o[n] for t, o in outcomes.items()}))
        z = outcomes.get("zvonok", {}).get(n)
        if z is not None and not z.failure:
            per = z.figures["KiB per connection"]
            verdict = "met" if per is not None and per < IDLE_TARGET_KIB else "MISSED"
            print(f"target < {IDLE_TARGET_KIB:.0f} KiB per idle connection: {verdict}")
        for name, o in outcomes.items():
            if o[n].failure:
                print(f"{name}: not measured: {o[n].failure}")
        print()
    failed = any(o.failure for per in outcomes.values() for o in per.values())
    return 1 if failed else 0


def _idle_run(target: Target, n: int, args: argparse.Namespace) -> Outcome:
    classes = make_roster(math.ceil(n / CLASS_SIZE))[1]
    surplus = len(classes) * CLASS_SIZE - n
    if surplus:
        last = classes[-1]
        classes[-1] = ClassSpec(last.class_id, last.chat, last.members[: CLASS_SIZE - surplus])
    with running(target, len(classes), args.synchronous) as server:
        # One class connects and leaves first, so one-off costs (lazy imports,
        # caches, the first handshake) are in RSS_0, not spread over N.
        warmup = Workers(
            [WorkerSpec(0, server.urls, target, "idle", (classes[0],), server.idp_dir)]
        )
        try:
            warmup.expect("ready", READY_TIMEOUT)
        finally:
            warmup.stop()
        time.sleep(SETTLE)
        rss_0 = server.rss_kib()
        specs = [
            WorkerSpec(i, server.urls, target, "idle", share, idp_dir=server.idp_dir)
            for i, share in enumerate(_split(classes, args.procs or 2))
        ]
        workers = Workers(specs)
        try:
            ready = workers.expect("ready", READY_TIMEOUT)
            time.sleep(SETTLE)
            rss_n = server.rss_kib()
        finally:
            workers.stop()
    connected = sum(r["connected"] for r in ready)
    return Outcome(
        {
            "connections": connected,
            "RSS with 0 MiB": rss_0 / 1024,
            "RSS with N MiB": rss_n / 1024,
            "KiB per connection": (rss_n - rss_0) / connected,
            "connect + handshake s": max(r["connect_s"] for r in ready),
        }
    )


if __name__ == "__main__":
    sys.exit(main())
