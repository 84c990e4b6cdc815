"""The storage contract kit against our storage, a pure-Python one, and broken ones."""

import time
from collections import defaultdict, deque

import pytest

from mqtt_common.models import Message, StorageError, Subscription
from mqtt_common.src.storage import MemoryStorage, StorageInterface
from mqtt_common.testing import StorageContract
from mqtt_common.utils.topic import topic_matches


class DictStorage(StorageInterface):
    """A pure-Python storage on dicts: what a user's backend might look like."""

    def __init__(self) -> None:
        self.retained: dict[str, Message] = {}
        self.arrived: dict[str, float] = {}
        self.queues: defaultdict[str, deque[Message]] = defaultdict(deque)
        self.entries: defaultdict[str, dict[int, tuple[Message, float]]] = defaultdict(dict)
        self.subscriptions: defaultdict[str, dict[str, Subscription]] = defaultdict(dict)
        self.closed = False

    def _check(self) -> None:
        if self.closed:
            raise StorageError("closed")

    def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        self._check()
        if message.payload:
            self.retained[message.topic] = message
            self.arrived[message.topic] = time.time() if arrived_at is None else arrived_at
        else:
            self.retained.pop(message.topic, None)

    def retained_messages(self) -> list[tuple[Message, float]]:
        self._check()
        return [(m, self.arrived[t]) for t, m in self.retained.items()]

    def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        self._check()
        self.entries[client_id][seq] = (message, enqueued_at)

    def remove_queued(self, client_id: str, seq: int) -> bool:
        self._check()
        return self.entries[client_id].pop(seq, None) is not None

    def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        self._check()
        return [(seq, m, at) for seq, (m, at) in sorted(self.entries.get(client_id, {}).items())]

    def get_retained(self, topic_filter: str) -> list[Message]:
        self._check()
        return [m for t, m in self.retained.items() if topic_matches(topic_filter, t)]

    def delete_retained(self, topic: str) -> bool:
        self._check()
        return self.retained.pop(topic, None) is not None

    def enqueue(self, client_id: str, message: Message) -> None:
        self._check()
        self.queues[client_id].append(message)

    def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        self._check()
        queue = self.queues[client_id]
        count = len(queue) if limit is None else min(limit, len(queue))
        if limit is None:
            self.entries.pop(client_id, None)
        return [queue.popleft() for _ in range(count)]

    def queue_length(self, client_id: str) -> int:
        self._check()
        return len(self.queues.get(client_id, ()))

    def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        self._check()
        replaced = subscription.topic_filter in self.subscriptions[client_id]
        self.subscriptions[client_id][subscription.topic_filter] = subscription
        return replaced

    def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        self._check()
        return self.subscriptions[client_id].pop(topic_filter, None) is not None

    def get_subscriptions(self, client_id: str) -> list[Subscription]:
        self._check()
        return list(self.subscriptions.get(client_id, {}).values())

    def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        self._check()
        return [
            (client, s)
            for client, subs in self.subscriptions.items()
            for s in subs.values()
            if topic_matches(s.topic_filter, topic)
        ]

    def close(self) -> None:
        self.closed = True


class TestMemoryStorage(StorageContract):
    def make_storage(self) -> StorageInterface:
        return MemoryStorage()


class TestDictStorage(StorageContract):
    def make_storage(self) -> StorageInterface:
        return DictStorage()


class LifoStorage(DictStorage):
    """Broken: hands queued messages back newest first."""

    def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        queue = self.queues[client_id]
        count = len(queue) if limit is None else min(limit, len(queue))
        return [queue.pop() for _ in range(count)]


class KeepsEmptyRetained(DictStorage):
    """Broken: stores a retained message with an empty payload instead of deleting."""

    def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        self.retained[message.topic] = message
        self.arrived[message.topic] = arrived_at or 0.0


class IgnoresDollarRule(DictStorage):
    """Broken: lets '#' match '$SYS' topics."""

    def get_retained(self, topic_filter: str) -> list[Message]:
        if topic_filter == "#":
            return list(self.retained.values())
        return super().get_retained(topic_filter)


class _Kit(StorageContract):
    def __init__(self, cls: type[StorageInterface]) -> None:
        self.cls = cls

    def make_storage(self) -> StorageInterface:
        return self.cls()


@pytest.mark.parametrize(
    ("broken", "failing_test"),
    [
        (LifoStorage, "test_queue_is_fifo"),
        (LifoStorage, "test_dequeue_limit"),
        (KeepsEmptyRetained, "test_retained_empty_payload_deletes"),
        (IgnoresDollarRule, "test_retained_dollar_topics"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_kit_fails_broken_implementations(
    broken: type[StorageInterface], failing_test: str
) -> None:
    kit = _Kit(broken)
    with pytest.raises(AssertionError):
        getattr(kit, failing_test)()
    # The same test passes for the correct implementation it was broken from.
    getattr(_Kit(DictStorage), failing_test)()
