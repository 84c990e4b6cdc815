"""Topic names, topic filters and matching (MQTT 5.0 section 4.7).

Matching follows the specification exactly: ``#`` also matches the parent level, ``+``
matches one whole level (an empty one too), a filter that starts with a wildcard never
matches a topic that starts with ``$``, and comparison is case-sensitive with no
normalisation. A shared subscription ``$share/<name>/<filter>`` matches what its filter
matches.

>>> topic_matches("sport/tennis/#", "sport/tennis")
True
>>> topic_matches("+/monitor/Clients", "$SYS/monitor/Clients")
False

A ``SubscriptionIndex`` finds every subscription whose filter matches a topic without
scanning them all; ``merge_overlapping`` folds one client's overlapping matches into one
delivery (highest QoS, every subscription identifier), as MQTT 5.0 section 3.3.4 asks.

>>> index = SubscriptionIndex()
>>> index.subscribe("c1", Subscription("site/+/temp", qos=1, subscription_id=4))
False
>>> index.subscribe("c1", Subscription("site/#", qos=2, subscription_id=9))
False
>>> [(client, s.topic_filter) for client, s in sorted(index.matches("site/7/temp"), key=repr)]
[('c1', 'site/#'), ('c1', 'site/+/temp')]
>>> [delivery] = merge_overlapping(index.matches("site/7/temp"))
>>> delivery.client_id, delivery.qos.name, delivery.subscription_identifiers
('c1', 'EXACTLY_ONCE', [4, 9])

Invalid filters raise ``ValidationError``, naming the rule:

>>> validate_topic_filter("sport/tennis#")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
mqtt_common.models.errors.ValidationError: topic_filter: '#' must be the last level ...
"""

from mqtt_common._core import (
    Delivery,
    Subscription,
    SubscriptionIndex,
    merge_overlapping,
    topic_matches,
    validate_topic_filter,
    validate_topic_name,
)

__all__ = [
    "Delivery",
    "Subscription",
    "SubscriptionIndex",
    "merge_overlapping",
    "topic_matches",
    "validate_topic_filter",
    "validate_topic_name",
]
