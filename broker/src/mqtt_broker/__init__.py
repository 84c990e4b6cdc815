"""The reference MQTT broker of mqtt-common: asyncio glue around its engine and router.

Run it with ``mqtt-broker --host H --port P [options]`` (``--help`` lists them), or embed
it: build a ``Broker`` with your own auth provider and stores, and ``listen``.

>>> import asyncio
>>> from mqtt_broker import Broker, BrokerConfig, listen
>>> async def serve_briefly() -> str:
...     listener = await listen(Broker(BrokerConfig()), "127.0.0.1", 0)
...     await listener.close()
...     return "served"
>>> asyncio.run(serve_briefly())
'served'
"""

from mqtt_broker.broker import Broker, BrokerConfig
from mqtt_broker.server import Listener, TlsOptions, listen

__all__ = ["Broker", "BrokerConfig", "Listener", "TlsOptions", "listen"]
__version__ = "0.1.0"
