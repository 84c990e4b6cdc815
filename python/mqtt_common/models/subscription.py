"""A client's subscription: a topic filter with its QoS and MQTT 5.0 options.

>>> from mqtt_common.models.subscription import Subscription
>>> s = Subscription("$share/workers/jobs/+", qos=1, subscription_id=7)
>>> s.share_group, s.qos.name
('workers', 'AT_LEAST_ONCE')
"""

from mqtt_common._core import Subscription

__all__ = ["Subscription"]
