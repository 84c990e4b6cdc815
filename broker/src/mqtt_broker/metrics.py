"""``--metrics-port``: the broker's figures as Prometheus metrics, at ``/metrics``.

The figures are the library's counters (the engines' ``Metrics``, the router's
``stats()``) and the broker's commit latency; ``prometheus_client`` writes them in
Prometheus' text format, and h11 (python-hyper's sans-I/O HTTP/1.1) reads the requests,
on the broker's own event loop: nothing is read from another thread.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import h11
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from .http import whole_answer

if TYPE_CHECKING:
    from .broker import Broker

log = logging.getLogger("broker")

#: The commit-latency histogram's upper bounds, in seconds.
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: What Prometheus' text format is served as.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class CommitTimes:
    """How long the broker's commits to its stores took.

    A histogram, as Prometheus counts one: cumulative buckets, a count and a sum.
    """

    def __init__(self) -> None:
        self.counts = [0] * (len(COMMIT_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        """Count one commit that took ``seconds``."""
        self.counts[bisect.bisect_left(COMMIT_BUCKETS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        """Return the cumulative buckets, ``+Inf`` last."""
        cumulative, running = [], 0
        for bound, count in zip([*map(str, COMMIT_BUCKETS), "+Inf"], self.counts, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        return cumulative


class BrokerCollector(Collector):
    """The broker's figures as Prometheus metric families."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family, read now."""
        broker = self.broker
        counted = broker.metrics.snapshot()
        stats = broker.router.stats()
        yield gauge("mqtt_connections", "Clients connected now", len(broker.connections))
        yield counter(
            "mqtt_connections_accepted", "CONNECTs accepted", counted.connections_accepted
        )
        yield counter("mqtt_connections_refused", "CONNECTs refused", counted.connections_refused)
        yield counter(
            "mqtt_auth_refused",
            "CONNECTs refused for a bad user name or password, or as not authorized",
            counted.auth_refused,
        )
        yield gauge("mqtt_sessions", "Sessions, connected or away", stats["sessions"])
        yield gauge("mqtt_subscriptions", "Subscriptions", stats["subscriptions"])
        yield gauge("mqtt_retained_messages", "Retained messages", stats["retained"])
        yield gauge("mqtt_queued_messages", "Messages queued for sessions away", stats["queued"])
        for direction, by_qos in (
            ("received", counted.messages_received),
            ("sent", counted.messages_sent),
        ):
            family = CounterMetricFamily(
                f"mqtt_messages_{direction}",
                f"PUBLISH packets {direction}, by QoS",
                labels=["qos"],
            )
            for qos, value in enumerate(by_qos):
                family.add_metric([str(qos)], value)
            yield family
        yield counter("mqtt_bytes_received", "Bytes read from clients", counted.bytes_received)
        yield counter("mqtt_bytes_sent", "Bytes written to clients", counted.bytes_sent)
        yield counter(
            "mqtt_packets_received", "MQTT packets read from clients", counted.packets_received
        )
        yield counter("mqtt_packets_sent", "MQTT packets written to clients", counted.packets_sent)
        dropped = CounterMetricFamily(
            "mqtt_dropped_messages", "Messages dropped, by cause", labels=["cause"]
        )
        dropped.add_metric(["too_large"], counted.dropped_too_large)
        dropped.add_metric(["expired"], counted.dropped_expired)
        dropped.add_metric(["queue_full"], counted.dropped_queue_full)
        dropped.add_metric(["offline_queue_full"], stats["dropped"])
        dropped.add_metric(["retained_quota"], stats["retained_refused"])
        yield dropped
        commits = broker.commit_times
        yield HistogramMetricFamily(
            "mqtt_storage_commit_seconds",
            "How long each commit to the stores took",
            buckets=commits.buckets(),
            sum_value=commits.total,
        )


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    """Return a gauge without labels."""
    return GaugeMetricFamily(name, documentation, value=value)


def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    """Return a counter without labels (Prometheus adds ``_total``)."""
    return CounterMetricFamily(name, documentation, value=value)


class MetricsServer:
    """Serves ``GET /metrics`` over HTTP/1.1 on the broker's event loop."""

    def __init__(self, broker: Broker) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BrokerCollector(broker))
        self.server: asyncio.Server | None = None
        #: Where it listens ("host:port"), once started.
        self.where = ""

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: any free port)."""
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        address, bound = self.server.sockets[0].getsockname()[:2]
        self.where = f"{address}:{bound}"

    def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        http = h11.Connection(h11.SERVER)
        try:
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    http.receive_data(data)
                    if not data:
                        break
                    continue
                if isinstance(event, h11.Request):
                    writer.write(self._answer(http, event))
                    await writer.drain()
                break
        except h11.RemoteProtocolError as err:
            log.info("a bad request to the metrics port: %s", err)
        finally:
            writer.close()

    def _answer(self, http: h11.Connection, request: h11.Request) -> bytes:
        path = request.target.split(b"?", 1)[0]
        if request.method != b"GET" or path != b"/metrics":
            status, body, kind = 404, b"only GET /metrics is served here\n", "text/plain"
        else:
            status, body, kind = 200, generate_latest(self.registry), CONTENT_TYPE
        return whole_answer(http, status, body, kind)
