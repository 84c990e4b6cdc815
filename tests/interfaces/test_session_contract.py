"""The session contract kit against our store, a pure-Python one and broken ones; and
the Session flows from Python."""

import copy
import time

import pytest

from mqtt_common.models import Message, ProtocolError, ValidationError
from mqtt_common.models.constants import PacketType, ProtocolVersion, ReasonCode
from mqtt_common.src.session import MemorySessionStore, Session, SessionInterface, Will
from mqtt_common.testing import SessionContract


class DictSessionStore(SessionInterface):
    """A pure-Python store on dicts."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.wills: dict[str, Will] = {}

    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: ProtocolVersion = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        self.wills.pop(client_id, None)
        stored = self.sessions.get(client_id)
        if stored is not None and not clean_start and not stored.is_expired():
            stored.resume(protocol_version, expiry_interval)
            return copy.copy(stored), True
        session = Session(client_id, protocol_version, clean_start, expiry_interval)
        self.sessions[client_id] = session
        return copy.copy(session), False

    def get_session(self, client_id: str) -> Session | None:
        stored = self.sessions.get(client_id)
        return None if stored is None else copy.copy(stored)

    def save_session(self, session: Session) -> None:
        self.sessions[session.client_id] = copy.copy(session)

    def delete_session(self, client_id: str) -> bool:
        self.wills.pop(client_id, None)
        return self.sessions.pop(client_id, None) is not None

    def set_will(self, client_id: str, will: Will) -> None:
        self.wills[client_id] = will

    def get_will(self, client_id: str) -> Will | None:
        return self.wills.get(client_id)

    def clear_will(self, client_id: str) -> Will | None:
        return self.wills.pop(client_id, None)

    def client_ids(self) -> list[str]:
        return sorted(self.sessions)


class TestMemorySessionStore(SessionContract):
    def make_store(self) -> SessionInterface:
        return MemorySessionStore()


class TestDictSessionStore(SessionContract):
    def make_store(self) -> SessionInterface:
        return DictSessionStore()


class AlwaysFresh(DictSessionStore):
    """Broken: never resumes a session."""

    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: ProtocolVersion = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        return super().create_session(client_id, True, expiry_interval, protocol_version)


class KeepsPendingWill(DictSessionStore):
    """Broken: a new connection does not cancel the pending Will."""

    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: ProtocolVersion = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        will = self.wills.get(client_id)
        result = super().create_session(client_id, clean_start, expiry_interval, protocol_version)
        if will is not None:
            self.wills[client_id] = will
        return result


@pytest.mark.parametrize(
    ("broken", "failing_test"),
    [
        (AlwaysFresh, "test_saved_session_is_resumed_with_its_state"),
        (KeepsPendingWill, "test_a_new_connection_cancels_the_pending_will"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_kit_fails_broken_stores(broken: type[DictSessionStore], failing_test: str) -> None:
    class Kit(SessionContract):
        def make_store(self) -> SessionInterface:
            return broken()

    with pytest.raises(AssertionError):
        getattr(Kit(), failing_test)()


def test_incomplete_session_store_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        type("Incomplete", (SessionInterface,), {})()
    assert isinstance(MemorySessionStore(), SessionInterface)


def test_qos_flows_from_python() -> None:
    session = Session("c1", ProtocolVersion.V5, clean_start=False, expiry_interval=60)
    sent = session.send_publish(Message("a", b"x", qos=2))
    assert sent.message_id == 1
    [(packet_id, awaited, message)] = session.outgoing()
    assert (packet_id, awaited, message) == (1, PacketType.PUBREC, sent)
    with pytest.raises(ProtocolError) as info:
        session.pubcomp_received(1)
    assert info.value.spec_ref == "\u00a74.3"
    session.pubrec_received(1)
    assert session.outgoing() == [(1, PacketType.PUBCOMP, None)]
    session.pubcomp_received(1)
    assert session.outgoing() == []
    # Incoming QoS 2: a reused id without DUP is refused (CVE-2023-28366).
    assert session.publish_received(Message("a", b"x", qos=2, message_id=7)) is True
    assert session.publish_received(Message("a", b"x", qos=2, message_id=7, dup=True)) is False
    with pytest.raises(ProtocolError) as info:
        session.publish_received(Message("a", b"x", qos=2, message_id=7))
    assert info.value.reason_code is ReasonCode.PACKET_IDENTIFIER_IN_USE
    session.pubrel_received(7)
    assert session.incoming() == []
    with pytest.raises(ProtocolError) as info:
        session.pubrel_received(7)
    assert info.value.reason_code is ReasonCode.PACKET_IDENTIFIER_NOT_FOUND


def test_session_attributes_and_expiry() -> None:
    session = Session("c1")
    assert session.protocol_version is ProtocolVersion.V3_1_1
    assert session.clean_start is True
    assert session.disconnected_at is None
    assert session.created_at <= time.time()
    session.expiry_interval = 10
    session.mark_disconnected(1000.0)
    assert session.expires_at == 1010.0
    assert session.is_expired(1010.0)
    assert not session.is_expired(1009.0)
    session.set_receive_maximums(1, 1)
    session.send_publish(Message("a", qos=1))
    with pytest.raises(ProtocolError) as info:
        session.send_publish(Message("a", qos=1))
    assert info.value.reason_code is ReasonCode.RECEIVE_MAXIMUM_EXCEEDED
    with pytest.raises(ValidationError):
        session.set_receive_maximums(0, 1)
    with pytest.raises(ValidationError):
        session.pubrec_received(0)
    with pytest.raises(ValidationError):
        Session("c", protocol_version=6)
    assert copy.copy(session) == session
    assert copy.copy(session) is not session


def test_memory_store_sweeps_and_wills() -> None:
    store = MemorySessionStore()
    session, _ = store.create_session("c1", False, 10, ProtocolVersion.V5)
    session.mark_disconnected(1000.0)
    store.save_session(session)
    store.set_will("c1", Will(Message("lwt", b"gone"), delay_interval=60))
    assert store.take_due_wills(1009.0) == []
    [(client, will)] = store.take_due_wills(1010.0)  # expiry comes before the delay
    assert (client, will.message.topic) == ("c1", "lwt")
    assert store.expire_sessions(1010.0) == ["c1"]
    assert len(store) == 0
    with pytest.raises(ValidationError):
        store.set_will("c1", "not a will")  # type: ignore[arg-type]


def test_a_session_remembers_its_owner_without_the_password() -> None:
    from mqtt_common.src.auth import AuthCredentials

    session = Session("phone", ProtocolVersion.V5, False, 60)
    assert session.owner == AuthCredentials("phone")
    session.set_owner(
        AuthCredentials(
            "phone", username="alice", password=b"s3cret", certificate=b"DER", peer="10.0.0.1:1"
        )
    )
    assert session.owner == AuthCredentials("phone", username="alice", certificate=b"DER")
    assert session.owner.password is None
    store = MemorySessionStore()
    store.save_session(session)
    stored = store.get_session("phone")
    assert stored is not None
    assert stored.owner.username == "alice"
    with pytest.raises(ValidationError, match="credentials"):
        session.set_owner("alice")  # type: ignore[arg-type]
