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
>>> validate_topic_filter("sport/tennis#")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
mqtt_common.models.errors.ValidationError: topic_filter: '#' must be the last level ...
"""

from mqtt_common._core import topic_matches, validate_topic_filter, validate_topic_name

__all__ = ["topic_matches", "validate_topic_filter", "validate_topic_name"]
