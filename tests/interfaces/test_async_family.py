"""The async interface family: contract kits over adapted memory backends, a user's own
``async def`` backend, the adapters' two modes, and the class-creation checks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mqtt_common.models import Message, Subscription
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials, AuthInterface
from mqtt_common.src.session import (
    AsyncSessionInterface,
    MemorySessionStore,
    Session,
    Will,
)
from mqtt_common.src.storage import AsyncStorageInterface, MemoryStorage
from mqtt_common.testing import (
    AsyncAuthContract,
    AsyncSessionContract,
    AsyncStorageContract,
)
from mqtt_common.utils.topic import topic_matches

from .test_auth_contract import ALICE, AclAuth, alice_only
from .test_storage_contract import DictStorage


class TestAdaptedMemoryStorage(AsyncStorageContract):
    def make_async_storage(self) -> AsyncStorageInterface:
        return AsyncStorageInterface.adapt(MemoryStorage())


class TestAdaptedDictStorageOnAThread(AsyncStorageContract):
    def make_async_storage(self) -> AsyncStorageInterface:
        return AsyncStorageInterface.adapt(DictStorage(), blocking=True)


class TestAdaptedMemorySessionStore(AsyncSessionContract):
    def make_async_store(self) -> AsyncSessionInterface:
        return AsyncSessionInterface.adapt(MemorySessionStore())


class TestAdaptedAuth(AsyncAuthContract):
    def make_async_auth(self) -> AsyncAuthInterface:
        return AsyncAuthInterface.adapt(alice_only())

    def make_unconfigured_async_auth(self) -> AsyncAuthInterface:
        return AsyncAuthInterface.adapt(AclAuth({}, []))

    def accepted_credentials(self) -> AuthCredentials:
        return ALICE

    def rejected_credentials(self) -> AuthCredentials:
        return AuthCredentials("x", username="alice", password=b"wrong")

    def allowed(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/alice/inbox", Action.PUBLISH

    def denied(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/bob/inbox", Action.PUBLISH


class NativeAsyncAuth(AsyncAuthInterface):
    """A user's own ``async def`` provider (as one that asks a remote service would be)."""

    def __init__(self, passwords: dict[str, bytes], patterns: list[str]) -> None:
        self.passwords = passwords
        self.patterns = patterns

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        await asyncio.sleep(0)  # a round trip to the service
        expected = self.passwords.get(credentials.username or "")
        return expected is not None and expected == credentials.password

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        await asyncio.sleep(0)
        user = credentials.username or ""
        if not user or "+" in user or "#" in user:
            return False
        return any(topic_matches(p.replace("%u", user), topic) for p in self.patterns)


class TestNativeAsyncAuth(TestAdaptedAuth):
    def make_async_auth(self) -> AsyncAuthInterface:
        return NativeAsyncAuth({"alice": b"s3cret"}, ["users/%u/#"])

    def make_unconfigured_async_auth(self) -> AsyncAuthInterface:
        return NativeAsyncAuth({}, [])


class NativeAsyncStorage(AsyncStorageInterface):
    """A user's own ``async def`` storage, over the pure-Python one."""

    def __init__(self) -> None:
        self.inner = DictStorage()

    async def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        self.inner.store_retained(message, arrived_at)

    async def retained_messages(self) -> list[tuple[Message, float]]:
        return self.inner.retained_messages()

    async def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        self.inner.enqueue_entry(client_id, seq, message, enqueued_at)

    async def remove_queued(self, client_id: str, seq: int) -> bool:
        return self.inner.remove_queued(client_id, seq)

    async def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        return self.inner.queued_messages(client_id)

    async def get_retained(self, topic_filter: str) -> list[Message]:
        return self.inner.get_retained(topic_filter)

    async def delete_retained(self, topic: str) -> bool:
        return self.inner.delete_retained(topic)

    async def enqueue(self, client_id: str, message: Message) -> None:
        self.inner.enqueue(client_id, message)

    async def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        return self.inner.dequeue(client_id, limit)

    async def queue_length(self, client_id: str) -> int:
        return self.inner.queue_length(client_id)

    async def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        return self.inner.add_subscription(client_id, subscription)

    async def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        return self.inner.remove_subscription(client_id, topic_filter)

    async def get_subscriptions(self, client_id: str) -> list[Subscription]:
        return self.inner.get_subscriptions(client_id)

    async def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        return self.inner.get_subscribers(topic)

    async def close(self) -> None:
        self.inner.close()


