"""``SysTopics``: the ``$SYS`` figures the library computes for a broker."""

from __future__ import annotations

import pytest

from mqtt_common.models import Message
from mqtt_common.models.errors import StateError, ValidationError
from mqtt_common.protocol import Metrics, SysTopics
from mqtt_common.router import Router


def payloads(messages: list[Message]) -> dict[str, str]:
    return {m.topic: m.payload.decode() for m in messages}


def test_every_figure_first_then_what_changed() -> None:
    figures = SysTopics(10, "test-broker 1.0")
    metrics, router = Metrics(), Router()
    first = payloads(figures.changed(metrics, router, connected=1, max_connected=1, uptime=3.5))
    assert first["$SYS/broker/version"] == "test-broker 1.0"
    assert first["$SYS/broker/uptime"] == "3 seconds"
    assert first["$SYS/broker/clients/connected"] == "1"
    assert all(topic.startswith(figures.prefix) for topic in first)
    second = payloads(figures.changed(metrics, router, connected=2, max_connected=2, uptime=3.9))
    assert second == {
        "$SYS/broker/clients/connected": "2",
        "$SYS/broker/clients/total": "2",
        "$SYS/broker/clients/maximum": "2",
    }


def test_a_cluster_node_publishes_under_its_own_prefix() -> None:
    assert SysTopics(1, "b", node_id="node-1").prefix == "$SYS/broker/nodes/node-1/"


@pytest.mark.parametrize("interval", [0, -1, "10", float("inf")])
def test_an_interval_must_be_seconds_above_0(interval: object) -> None:
    with pytest.raises(ValidationError, match="interval"):
        SysTopics(interval, "b")  # type: ignore[arg-type]


@pytest.mark.parametrize("node_id", ["a+b", "a/b", "#", ""])
def test_a_node_id_no_cluster_node_can_have_is_refused(node_id: str) -> None:
    with pytest.raises(StateError, match="node"):
        SysTopics(1, "b", node_id=node_id)


def test_a_negative_uptime_is_refused() -> None:
    figures = SysTopics(1, "b")
    with pytest.raises(ValidationError, match="uptime"):
        figures.changed(Metrics(), Router(), connected=0, max_connected=0, uptime=-1)
