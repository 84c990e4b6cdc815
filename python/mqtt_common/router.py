r"""The router: MQTT's rules between clients, without I/O.

One ``Router`` holds what every connection of a broker shares: subscriptions and who
owns each, retained messages with their arrival time, the sessions of clients that are
away and the QoS 1 and 2 messages they are owed, their Wills and their expiry, and which
connection holds each client identifier. The broker tells it what happens, with the
wall-clock time (``now``, ``time.time()``) and its engines' clock (``clock``,
``loop.time()``), and carries out what it answers (a ``Routed``): the facts to store
before the acknowledgements that promise them are released, the Wills now due, the
connections given output. Deliveries to connections whose engine is attached
(``attach``) are handed to the engine in Rust. Authorization stays with the broker: it
asks who would receive a message (``receivers``) and passes those allowed
(``publish(..., receivers=...)``); it decides SUBSCRIBE requests (``refused``) and
checks the retained messages ``subscribe`` returns before it ``deliver``\s them.

A router made with ``node_id=`` is one node of a cluster (``mqtt_common.src.cluster``
carries its messages): a publication also answers ``forwards`` (for the other nodes
whose clients' filters match) and ``changes`` (what every node must see: this node's
filters, retained messages), which the broker sends with the facts; it routes what
other nodes send with ``receive_forward`` and ``apply_change``.

>>> import time
>>> from mqtt_common.models import Message, Subscription
>>> from mqtt_common.protocol import ServerConnection
>>> from mqtt_common.router import Router
>>> router, engine = Router(), ServerConnection(now=0.0)
>>> [request] = engine.receive_data(b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1", 0.0)
>>> connected = router.connect(1, request, "c1", request.credentials, time.time())
>>> engine.accept(connected.session)
[]
>>> routed = router.attach(1, engine, 0.0)
>>> router.subscribe(1, [Subscription("a/+", qos=1)], time.time()).reason_codes
[<ReasonCode.GRANTED_QOS_1: 1>]
>>> routed = router.publish(Message("a/b", b"hi"), time.time(), 0.0)
>>> routed.matched, routed.touched
(True, [1])
>>> engine.data_to_send()
b' \x02\x00\x000\x07\x00\x03a/bhi'
"""

from mqtt_common._core import Change, Connected, Fact, Forward, Outgoing, Routed, Router

__all__ = ["Change", "Connected", "Fact", "Forward", "Outgoing", "Routed", "Router"]
