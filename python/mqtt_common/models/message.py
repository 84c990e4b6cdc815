"""The application message and its MQTT 5.0 properties.

>>> from mqtt_common.models.message import Message
>>> m = Message(topic="sensors/temperature", payload=b"23.5", qos=1, message_id=12345)
>>> m.qos.name, m.payload
('AT_LEAST_ONCE', b'23.5')
>>> m.replace(qos=0, message_id=None).qos.name
'AT_MOST_ONCE'
"""

from mqtt_common._core import Message, PublishProperties

__all__ = ["Message", "PublishProperties"]
