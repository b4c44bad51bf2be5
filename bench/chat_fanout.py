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
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import aiohttp
from loadgen import Mode, Target, WorkerSpec, worker_main
from procstats import cpu_seconds, rss_kib
from roster_gen import CLASS_SIZE, ClassSpec, make_roster
from servers import POSTGRES_SETTINGS, REPO, Server, running

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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    print(_machine())
    if args.idle:
        return _idle(args)
    mode: Mode = "peak" if args.peak else "rate"
    outcomes: dict[str, Outcome] = {}
    stores = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    for target in _targets(args):
        for store in stores if target == "zvonok" else ("",):
            name = f"zvonok ({store})" if target == "zvonok" and len(stores) > 1 else target
            print(f"… {name}: {mode} run, {args.classes} classes × {CLASS_SIZE}", flush=True)
            outcomes[name] = _guard(functools.partial(_chat_run, target, mode, args, store))
    if "postgresql" in stores:
        settings = ", ".join(f"{k}={v}" for k, v in POSTGRES_SETTINGS.items())
        print(f"PostgreSQL {_postgres_version()}, defaults but: {settings}")
    _print_chat(outcomes, mode)
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

    sys.path.insert(0, str(REPO))
    from tests.pgserver import find_bindir

    out = subprocess.run(  # noqa: S603
        [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"\d+\.\d+", out.stdout)
    return found[0] if found else out.stdout.strip()


def _chat_run(target: Target, mode: Mode, args: argparse.Namespace, store: str) -> Outcome:
    classes = make_roster(args.classes)[1]
    with running(target, args.classes, args.synchronous, store=store or "sqlite") as server:
        shares = _split(classes, args.procs or 1)
        specs = [
            WorkerSpec(
                index=i,
                url=server.url,
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
            return _measure_chat(server, workers, args)
        finally:
            workers.stop()


def _measure_chat(server: Server, workers: Workers, args: argparse.Namespace) -> Outcome:
    open_loop = not args.peak
    ready = workers.expect("ready", READY_TIMEOUT)
    problems = [r["probe_error"] for r in ready if r.get("probe_error")]
    if problems:
        return Outcome({}, f"send does not work: {problems[0]}")
    t0 = time.perf_counter() + START_DELAY
    workers.send("go", t0)
    start = t0 + args.warmup
    time.sleep(max(0.0, start - time.perf_counter()))
    server_cpu, client_cpu = cpu_seconds(server.pid), workers.cpu_seconds()
    database_cpu = server.database_cpu()
    time.sleep(max(0.0, start + args.duration - time.perf_counter()))
    server_cpu = cpu_seconds(server.pid) - server_cpu
    database_cpu = server.database_cpu() - database_cpu
    client_cpu = workers.cpu_seconds() - client_cpu
    rss = rss_kib(server.pid)
    results = workers.expect("result", args.drain + 60)
    latencies = array("d")
    for r in results:
        latencies.frombytes(r["latencies"])
    ordered = sorted(latencies)
    sends = sum(r["sends_window"] for r in results)
    deliveries = sum(r["deliveries_window"] for r in results)
    errors = sum(sum(r["errors"].values()) for r in results)
    figures: dict[str, float | None] = {
        "connections": sum(r["connected"] for r in ready),
        "sends/s": sends / args.duration,
        "deliveries/s": deliveries / args.duration,
        "p50 ms": _percentile(ordered, 50),
        "p95 ms": _percentile(ordered, 95),
        "p99 ms": _percentile(ordered, 99),
        "max ms": ordered[-1] * 1000 if ordered else None,
        "lost deliveries": sum(r["expected_window"] for r in results) - len(ordered),
        "errors": errors,
        "server CPU s": server_cpu,
        "server CPU % of a core": 100 * server_cpu / args.duration,
        "server CPU µs/delivery": 1e6 * server_cpu / deliveries if deliveries else None,
        "server RSS MiB": rss / 1024,
        "PostgreSQL CPU s": database_cpu if server.database_pid else None,
        "client CPU s": client_cpu,
        "schedule lag max ms": max(r["max_lag"] for r in results) * 1000 if open_loop else None,
    }
    codes = {code for r in results for code in r["errors"]}
    if codes:
        print(f"   error codes: {', '.join(sorted(codes))}", file=sys.stderr)
    return Outcome(figures)


def _percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1] * 1000


def _print_chat(outcomes: dict[str, Outcome], mode: Mode) -> None:
    print()
    if any(o.figures for o in outcomes.values()):
        print(_table(outcomes))
    for target, outcome in outcomes.items():
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


def _table(outcomes: dict[str, Outcome]) -> str:
    names = list(outcomes)
    keys: list[str] = []
    for outcome in outcomes.values():
        keys += [k for k in outcome.figures if k not in keys]
    compared = names[1:] if names[:1] == ["baseline"] else []
    header = ["", *names] + [f"{n}/baseline" for n in compared]
    rows = [header]
    for key in keys:
        values = [outcomes[n].figures.get(key) for n in names]
        row = [key, *(_fmt(v) for v in values)]
        for value in values[1 : 1 + len(compared)]:
            ratio = _ratio(value, values[0])
            row.append("" if ratio is None else f"{ratio:.2f}×")
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
        warmup = Workers([WorkerSpec(0, server.url, target, "idle", (classes[0],), server.idp_dir)])
        try:
            warmup.expect("ready", READY_TIMEOUT)
        finally:
            warmup.stop()
        time.sleep(SETTLE)
        rss_0 = rss_kib(server.pid)
        specs = [
            WorkerSpec(i, server.url, target, "idle", share, idp_dir=server.idp_dir)
            for i, share in enumerate(_split(classes, args.procs or 2))
        ]
        workers = Workers(specs)
        try:
            ready = workers.expect("ready", READY_TIMEOUT)
            time.sleep(SETTLE)
            rss_n = rss_kib(server.pid)
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
