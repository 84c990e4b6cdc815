"""The contract of ``NetworkInterface``."""

from __future__ import annotations

import abc

from mqtt_common.models import Message
from mqtt_common.models.packets import Packet, Pingresp, Publish
from mqtt_common.src.network import ConnectionState, NetworkInterface


class NetworkContract(abc.ABC):
    """Every behaviour a ``NetworkInterface`` promises.

    Subclass as ``Test*`` and implement the factory, which returns a network where the
    clients of ``connected_ids()`` are connected, and ``sent_to``, which shows what the
    network sent a client (a test double's queue, or a captured socket).
    """

    @abc.abstractmethod
    def make_network(self) -> NetworkInterface:
        """Return a network with the clients of ``connected_ids()`` connected."""

    @abc.abstractmethod
    def connected_ids(self) -> list[str]:
        """Return the clients the factory connects."""

    @abc.abstractmethod
    def sent_to(self, network: NetworkInterface, client_id: str) -> list[Packet]:
        """Return the packets ``network`` has sent to a client, in order."""

    def test_is_a_network_interface(self) -> None:
        """The implementation derives from the ABC."""
        assert isinstance(self.make_network(), NetworkInterface)

    def test_connection_states(self) -> None:
        """Connected clients are CONNECTED; unknown ones are DISCONNECTED."""
        network = self.make_network()
        for client_id in self.connected_ids():
            assert network.connection_state(client_id) == ConnectionState.CONNECTED
            assert network.is_connected(client_id) is True
        assert network.connection_state("no-such-client") == ConnectionState.DISCONNECTED
        assert network.is_connected("no-such-client") is False

    def test_connected_clients(self) -> None:
        """connected_clients lists exactly the connected clients."""
        network = self.make_network()
        assert sorted(network.connected_clients()) == sorted(self.connected_ids())

    def test_send_keeps_order(self) -> None:
        """Packets reach a client in the order they were sent."""
        network = self.make_network()
        client_id = self.connected_ids()[0]
        first, second = Publish("a", b"1"), Pingresp()
        network.send(client_id, first)
        network.send(client_id, second)
        assert self.sent_to(network, client_id)[-2:] == [first, second]

    def test_deliver_sends_a_publish(self) -> None:
        """deliver() sends the message as a PUBLISH through send()."""
        network = self.make_network()
        client_id = self.connected_ids()[0]
        message = Message("sensors/t", b"21.5", qos=1, message_id=7)
        network.deliver(client_id, message)
        [publish] = [p for p in self.sent_to(network, client_id) if isinstance(p, Publish)]
        assert publish.to_message() == message

    def test_disconnect(self) -> None:
        """A disconnected client is no longer connected."""
        network = self.make_network()
        client_id = self.connected_ids()[0]
        network.disconnect(client_id)
        assert network.connection_state(client_id) in (
            ConnectionState.DISCONNECTING,
            ConnectionState.DISCONNECTED,
        )
        assert client_id not in network.connected_clients()
