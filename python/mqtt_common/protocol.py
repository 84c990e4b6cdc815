r"""The server protocol engine: one client connection's MQTT rules, without I/O.

A broker creates a ``ServerConnection`` per client connection, hands it what the socket
read with the time on its own clock, and acts on the events it returns. It answers with
calls, writes ``data_to_send()`` to the socket, and calls ``handle_timeout(now)`` at
``next_deadline()``. The engine owns every per-connection rule of MQTT 3.1, 3.1.1 and 5.0
(CONNECT and CONNACK, Keep Alive, the QoS flows through the ``Session``, Receive Maximum,
Topic Alias and Maximum Packet Size both ways, message expiry, the DISCONNECT and Will
rules, and the DISCONNECT that answers a protocol error); routing between connections is
the broker's.

The events: ``ConnectRequest`` (answer with ``accept`` or ``refuse``), ``AuthStep``, a
``Message`` the client published, ``SubscribeRequest`` and ``UnsubscribeRequest``
(answer with ``answer_subscribe`` / ``answer_unsubscribe``), ``Delivered`` (a delivery's
QoS flow ended), ``Discarded`` (a tagged delivery ended unsent) and ``Closed``.

With ``ServerConfig(hold_acknowledgements=True)`` the PUBACK or PUBREC of a received
QoS 1 or 2 PUBLISH waits until the broker calls ``release_acknowledgements(mark)`` with
a mark taken (``acknowledgement_mark()``) once what the PUBLISH caused is stored.

>>> from mqtt_common.protocol import ConnectRequest, ServerConnection
>>> from mqtt_common.src.session import Session
>>> connection = ServerConnection(now=0.0)
>>> [request] = connection.receive_data(b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1", 0.0)
>>> request
ConnectRequest(client_id='c1', protocol_version=ProtocolVersion.V3_1_1)
>>> connection.accept(Session("c1", request.protocol_version))
[]
>>> connection.data_to_send()
b' \x02\x00\x00'
>>> connection.next_deadline()
90.0
"""

from typing import TypeAlias

from mqtt_common._core import (
    AuthStep,
    Closed,
    ConnectRequest,
    Delivered,
    Discarded,
    Metrics,
    MetricsSnapshot,
    ServerConfig,
    ServerConnection,
    SubscribeRequest,
    SysTopics,
    UnsubscribeRequest,
)
from mqtt_common.models.message import Message

#: Everything ``receive_data``, ``handle_timeout`` and ``accept`` may return.
Event: TypeAlias = (
    ConnectRequest
    | AuthStep
    | Message
    | SubscribeRequest
    | UnsubscribeRequest
    | Delivered
    | Discarded
    | Closed
)

__all__ = [
    "AuthStep",
    "Closed",
    "ConnectRequest",
    "Delivered",
    "Discarded",
    "Event",
    "Metrics",
    "MetricsSnapshot",
    "ServerConfig",
    "ServerConnection",
    "SubscribeRequest",
    "SysTopics",
    "UnsubscribeRequest",
]
