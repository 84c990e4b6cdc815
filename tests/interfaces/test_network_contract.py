"""The network contract kit against a loopback network and broken ones; the helpers."""

import pytest

from mqtt_common.models import Message, ReasonCode, ValidationError
from mqtt_common.models.packets import Disconnect, Packet, Publish
from mqtt_common.src.network import ConnectionState, NetworkInterface
from mqtt_common.testing import NetworkContract


class Loopback(NetworkInterface):
    """A network whose connections are in-memory queues."""

    def __init__(self, clients: list[str]) -> None:
        self.queues: dict[str, list[Packet]] = {c: [] for c in clients}
        self.states = dict.fromkeys(clients, ConnectionState.CONNECTED)

    def send(self, client_id: str, packet: Packet) -> None:
        self.queues[client_id].append(packet)

    def disconnect(self, client_id: str, reason_code: ReasonCode | None = None) -> None:
        if reason_code is not None:
            self.queues[client_id].append(Disconnect(reason_code))
        self.states[client_id] = ConnectionState.DISCONNECTED

    def connection_state(self, client_id: str) -> ConnectionState:
        return self.states.get(client_id, ConnectionState.DISCONNECTED)

    def connected_clients(self) -> list[str]:
        return [c for c, s in self.states.items() if s == ConnectionState.CONNECTED]


class TestLoopback(NetworkContract):
    def make_network(self) -> NetworkInterface:
        return Loopback(self.connected_ids())

    def connected_ids(self) -> list[str]:
        return ["c1", "c2"]

    def sent_to(self, network: NetworkInterface, client_id: str) -> list[Packet]:
        assert isinstance(network, Loopback)
        return network.queues[client_id]


class ForgetsDisconnects(Loopback):
    """Broken: still lists a client after disconnecting it."""

    def disconnect(self, client_id: str, reason_code: ReasonCode | None = None) -> None:
        pass


class LifoNetwork(Loopback):
    """Broken: delivers the newest packet first."""

    def send(self, client_id: str, packet: Packet) -> None:
        self.queues[client_id].insert(0, packet)


@pytest.mark.parametrize(
    ("broken", "failing_test"),
    [(ForgetsDisconnects, "test_disconnect"), (LifoNetwork, "test_send_keeps_order")],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_kit_fails_broken_networks(broken: type[Loopback], failing_test: str) -> None:
    class Kit(TestLoopback):
        def make_network(self) -> NetworkInterface:
            return broken(self.connected_ids())

    with pytest.raises(AssertionError):
        getattr(Kit(), failing_test)()


def test_incomplete_network_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        type("Incomplete", (NetworkInterface,), {})()


def test_helpers_check_what_the_methods_return() -> None:
    class WrongState(Loopback):
        def connection_state(self, client_id: str) -> ConnectionState:
            return "connected"  # type: ignore[return-value]

    with pytest.raises(TypeError, match="connection_state\\(\\) must return ConnectionState"):
        WrongState(["c"]).is_connected("c")
    network = Loopback(["c"])
    with pytest.raises(ValidationError):
        network.deliver("c", "not a message")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="message_id"):
        network.deliver("c", Message("a", qos=1))
    network.deliver("c", Message("a", b"x"))
    assert isinstance(network.queues["c"][0], Publish)
