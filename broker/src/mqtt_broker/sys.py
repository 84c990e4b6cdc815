"""``$SYS`` topics: the broker's figures, with mosquitto's names and meanings.

Every ``--sys-interval`` seconds the figures that changed are published as retained
messages under ``$SYS/broker/`` (under ``$SYS/broker/nodes/<node-id>/`` for a node of a
cluster, whose nodes see each other's). The library computes them
(``mqtt_common.protocol.SysTopics``, as the tokio broker does) from its counters: the
engines' (``Metrics``) and the router's. The router keeps them in memory only: a restart
publishes them afresh. Clients may not publish to ``$SYS`` (the engine refuses it).
"""

from __future__ import annotations

import asyncio
import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from mqtt_common.protocol import SysTopics as Figures

if TYPE_CHECKING:
    from .broker import Broker


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
        self.started = time.monotonic()
        self.figures = Figures(interval, broker_version(), node_id=node_id)

    async def run(self) -> None:
        """Publish now, then every ``interval`` seconds, for ever."""
        while True:
            self.publish()
            await asyncio.sleep(self.interval)

    def publish(self) -> None:
        """Publish the figures that changed since the last time, retained."""
        broker = self.broker
        changed = self.figures.changed(
            broker.metrics,
            broker.router,
            connected=len(broker.connections),
            max_connected=broker.max_connected,
            uptime=time.monotonic() - self.started,
        )
        now, clock = time.time(), broker.now()
        for message in changed:
            broker.act(broker.router.publish(message, now, clock))
