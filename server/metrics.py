"""What an operator watches: the node's figures at ``/metrics``, for Prometheus.

One :class:`Metrics` per application, on a registry of its own (never the
process-wide default: tests run many servers in one process, and a node's
figures are its own). Counters and histograms are bumped where things
happen (a committed event, a frame queued for a client, a slow consumer
closed); levels (connections, rooms, participants, SFU tracks, the bus's
state) are read when Prometheus scrapes, from the parts that know them,
through :meth:`Metrics.level`. No label ever carries a person, a chat or a
message: the figures are counts, never content.

``/metrics`` answers peers on loopback, or whoever presents
``[http] metrics_token`` as a bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Levels(Collector):
    """Gauges read at scrape time."""

    def __init__(self) -> None:
        self.readers: dict[str, tuple[str, Callable[[], float]]] = {}
        self.totals: dict[str, tuple[str, Callable[[], float]]] = {}

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        for name, (documentation, read) in self.readers.items():
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], float(read()))
            yield gauge
        for name, (documentation, read) in self.totals.items():
            counter = CounterMetricFamily(name, documentation)
            counter.add_metric([], float(read()))
            yield counter


class Metrics:
    """The node's counters, histograms and levels."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter(
            "zvonok_chat_events", "chat events committed, by kind", ["kind"], registry=r
        )
        self.deliveries = Counter(
            "zvonok_deliveries", "frames queued for clients' connections", registry=r
        )
        self.dropped = Counter(
            "zvonok_outbound_dropped",
            "ephemeral frames (typing, presence) dropped for clients that fell behind",
            registry=r,
        )
        self.slow_consumers = Counter(
            "zvonok_slow_consumer_closes",
            "connections closed because their client stopped reading",
            registry=r,
        )
        self.latency = Histogram(
            "zvonok_send_to_delivery_seconds",
            "from an event's commit to its frame queued for a member's connection",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "zvonok_store_batch_size",
            "chat posts committed together in one transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.commit = Histogram(
            "zvonok_store_commit_seconds",
            "one batch of chat posts, from its start to its commit",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.bus_lag = Histogram(
            "zvonok_bus_lag_seconds",
            "from an event's publication on another node to its arrival here (wall clocks)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._levels = _Levels()
        r.register(self._levels)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.commit.observe(seconds)

    def level(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value ``read`` gives at each scrape."""
        self._levels.readers[name] = (documentation, read)

    def total(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A counter kept by another part (it only grows), read at each scrape."""
        self._levels.totals[name] = (documentation, read)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def may_scrape(request: web.Request, token: str) -> bool:
    """Loopback peers, or the bearer of ``token`` (when one is set)."""
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    peer = request.remote
    try:
        return peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def response(metrics: Metrics) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
