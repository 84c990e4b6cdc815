"""The contract of ``SessionInterface``."""

from __future__ import annotations

import abc

from mqtt_common.models import Message, ProtocolError
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.src.session import AsyncSessionInterface, Session, SessionInterface, Will
from mqtt_common.testing._blocking import blocking_view


class SessionContract(abc.ABC):
    """Every behaviour a ``SessionInterface`` promises.

    Subclass as ``Test*`` and implement ``make_store``; each test gets a fresh, empty
    store.
    """

    @abc.abstractmethod
    def make_store(self) -> SessionInterface:
        """Return a new, empty session store to test."""

    def test_is_a_session_interface(self) -> None:
        """The implementation derives from the ABC."""
        assert isinstance(self.make_store(), SessionInterface)

    def test_new_session_is_not_present(self) -> None:
        """A first CONNECT gets a new session; session present is False."""
        store = self.make_store()
        session, present = store.create_session("c1", False, 60, ProtocolVersion.V5)
        assert present is False
        assert isinstance(session, Session)
        assert (session.client_id, session.expiry_interval) == ("c1", 60)
        assert session.protocol_version is ProtocolVersion.V5

    def test_saved_session_is_resumed_with_its_state(self) -> None:
        """Without clean start a stored session is resumed, flows included [MQTT-3.1.2-5]."""
        store = self.make_store()
        session, _ = store.create_session("c1", False, 60)
        session.send_publish(Message("a", b"x", qos=1))
        store.save_session(session)
        resumed, present = store.create_session("c1", False, 120, ProtocolVersion.V5)
        assert present is True
        assert [packet_id for packet_id, _, _ in resumed.outgoing()] == [1]
        assert resumed.expiry_interval == 120
        # Packet ids still in flight are not handed out again [MQTT-2.2.1-3].
        assert resumed.next_packet_id() != 1

    def test_clean_start_discards_the_session(self) -> None:
        """Clean start discards any stored session; present is False [MQTT-3.1.2-4]."""
        store = self.make_store()
        session, _ = store.create_session("c1", False, 60)
        session.send_publish(Message("a", b"x", qos=1))
        store.save_session(session)
        fresh, present = store.create_session("c1", True, 0)
        assert present is False
        assert fresh.outgoing() == []

    def test_get_save_delete(self) -> None:
        """Sessions are stored per client; delete reports whether there was one."""
        store = self.make_store()
        assert store.get_session("nobody") is None
        session, _ = store.create_session("c1", False, 60)
        store.save_session(session)
        stored = store.get_session("c1")
        assert stored is not None
        assert stored.client_id == "c1"
        assert store.delete_session("c1") is True
        assert store.delete_session("c1") is False
        assert store.get_session("c1") is None

    def test_client_ids_lists_the_stored_sessions_sorted(self) -> None:
        """``client_ids`` names every stored session, sorted, and no deleted one."""
        store = self.make_store()
        assert store.client_ids() == []
        for client_id in ("c2", "c1", "c3"):
            session, _ = store.create_session(client_id, False, 60)
            store.save_session(session)
        assert store.client_ids() == ["c1", "c2", "c3"]
        store.delete_session("c2")
        assert store.client_ids() == ["c1", "c3"]

    def test_wills(self) -> None:
        """Wills are set, read and cleared per client."""
        store = self.make_store()
        will = Will(Message("status/c1", b"offline"), delay_interval=30)
        assert store.get_will("c1") is None
        store.set_will("c1", will)
        assert store.get_will("c1") == will
        assert store.clear_will("c1") == will
        assert store.get_will("c1") is None
        assert store.clear_will("c1") is None

    def test_a_new_connection_cancels_the_pending_will(self) -> None:
        """A Will waiting from the last connection is not sent [MQTT-3.1.3-9]."""
        store = self.make_store()
        store.create_session("c1", False, 60)
        store.set_will("c1", Will(Message("status/c1", b"offline"), delay_interval=30))
        store.create_session("c1", False, 60)
        assert store.get_will("c1") is None

    def test_persist_stores_the_routers_facts(self) -> None:
        """persist() keeps sessions and Wills as the router's facts say, then forgets them."""
        from mqtt_common.router import Router  # noqa: PLC0415  (the kit imports it late)

        store = self.make_store()
        router = Router()
        away = Session("away", 5, False, 60)
        away.mark_disconnected(1_000.0)
        will = Will(Message("status/away", b"gone"), delay_interval=30)
        restored = router.restore_session(away, will, [], [], 1_000.0)
        store.persist(restored.facts)
        store.save_session(away)
        store.set_will("away", will)
        # The Will is due 30 s after the client left; the session ends 60 s after.
        due = router.handle_timeout(1_031.0, 0.0)
        store.persist(due.facts)
        assert store.get_will("away") is None
        assert store.get_session("away") is not None
        ended = router.handle_timeout(1_061.0, 0.0)
        assert [f.kind for f in ended.facts] == ["session_ended"]
        store.persist(ended.facts)
        assert store.get_session("away") is None

    def test_session_flows_refuse_illegal_transitions(self) -> None:
        """A stored session keeps refusing acknowledgements for nothing in flight."""
        store = self.make_store()
        session, _ = store.create_session("c1", False, 60)
        store.save_session(session)
        stored = store.get_session("c1")
        assert stored is not None
        try:
            stored.pubrel_received(9)
        except ProtocolError:
            return
        raise AssertionError("PUBREL for an unknown packet id must raise ProtocolError")


class AsyncSessionContract(SessionContract):
    """Every behaviour an ``AsyncSessionInterface`` promises.

    The same as the synchronous family's, each call awaited.

    Subclass as ``Test*`` and implement ``make_async_store``.
    """

    @abc.abstractmethod
    def make_async_store(self) -> AsyncSessionInterface:
        """Return a new, empty asynchronous session store to test."""

    def make_store(self) -> SessionInterface:
        """Return the asynchronous store behind a synchronous view, for the suite."""
        return blocking_view(self.make_async_store(), SessionInterface)

    def test_is_a_session_interface(self) -> None:
        """The implementation derives from the asynchronous ABC."""
        assert isinstance(self.make_async_store(), AsyncSessionInterface)