class TestNativeAsyncStorage(AsyncStorageContract):
    def make_async_storage(self) -> AsyncStorageInterface:
        return NativeAsyncStorage()


def test_a_plain_def_on_an_async_interface_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"Blocking.authenticate is a plain def, but "):

        class Blocking(AsyncAuthInterface):
            def authenticate(self, credentials: AuthCredentials) -> bool:  # type: ignore[override]
                return True

            async def authorize(
                self, credentials: AuthCredentials, topic: str, action: Action
            ) -> bool:
                return True


def test_only_true_grants_in_the_async_family_too() -> None:
    class Truthy(AsyncAuthInterface):
        async def authenticate(self, credentials: AuthCredentials) -> bool:
            return "yes"  # type: ignore[return-value]

        async def authorize(
            self, credentials: AuthCredentials, topic: str, action: Action
        ) -> bool:
            return 1  # type: ignore[return-value]

    auth = Truthy()
    credentials = AuthCredentials("c")
    assert asyncio.run(auth.authenticate(credentials)) is False
    assert asyncio.run(auth.authorize(credentials, "a", Action.PUBLISH)) is False


def test_adapting_needs_every_method() -> None:
    with pytest.raises(
        TypeError,
        match=r"^object cannot be adapted to AsyncStorageInterface: it has no add_subscr",
    ):
        AsyncStorageInterface.adapt(object())


def test_memory_backends_are_called_inline_and_others_on_a_thread() -> None:
    seen: list[str] = []

    class Recorder(AuthInterface):
        def authenticate(self, credentials: AuthCredentials) -> bool:
            seen.append(threading.current_thread().name)
            return True

        def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
            return True

    loop_thread = threading.current_thread().name

    async def run() -> None:
        await AsyncAuthInterface.adapt(Recorder()).authenticate(AuthCredentials("c"))
        await AsyncAuthInterface.adapt(Recorder(), blocking=False).authenticate(
            AuthCredentials("c")
        )

    asyncio.run(run())
    assert seen[0] != loop_thread  # a user's backend may block: a worker thread
    assert seen[1] == loop_thread  # said not to block: inline
    memory = MemoryStorage()
    storage = AsyncStorageInterface.adapt(memory)
    assert repr(storage) == f"AsyncStorageInterface.adapt({memory!r})"
    assert storage.backend is memory  # type: ignore[attr-defined]


def test_a_blocking_backend_does_not_stall_the_event_loop() -> None:
    release = threading.Event()

    class Slow(AuthInterface):
        def authenticate(self, credentials: AuthCredentials) -> bool:
            return release.wait(5)

        def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
            return True

    async def run() -> list[str]:
        order: list[str] = []
        auth = AsyncAuthInterface.adapt(Slow())

        async def other_work() -> None:
            order.append("loop kept running")
            release.set()

        granted, _ = await asyncio.gather(auth.authenticate(AuthCredentials("c")), other_work())
        order.append(f"granted {granted}")
        return order

    assert asyncio.run(run()) == ["loop kept running", "granted True"]


def test_sessions_and_wills_through_the_adapter() -> None:
    async def run() -> tuple[bool, Will | None]:
        store = AsyncSessionInterface.adapt(MemorySessionStore())
        session, present = await store.create_session("c1", False, 60, ProtocolVersion.V5)
        assert isinstance(session, Session)
        await store.save_session(session)
        await store.set_will("c1", Will(Message("w", b"bye")))
        _, present = await store.create_session("c1", False, 60, ProtocolVersion.V5)
        return present, await store.get_will("c1")

    present, will = asyncio.run(run())
    assert present is True
    assert will is None  # a resumed session cancels the Will waiting from the last connection
