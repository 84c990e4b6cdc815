"""A capture server for the interop tests: a tiny broker on 127.0.0.1 built on our codec.

It answers like a broker (CONNACK, SUBACK granting what was asked, PUBACK, PUBREC /
PUBCOMP, PINGRESP), records every packet it decodes, and after a SUBACK publishes one
message to the subscriber, so real clients exercise both directions of the codec.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mqtt_common.models import ReasonCode
from mqtt_common.models.packets import (
    Connack,
    Connect,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    Suback,
    Subscribe,
)
from mqtt_common.utils.codec import Decoder, encode

GREETING_TOPIC = "t/greeting"
GREETING = b"hello from mqtt-common"


class CaptureBroker:
    """Accepts connections on 127.0.0.1 and records what it decodes."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.received: list[Packet] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        decoder = Decoder(max_packet_size=1 << 20, topic_alias_maximum=10)
        version = 4
        with conn:
            try:
                while data := conn.recv(65536):
                    for packet in decoder.feed(data):
                        with self.lock:
                            self.received.append(packet)
                        if isinstance(packet, Connect):
                            version = int(packet.protocol_version)
                        if isinstance(packet, Disconnect):
                            return
                        for reply in self._replies(packet, version):
                            conn.sendall(encode(reply, version))
            except OSError:
                return
            except BaseException as err:  # recorded: the test asserts there are none
                with self.lock:
                    self.errors.append(err)

    @staticmethod
    def _replies(packet: Packet, version: int) -> list[Packet]:
        if isinstance(packet, Connect):
            properties = {"topic_alias_maximum": 10} if version == 5 else None
            return [Connack(False, ReasonCode.SUCCESS, properties=properties)]
        if isinstance(packet, Subscribe):
            granted = [ReasonCode(int(s.qos)) for s in packet.subscriptions]
            user = [("origin", "capture")] if version == 5 else None
            greeting = Publish(
                GREETING_TOPIC, GREETING, 1, packet_id=1, properties={"user_properties": user}
            )
            return [Suback(packet.packet_id, granted), greeting]
        if isinstance(packet, Publish) and packet.packet_id is not None:
            ack = Puback if int(packet.qos) == 1 else Pubrec
            return [ack(packet.packet_id)]
        if isinstance(packet, Pubrel):
            return [Pubcomp(packet.packet_id)]
        if isinstance(packet, Pingreq):
            return [Pingresp()]
        return []

    def packets(self, kind: type) -> list:  # type: ignore[type-arg]
        with self.lock:
            return [p for p in self.received if isinstance(p, kind)]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {self.received!r}")
            time.sleep(0.01)

    def close(self) -> None:
        self.closed = True
        self.listener.close()


@pytest.fixture
def broker() -> Iterator[CaptureBroker]:
    server = CaptureBroker()
    yield server
    server.close()
    assert server.errors == []
