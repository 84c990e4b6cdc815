"""A minimal loopback MQTT server for the engine's real-client tests.

It is nothing but a socket loop around ``ServerConnection``: threads read each socket
and hand the bytes to the engine, a ``SubscriptionIndex`` routes what clients publish,
and whatever the engine queues is written back. Every rule of the protocol is the
engine's; this loop only moves bytes and answers the broker's questions (it accepts
every client, grants every subscription as asked, and starts fresh sessions).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

from mqtt_common.models import Message
from mqtt_common.protocol import (
    Closed,
    ConnectRequest,
    Event,
    ServerConfig,
    ServerConnection,
    SubscribeRequest,
    UnsubscribeRequest,
)
from mqtt_common.src.session import Session
from mqtt_common.utils.topic import SubscriptionIndex

EventT = TypeVar("EventT")


class LoopbackServer:
    """Accepts connections on 127.0.0.1:0 and serves each with a ServerConnection."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.lock = threading.RLock()
        self.clients: dict[str, tuple[socket.socket, ServerConnection]] = {}
        self.index: SubscriptionIndex = SubscriptionIndex()
        self.events: list[Event] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.closed = False
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        connection = ServerConnection(self.config, now=time.monotonic())
        try:
            while not connection.is_closed:
                deadline = connection.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                sock.settimeout(timeout)
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    self._handle(sock, connection, connection.handle_timeout(time.monotonic()))
                    continue
                if not data:
                    self._handle(sock, connection, [connection.connection_lost()])
                    break
                self._handle(sock, connection, connection.receive_data(data, time.monotonic()))
        except OSError:
            with self.lock:
                self._handle(sock, connection, [connection.connection_lost()])
        except BaseException as err:  # reported by the tests through self.errors
            self.errors.append(err)
        finally:
            sock.close()

    def _handle(
        self,
        sock: socket.socket,
        connection: ServerConnection,
        events: list[Event] | list[Closed | None],
    ) -> None:
        with self.lock:
            pending = list(events)
            while pending:
                event = pending.pop(0)
                if event is None:
                    continue
                self.events.append(event)
                pending.extend(self._answer(sock, connection, event))
            self._flush(sock, connection)

    def _answer(
        self, sock: socket.socket, connection: ServerConnection, event: Event
    ) -> list[Event]:
        if isinstance(event, ConnectRequest):
            client_id = event.client_id or f"auto-{id(connection):x}"
            session = Session(client_id, event.protocol_version)
            assigned = client_id if event.needs_client_id else None
            self.clients[client_id] = (sock, connection)
            return connection.accept(session, assigned_client_id=assigned)
        if isinstance(event, SubscribeRequest):
            client_id = connection.client_id or ""
            for subscription in event.subscriptions:
                self.index.subscribe(client_id, subscription)
            connection.answer_subscribe(event.packet_id, [int(s.qos) for s in event.subscriptions])
        elif isinstance(event, UnsubscribeRequest):
            client_id = connection.client_id or ""
            found = [self.index.unsubscribe(client_id, f) for f in event.topic_filters]
            connection.answer_unsubscribe(event.packet_id, [0 if f else 0x11 for f in found])
        elif isinstance(event, Message):
            self._route(event)
        elif isinstance(event, Closed):
            gone = connection.client_id
            if gone is not None:
                self.index.unsubscribe_all(gone)
                self.clients.pop(gone, None)
            if event.will is not None:
                self._route(event.will.message)
        return []

    def _route(self, message: Message) -> None:
        now = time.monotonic()
        for client_id, subscription in self.index.matches(message.topic):
            target = self.clients.get(client_id)
            if target is None or target[1].is_closed:
                continue
            target[1].deliver(message, subscription, now)
            self._flush(*target)

    @staticmethod
    def _flush(sock: socket.socket, connection: ServerConnection) -> None:
        data = connection.data_to_send()
        if data:
            with suppress(OSError):
                sock.sendall(data)
        if connection.is_closed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def wait_for(self, condition: object, timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds (or fail)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition():  # type: ignore[operator]
                    return
            time.sleep(0.01)
        raise AssertionError("condition not met in time")

    def of_kind(self, kind: type[EventT]) -> list[EventT]:
        """The events of one class, in order."""
        with self.lock:
            return [event for event in self.events if isinstance(event, kind)]

    def close(self) -> None:
        """Stop accepting and close every client socket."""
        self.closed = True
        with suppress(OSError):  # wakes the thread blocked in accept()
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for sock, _ in list(self.clients.values()):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self.threads:
            thread.join(timeout=5)


@contextmanager
def loopback_server(config: ServerConfig | None = None) -> Iterator[LoopbackServer]:
    """A running server, closed afterwards; errors in its threads fail the test."""
    server = LoopbackServer(config)
    try:
        yield server
    finally:
        server.close()
    assert server.errors == [], server.errors
