"""One Session shared by threads, as a broker's reader and writer share it.

A reader acknowledges while a writer sends, and the session is resumed and inspected
meanwhile: no thread sees ``RuntimeError: Already borrowed``, and when the flows are
done the session holds nothing in flight.
"""

import collections
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mqtt_common.models import Message
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.models.errors import ProtocolError
from mqtt_common.src.session import Session

SECONDS = 5.0


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Let the interpreter switch threads as often as it can, to interleave the calls."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def test_four_threads_hammering_one_session(fast_switching: None) -> None:
    session = Session("shared", ProtocolVersion.V5, clean_start=False, expiry_interval=60)
    session.set_receive_maximums(1000, 1000)
    deadline = time.monotonic() + SECONDS
    sent: collections.deque[int] = collections.deque()
    counts = collections.Counter[str]()
    errors: list[BaseException] = []
    lock = threading.Lock()
    writer_done = threading.Event()

    def count(name: str) -> None:
        with lock:
            counts[name] += 1

    def writer() -> None:  # QoS 1: send, and leave the PUBACK to the reader
        try:
            while time.monotonic() < deadline:
                if session.outgoing_count < 900:
                    sent.append(session.send_publish(Message("t", b"x", qos=1)).message_id or 0)
                    count("sent")
        finally:  # the reader drains what was sent, then stops
            writer_done.set()

    def reader() -> None:  # acknowledges what the writer sent
        while not writer_done.is_set() or sent:
            try:
                packet_id = sent.popleft()
            except IndexError:
                continue
            session.puback_received(packet_id)
            count("acked")

    def exactly_once() -> None:  # a whole QoS 2 flow each way
        packet_id = 0
        while time.monotonic() < deadline:
            message = session.send_publish(Message("q2", b"y", qos=2))
            assert message.message_id is not None
            session.pubrec_received(message.message_id)
            session.pubcomp_received(message.message_id)
            packet_id = packet_id % 65_535 + 1
            assert session.publish_received(Message("in", b"z", qos=2, message_id=packet_id))
            session.pubrel_received(packet_id)
            count("qos2")

    def resumer() -> None:  # resumes and inspects while the others work
        while time.monotonic() < deadline:
            session.resume(ProtocolVersion.V5, 120)
            for packet_id, _, message in session.outgoing():
                assert message is None or message.message_id == packet_id
            assert session.client_id == "shared"
            count("resumed")

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as err:  # reported by the assertion below
                errors.append(err)

        return run

    threads = [
        threading.Thread(target=guarded(work)) for work in (writer, reader, exactly_once, resumer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert counts["sent"] == counts["acked"] > 0
    assert counts["qos2"] > 0
    assert counts["resumed"] > 0
    assert (session.outgoing_count, session.incoming_count) == (0, 0)
    assert session.expiry_interval == 120
    with pytest.raises(ProtocolError):  # a flow that ended cannot be acknowledged again
        session.puback_received(1)
