"""A cluster of brokers on Redis: one broker process's part, as native awaitables.

``RedisNode.join`` makes a node of the cluster whose keys are under a prefix; the
``Joined`` it resolves to holds the node and the three feeds it reads for ever: its
``Inbox`` (QoS 1 and 2 messages other nodes forward to its clients, and session
hand-overs, on a Redis stream acknowledged once what they queued is stored), the
``ChangeLog`` (every node's filters and retained messages, in one order) and its
``LiveFeed`` (QoS 0 messages, over pub/sub). The rules are the clustered router's
(``mqtt_common.router.Router(node_id=...)``): it says what to forward and what every
node must see; this module carries it. Every call runs on the extension's shared
runtime, with no thread per call. The reference broker (``mqtt-broker --node-id``) is
the example of its use.
"""

from mqtt_common._core import (
    Adopted,
    ChangeLog,
    Inbox,
    InboxEntry,
    Joined,
    LiveFeed,
    RedisNode,
)

__all__ = ["Adopted", "ChangeLog", "Inbox", "InboxEntry", "Joined", "LiveFeed", "RedisNode"]
