"""``$SYS`` topics: the broker's figures, with mosquitto's names and meanings.

Every ``--sys-interval`` seconds the figures that changed are published as retained
messages under ``$SYS/broker/`` (under ``$SYS/broker/nodes/<node-id>/`` for a node of a
cluster, whose nodes see each other's). They come from the library's counters: the
engines' (``Metrics``: bytes, packets and messages in and out, drops) and the router's
(sessions, subscriptions, retained and queued messages). They are not stored: a restart
publishes them afresh. Clients may not publish to ``$SYS`` (the engine refuses it).
"""

from __future__ import annotations

import asyncio
import math
import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from mqtt_common.models import Message

if TYPE_CHECKING:
    from .broker import Broker

#: The periods of the load averages, in minutes, as mosquitto's topics name them.
PERIODS = (1, 5, 15)


def broker_version() -> str:
    """Return what ``$SYS/broker/version`` says: this distribution's name and version."""
    try:
        return f"mqtt-common-broker {version('mqtt-common-broker')}"
    except PackageNotFoundError:  # run from a clone without installing it
        return "mqtt-common-broker (from source)"


class SysTopics:
    """Publishes the ``$SYS`` figures of a broker every ``interval`` seconds."""

    def __init__(self, broker: Broker, interval: float, node_id: str | None = None) -> None:
        self.broker = broker
        self.interval = interval
        self.prefix = "$SYS/broker/" if node_id is None else f"$SYS/broker/nodes/{node_id}/"
        self.started = time.monotonic()
        self._published: dict[str, str] = {}
        # Load averages, per minute: the last totals, and the averages by period.
        self._totals: dict[str, int] = {}
        self._load: dict[str, list[float]] = {}
        self._version = broker_version()

    async def run(self) -> None:
        """Publish now, then every ``interval`` seconds, for ever."""
        while True:
            self.publish()
            await asyncio.sleep(self.interval)

    def figures(self) -> dict[str, str]:
        """Return every figure now, by topic (after the prefix)."""
        broker = self.broker
        counted = broker.metrics.snapshot()
        stats = broker.router.stats()
        connected = len(broker.connections)
        received, sent = sum(counted.messages_received), sum(counted.messages_sent)
        dropped = (
            counted.dropped_too_large
            + counted.dropped_expired
            + counted.dropped_queue_full
            + stats["dropped"]
        )
        figures = {
            "version": self._version,
            "uptime": f"{int(time.monotonic() - self.started)} seconds",
            "clients/connected": str(connected),
            "clients/disconnected": str(max(stats["sessions"] - connected, 0)),
            "clients/total": str(max(stats["sessions"], connected)),
            "clients/maximum": str(broker.max_connected),
            "messages/received": str(counted.packets_received),
            "messages/sent": str(counted.packets_sent),
            "publish/messages/received": str(received),
            "publish/messages/sent": str(sent),
            "publish/messages/dropped": str(dropped),
            "bytes/received": str(counted.bytes_received),
            "bytes/sent": str(counted.bytes_sent),
            "subscriptions/count": str(stats["subscriptions"]),
            "retained messages/count": str(stats["retained"]),
            "store/messages/count": str(stats["queued"]),
        }
        totals = {
            "messages/received": counted.packets_received,
            "messages/sent": counted.packets_sent,
            "publish/received": received,
            "publish/sent": sent,
            "publish/dropped": dropped,
            "bytes/received": counted.bytes_received,
            "bytes/sent": counted.bytes_sent,
            "connections": counted.connections_accepted,
        }
        for name, load in self._loads(totals).items():
            for minutes, value in zip(PERIODS, load, strict=True):
                figures[f"load/{name}/{minutes}min"] = f"{value:.2f}"
        return figures

    def _loads(self, totals: dict[str, int]) -> dict[str, list[float]]:
        """Add what happened since the last call to the load averages.

        Per minute, exponentially weighted over each period, as mosquitto weighs them.
        """
        for name, total in totals.items():
            last = self._totals.get(name)
            self._totals[name] = total
            load = self._load.setdefault(name, [0.0] * len(PERIODS))
            if last is None:
                continue
            per_minute = (total - last) * 60.0 / self.interval
            for i, minutes in enumerate(PERIODS):
                kept = math.exp(-self.interval / (60.0 * minutes))
                load[i] = load[i] * kept + per_minute * (1.0 - kept)
        return self._load

    def publish(self) -> None:
        """Publish the figures that changed since the last time, retained."""
        broker = self.broker
        now, clock = time.time(), broker.now()
        for topic, value in self.figures().items():
            if self._published.get(topic) == value:
                continue
            self._published[topic] = value
            message = Message(self.prefix + topic, value.encode(), retain=True)
            broker.act_unstored(broker.router.publish(message, now, clock))
