r"""The wire codec: a sans-I/O streaming ``Decoder``, ``encode`` and ``decode``.

The decoder never reads a socket: feed it the bytes that arrived and it returns the
packets they complete, keeping the rest. It learns the protocol version from CONNECT
(or is told it), refuses packets the sender may not send, and raises
``MalformedPacketError``, ``ProtocolError`` or ``ConnectError`` for bad input, after
which it stays failed: close the connection.

>>> from mqtt_common.utils.codec import Decoder, decode, encode
>>> from mqtt_common.models.packets import Pingreq
>>> decoder = Decoder()
>>> decoder.feed(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01c\xc0")
[Connect(client_id='c')]
>>> decoder.feed(b"\x00")
[Pingreq()]
>>> encode(Pingreq(), 4)
b'\xc0\x00'
"""

from mqtt_common._core import Decoder, decode, encode

__all__ = ["Decoder", "decode", "encode"]
