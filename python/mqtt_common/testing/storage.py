"""The contract of ``StorageInterface``."""

from __future__ import annotations

import abc

from mqtt_common.models import Message, Subscription
from mqtt_common.models.errors import MQTTError, StorageError
from mqtt_common.src.storage import AsyncStorageInterface, StorageInterface
from mqtt_common.testing._blocking import blocking_view


def _topics(messages: list[Message]) -> list[str]:
    return sorted(m.topic for m in messages)


def _payloads(messages: list[Message]) -> list[bytes]:
    return [m.payload for m in messages]


class StorageContract(abc.ABC):
    """Every behaviour a ``StorageInterface`` promises.

    Subclass as ``Test*`` and implement ``make_storage``; each test gets a fresh, empty
    storage.
    """

    @abc.abstractmethod
    def make_storage(self) -> StorageInterface:
        """Return a new, empty storage to test."""

    def test_is_a_storage_interface(self) -> None:
        """The implementation derives from the ABC."""
        assert isinstance(self.make_storage(), StorageInterface)

    def test_retained_store_and_replace(self) -> None:
        """A retained message replaces the topic's previous one."""
        storage = self.make_storage()
        storage.store_retained(Message("site/1/temp", b"20", retain=True))
        storage.store_retained(Message("site/1/temp", b"21", retain=True))
        found = storage.get_retained("site/1/temp")
        assert _payloads(found) == [b"21"]

    def test_retained_empty_payload_deletes(self) -> None:
        """An empty payload deletes the retained message and is not stored [MQTT-3.3.1-6]."""
        storage = self.make_storage()
        storage.store_retained(Message("site/1/temp", b"20", retain=True))
        storage.store_retained(Message("site/1/temp", b"", retain=True))
        storage.store_retained(Message("never/stored", b"", retain=True))
        assert storage.get_retained("#") == []

    def test_retained_wildcards(self) -> None:
        """Retained lookup follows the wildcard rules, '#' matching the parent level."""
        storage = self.make_storage()
        for topic in ["site/1/temp", "site/2/temp", "site/1/humidity", "site", "other/x"]:
            storage.store_retained(Message(topic, b"v", retain=True))
        assert _topics(storage.get_retained("site/+/temp")) == ["site/1/temp", "site/2/temp"]
        assert _topics(storage.get_retained("site/#")) == [
            "site",
            "site/1/humidity",
            "site/1/temp",
            "site/2/temp",
        ]
        assert _topics(storage.get_retained("+")) == ["site"]

    def test_retained_dollar_topics(self) -> None:
        """Filters starting with a wildcard do not match '$' topics [MQTT-4.7.2-1]."""
        storage = self.make_storage()
        storage.store_retained(Message("$SYS/uptime", b"1", retain=True))
        storage.store_retained(Message("a", b"1", retain=True))
        assert _topics(storage.get_retained("#")) == ["a"]
        assert _topics(storage.get_retained("+/uptime")) == []
        assert _topics(storage.get_retained("$SYS/#")) == ["$SYS/uptime"]

    def test_delete_retained(self) -> None:
        """delete_retained reports whether there was a message."""
        storage = self.make_storage()
        storage.store_retained(Message("a/b", b"v", retain=True))
        assert storage.delete_retained("a/b") is True
        assert storage.delete_retained("a/b") is False
        assert storage.get_retained("#") == []

    def test_queue_is_fifo(self) -> None:
        """Queued messages come back oldest first."""
        storage = self.make_storage()
        for payload in [b"1", b"2", b"3"]:
            storage.enqueue("c1", Message("q", payload))
        assert storage.queue_length("c1") == 3
        assert _payloads(storage.dequeue("c1")) == [b"1", b"2", b"3"]
        assert storage.queue_length("c1") == 0

    def test_dequeue_limit(self) -> None:
        """Dequeue takes at most ``limit`` messages from the front."""
        storage = self.make_storage()
        for payload in [b"1", b"2", b"3"]:
            storage.enqueue("c1", Message("q", payload))
        assert _payloads(storage.dequeue("c1", 2)) == [b"1", b"2"]
        assert _payloads(storage.dequeue("c1", 5)) == [b"3"]
        assert storage.dequeue("c1") == []

    def test_queues_are_per_client(self) -> None:
        """One client's queue does not see another's messages."""
        storage = self.make_storage()
        storage.enqueue("c1", Message("q", b"for c1"))
        storage.enqueue("c2", Message("q", b"for c2"))
        assert _payloads(storage.dequeue("c2")) == [b"for c2"]
        assert storage.queue_length("c1") == 1
        assert storage.queue_length("nobody") == 0

    def test_queued_messages_keep_their_fields(self) -> None:
        """A queued message comes back equal to what went in."""
        storage = self.make_storage()
        message = Message(
            "a/b", b"\x00\xff", qos=2, retain=True, message_id=7, properties={"topic_alias": 3}
        )
        storage.enqueue("c1", message)
        assert storage.dequeue("c1") == [message]

    def test_retained_messages_keep_their_arrival_time(self) -> None:
        """A retained message is kept with the time it arrived, for a restart."""
        storage = self.make_storage()
        storage.store_retained(Message("a", b"1", retain=True), 1_700_000_000.5)
        storage.store_retained(Message("$SYS/b", b"2", retain=True), 1_700_000_001.0)
        kept = sorted((m.topic, m.payload, at) for m, at in storage.retained_messages())
        assert kept == [("$SYS/b", b"2", 1_700_000_001.0), ("a", b"1", 1_700_000_000.5)]
        storage.store_retained(Message("a", b"", retain=True), 1_700_000_002.0)
        assert [m.topic for m, _ in storage.retained_messages()] == ["$SYS/b"]

    def test_queued_entries_by_number(self) -> None:
        """Owed messages are kept by entry number, in order, with their enqueue time."""
        storage = self.make_storage()
        for seq in (3, 1, 2):
            storage.enqueue_entry("c1", seq, Message("q", str(seq).encode(), qos=1), 10.0 + seq)
        storage.enqueue_entry("c2", 1, Message("q", b"other", qos=1), 5.0)
        entries = storage.queued_messages("c1")
        assert [(seq, m.payload, at) for seq, m, at in entries] == [
            (1, b"1", 11.0),
            (2, b"2", 12.0),
            (3, b"3", 13.0),
        ]
        assert storage.remove_queued("c1", 2) is True
        assert storage.remove_queued("c1", 2) is False
        storage.enqueue_entry("c1", 3, Message("q", b"again", qos=1), 20.0)
        assert [(s, m.payload) for s, m, _ in storage.queued_messages("c1")] == [
            (1, b"1"),
            (3, b"again"),
        ]
        assert storage.queued_messages("nobody") == []

    def test_persist_stores_the_routers_facts(self) -> None:
        """persist() stores what a router decided: retained messages, queued ones, ends."""
        from mqtt_common.router import Router  # noqa: PLC0415  (the kit imports it late)
        from mqtt_common.src.session import Session  # noqa: PLC0415

        storage = self.make_storage()
        router = Router()
        away = Session("away", 5, False, 60)
        away.mark_disconnected(1_000.0)
        router.restore_session(away, None, [Subscription("q/#", 1)], [], 1_000.0)
        routed = router.publish(Message("q/1", b"owed", qos=1, retain=True), 1_010.0, 0.0)
        assert sorted(f.kind for f in routed.facts) == ["queued", "retained"]
        storage.add_subscription("away", Subscription("q/#", 1))
        storage.persist(routed.facts)
        [(seq, message, at)] = storage.queued_messages("away")
        assert (message.payload, message.retain, at) == (b"owed", False, 1_010.0)
        [(kept, arrived)] = storage.retained_messages()
        assert (kept.topic, arrived) == ("q/1", 1_010.0)
        # The session expires 60 s after it ended: its subscriptions and queue go.
        ended = router.handle_timeout(1_061.0, 0.0)
        assert [f.kind for f in ended.facts] == ["session_ended"]
        storage.persist(ended.facts)
        assert storage.queued_messages("away") == []
        assert storage.get_subscriptions("away") == []
        assert seq >= 1

    def test_subscription_replace(self) -> None:
        """Subscribing again with the same filter replaces the subscription."""
        storage = self.make_storage()
        assert storage.add_subscription("c1", Subscription("a/+", 0)) is False
        assert storage.add_subscription("c1", Subscription("a/+", 2)) is True
        [subscription] = storage.get_subscriptions("c1")
        assert subscription.qos == 2

    def test_remove_subscription_is_exact(self) -> None:
        """Filters are compared character by character [MQTT-3.10.4-1]."""
        storage = self.make_storage()
        storage.add_subscription("c1", Subscription("a/+"))
        assert storage.remove_subscription("c1", "a/b") is False
        assert storage.remove_subscription("c1", "a/+") is True
        assert storage.remove_subscription("c1", "a/+") is False
        assert storage.get_subscriptions("c1") == []

    def test_get_subscribers(self) -> None:
        """get_subscribers applies the matching rules to every client's filters."""
        storage = self.make_storage()
        storage.add_subscription("c1", Subscription("sport/#", 1))
        storage.add_subscription("c2", Subscription("sport/+"))
        storage.add_subscription("c3", Subscription("#"))
        storage.add_subscription("c4", Subscription("other"))
        storage.add_subscription("c5", Subscription("$share/g/sport/tennis"))
        found = sorted((c, s.topic_filter) for c, s in storage.get_subscribers("sport/tennis"))
        assert found == [
            ("c1", "sport/#"),
            ("c2", "sport/+"),
            ("c3", "#"),
            ("c5", "$share/g/sport/tennis"),
        ]
        assert sorted(c for c, _ in storage.get_subscribers("sport")) == ["c1", "c3"]
        assert [c for c, _ in storage.get_subscribers("$SYS/x")] == []

    def test_subscriptions_are_per_client(self) -> None:
        """Each client has its own subscriptions, even to the same filter."""
        storage = self.make_storage()
        storage.add_subscription("c1", Subscription("a", 1))
        storage.add_subscription("c2", Subscription("a", 2))
        assert [s.qos for s in storage.get_subscriptions("c1")] == [1]
        assert sorted(c for c, _ in storage.get_subscribers("a")) == ["c1", "c2"]

    def test_closed_storage_raises_storage_error(self) -> None:
        """After close(), calls raise StorageError."""
        storage = self.make_storage()
        storage.close()
        try:
            storage.queue_length("c1")
        except StorageError:
            return
        except MQTTError as err:  # pragma: no cover - reported below
            raise AssertionError(f"expected StorageError, got {type(err).__name__}") from err
        raise AssertionError("a closed storage must raise StorageError")


class AsyncStorageContract(StorageContract):
    """Every behaviour an ``AsyncStorageInterface`` promises.

    The same as the synchronous family's, each call awaited.

    Subclass as ``Test*`` and implement ``make_async_storage``.
    """

    @abc.abstractmethod
    def make_async_storage(self) -> AsyncStorageInterface:
        """Return a new, empty asynchronous storage to test."""

    def make_storage(self) -> StorageInterface:
        """Return the asynchronous storage behind a synchronous view, for the suite."""
        return blocking_view(self.make_async_storage(), StorageInterface)

    def test_is_a_storage_interface(self) -> None:
        """The implementation derives from the asynchronous ABC."""
        assert isinstance(self.make_async_storage(), AsyncStorageInterface)
