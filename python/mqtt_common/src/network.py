"""The network layer as the broker core sees it: send packets, close connections.

>>> from mqtt_common.models import Message
>>> from mqtt_common.src.network import ConnectionState, NetworkInterface
>>> class Loopback(NetworkInterface):
...     def __init__(self) -> None:
...         self.sent: dict[str, list[object]] = {"c1": []}
...     def send(self, client_id, packet):
...         self.sent[client_id].append(packet)
...     def disconnect(self, client_id, reason_code=None):
...         del self.sent[client_id]
...     def connection_state(self, client_id):
...         connected = client_id in self.sent
...         return ConnectionState.CONNECTED if connected else ConnectionState.DISCONNECTED
...     def connected_clients(self):
...         return list(self.sent)
>>> network = Loopback()
>>> network.is_connected("c1"), network.is_connected("c2")
(True, False)
>>> network.deliver("c1", Message("a/b", b"hi"))
>>> network.sent["c1"]
[Publish(topic='a/b', payload=b'hi')]
"""

from __future__ import annotations

import abc
import enum

from mqtt_common import _core
from mqtt_common._rust_tables import require_rust_members
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.packets import Packet
from mqtt_common.src._synchronous import SynchronousInterface

__all__ = ["ConnectionState", "NetworkInterface"]


class ConnectionState(enum.IntEnum):
    """Where a client's connection stands."""

    #: The transport is up; CONNECT has not been answered yet.
    CONNECTING = 1
    #: CONNACK accepted the client.
    CONNECTED = 2
    #: A DISCONNECT is on its way, or the transport is closing.
    DISCONNECTING = 3
    #: No connection (or an unknown client).
    DISCONNECTED = 4


require_rust_members(ConnectionState, _core.CONNECTION_STATE_MEMBERS)


class NetworkInterface(_core.NetworkInterface, SynchronousInterface, abc.ABC, interface=True):
    """The network layer. Every method is synchronous and returns promptly.

    ``send`` queues a packet for the connection's own writer. The helpers
    ``is_connected(client_id)`` and ``deliver(client_id, message)`` come from the Rust base
    and are built on the abstract methods.
    """

    @abc.abstractmethod
    def send(self, client_id: str, packet: Packet) -> None:
        """Queue a packet for a client's connection."""

    @abc.abstractmethod
    def disconnect(self, client_id: str, reason_code: ReasonCode | None = None) -> None:
        """Close a client's connection, sending DISCONNECT with this reason first (5.0)."""

    @abc.abstractmethod
    def connection_state(self, client_id: str) -> ConnectionState:
        """Return where a client's connection stands (DISCONNECTED for an unknown client)."""

    @abc.abstractmethod
    def connected_clients(self) -> list[str]:
        """Return the identifiers of the clients currently connected."""
