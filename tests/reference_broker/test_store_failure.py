"""When the stores fail, nothing the broker acknowledged may be missing after a restart.

Each broker runs with ``--data-dir`` under a file-size limit (``RLIMIT_FSIZE``, with
SIGXFSZ ignored, so that a write past it fails with EFBIG instead of killing the
process): the store's commits start failing part-way through a stream of QoS 1 messages
for a persistent subscriber that is away. The publisher must then be disconnected, with
no acknowledgement for what was not stored; after a kill -9 and a restart without the
limit, the subscriber must receive every message whose PUBACK the publisher got.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mqtt_common.models.errors import StorageError
from mqtt_common.router import Fact
from mqtt_common.src.session import AsyncSessionInterface, MemorySessionStore
from mqtt_common.src.storage import AsyncStorageInterface, MemoryStorage

from . import support
from .support import (
    EXAMPLES,
    TIMEOUT,
    TOKIO_BROKER,
    V5,
    Broker,
    BrokerConfig,
    Client,
    broker_in_thread,
    broker_process,
    wait_for,
)

#: The largest file the broker may write while the stores are to fail.
FILE_LIMIT = 256 * 1024
PAYLOAD = 8 * 1024
MESSAGES = 120


def _command(kind: str) -> list[str]:
    if kind == "tokio":
        assert TOKIO_BROKER.exists(), f"build the tokio broker first: {TOKIO_BROKER} is missing"
        return [str(TOKIO_BROKER)]
    return [sys.executable, str(EXAMPLES / "broker")]


@contextmanager
def _limited_broker(kind: str, data_dir: Path) -> Iterator[tuple[int, list[str]]]:
    """The broker with its files limited; yields its port and its output lines."""
    command = [*_command(kind), "--host", "127.0.0.1", "--port", "0"]
    # The shell ignores SIGXFSZ for the broker it becomes (an ignored signal stays
    # ignored across exec); the limit is set on that process from here.
    process = subprocess.Popen(
        ["sh", "-c", 'trap "" XFSZ; exec "$@"', "sh", *command, "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    assert process.stdout is not None
    lines: list[str] = []
    port = 0
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and not port:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else 0
    if not port:
        process.kill()
        raise AssertionError("the broker did not start:\n" + "\n".join(lines))

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield port, lines
    finally:
        process.kill()  # as a crash would: nothing more is stored
        process.wait()
        reader.join(timeout=TIMEOUT)


@pytest.mark.parametrize("kind", ["python", "tokio"])
def test_nothing_acknowledged_is_lost_when_the_stores_fail(kind: str, tmp_path: Path) -> None:
    session = {"SessionExpiryInterval": 3600}
    acked: set[int] = set()
    with _limited_broker(kind, tmp_path) as (port, lines):
        subscriber = Client(port, "away", V5, clean_start=False, connect_properties=session)
        subscriber.subscribe("t", qos=1)
        subscriber.disconnect()
        publisher = Client(port, "pub", V5)
        mids: dict[int, int] = {}
        for n in range(MESSAGES):
            payload = n.to_bytes(4, "big") + bytes(PAYLOAD)
            info = publisher.paho.publish("t", payload, qos=1)
            mids[info.mid] = n
        # Either every message is acknowledged (the limit was never reached: the test
        # would prove nothing) or the broker ends the publisher's connection.
        wait_for(lambda: publisher.disconnects or len(publisher.puback_codes) == MESSAGES)
        time.sleep(0.3)  # acknowledgements already written still arrive
        publisher.paho.loop_stop()
        acked = {mids[mid] for mid, code in publisher.puback_codes.items() if code < 0x80}
        output = "\n".join(lines)
    assert publisher.disconnects, f"the stores never failed ({len(acked)} acknowledged)"
    assert 0 < len(acked) < MESSAGES, (len(acked), output)
    # Restarted without the limit, after the kill: the subscriber's queue holds every
    # message that was acknowledged.
    with _restart(kind, tmp_path) as broker:
        subscriber = Client(broker.port, "away", V5, clean_start=False, connect_properties=session)
        wait_for(lambda: {int.from_bytes(p[:4], "big") for p in subscriber.payloads()} >= acked)
        subscriber.disconnect()


@contextmanager
def _restart(kind: str, data_dir: Path) -> Iterator[support.BrokerProcess]:
    """The broker of ``kind`` on ``data_dir``, without a limit."""
    saved = support.KIND
    support.KIND = kind
    try:
        with broker_process("--data-dir", str(data_dir)) as broker:
            yield broker
    finally:
        support.KIND = saved


class _FullDisk(MemoryStorage):
    """A storage whose every ``persist`` fails, as a full disk would."""

    def persist(self, facts: Iterable[Fact]) -> None:
        raise StorageError("no space left on the device")


def test_a_subscription_that_cannot_be_stored_ends_its_connection() -> None:
    """No SUBACK for it (it would promise what is not stored), and no endless wait."""
    broker = Broker(
        BrokerConfig(),
        sessions=AsyncSessionInterface.adapt(MemorySessionStore()),
        storage=AsyncStorageInterface.adapt(_FullDisk()),
    )
    with broker_in_thread(broker) as listener:
        client = Client(listener.port, "sub", V5, clean_start=False)
        client.paho.subscribe("t", qos=1)
        wait_for(lambda: client.disconnects)
        assert not client.subacks
        assert [int(reason.value) for reason in client.disconnects] == [0x80]
        client.paho.loop_stop()
