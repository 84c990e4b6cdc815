"""One class per MQTT Control Packet, for 3.1, 3.1.1 and 5.0.

Packets are immutable and validated at construction, like ``Message``. Attribute names
follow the specification in snake_case: ``packet_id``, ``reason_code``, ``clean_start``,
``keep_alive``. CONNECT, CONNACK, DISCONNECT and AUTH take their MQTT 5.0 properties as
a dict keyed by the property's name in snake_case (``session_expiry_interval``, ...),
with ``user_properties`` as a list of pairs; PUBLISH takes ``PublishProperties``.

>>> from mqtt_common.models.packets import Publish, Puback
>>> publish = Publish("sensors/temperature", b"23.5", qos=1, packet_id=7)
>>> publish.to_message().topic
'sensors/temperature'
>>> Puback(7)
Puback(packet_id=7)
>>> Puback(7, reason_code=0x10)
Puback(packet_id=7, reason_code=ReasonCode.NO_MATCHING_SUBSCRIBERS)
"""

from typing import TypeAlias

from mqtt_common._core import (
    Auth,
    Connack,
    Connect,
    Disconnect,
    Pingreq,
    Pingresp,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    Suback,
    Subscribe,
    Unsuback,
    Unsubscribe,
)

__all__ = [
    "Auth",
    "Connack",
    "Connect",
    "Disconnect",
    "Packet",
    "Pingreq",
    "Pingresp",
    "Puback",
    "Pubcomp",
    "Publish",
    "Pubrec",
    "Pubrel",
    "Suback",
    "Subscribe",
    "Unsuback",
    "Unsubscribe",
]

#: Any packet.
Packet: TypeAlias = (
    Connect
    | Connack
    | Publish
    | Puback
    | Pubrec
    | Pubrel
    | Pubcomp
    | Subscribe
    | Suback
    | Unsubscribe
    | Unsuback
    | Pingreq
    | Pingresp
    | Disconnect
    | Auth
)
