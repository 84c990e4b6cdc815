"""The reference broker on ``--data-dir``: what real clients left in it is there after a
restart, a clean one (SIGTERM) or a crash (SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from . import support
from .support import V5, Client, broker_process, clients, wait_for

SESSION = {"SessionExpiryInterval": 300}


def test_sessions_queues_and_retained_messages_survive_a_restart(tmp_path: Path) -> None:
    with broker_process("--data-dir", str(tmp_path)) as broker:
        away = Client(broker.port, "dd-away", V5, clean_start=False, connect_properties=SESSION)
        away.subscribe("dd/q", qos=1)
        away.subscribe("dd/other/+", qos=2)
        away.disconnect()
        with clients(Client(broker.port, "dd-pub", V5)) as (pub,):
            for n in range(3):
                pub.publish("dd/q", f"m{n}".encode(), qos=1)
            pub.publish("dd/retained", b"kept", qos=1, retain=True)
    with broker_process("--data-dir", str(tmp_path)) as broker:
        assert f"stored sessions taken up from {tmp_path}: 1" in broker.output()
        # Queued while the client was away, and routed to it after the restart.
        with clients(Client(broker.port, "dd-pub-2", V5)) as (pub,):
            pub.publish("dd/other/x", b"after the restart", qos=1)
        back = Client(broker.port, "dd-away", V5, clean_start=False, connect_properties=SESSION)
        with clients(back, Client(broker.port, "dd-late", V5)) as (_, late):
            assert back.connack is not None
            assert back.connack[0].session_present is True
            back.wait_messages(4)
            assert back.payloads() == [b"m0", b"m1", b"m2", b"after the restart"]
            late.subscribe("dd/retained", qos=1)
            late.wait_messages(1)
            assert late.payloads() == [b"kept"]


def test_a_session_outlives_a_crash_and_its_delayed_will_is_published(tmp_path: Path) -> None:
    with broker_process("--data-dir", str(tmp_path)) as broker:
        held = Client(broker.port, "dd-held", V5, clean_start=False, connect_properties=SESSION)
        held.subscribe("dd/crash", qos=1)
        Client(
            broker.port,
            "dd-will",
            V5,
            clean_start=False,
            connect_properties={"SessionExpiryInterval": 60},
            will=("dd/will", b"gone", 1, False),
            will_properties={"WillDelayInterval": 1},
        )
        time.sleep(0.5)  # the subscription's storage write lands
        broker.process.send_signal(signal.SIGKILL)
        broker.process.wait()
    with broker_process("--data-dir", str(tmp_path)) as broker:
        assert f"stored sessions taken up from {tmp_path}: 2" in broker.output()
        with clients(Client(broker.port, "dd-watch", V5)) as (watch,):
            watch.subscribe("dd/will", qos=1)
            # The crash ended dd-will's connection: its Will is due a second later.
            wait_for(lambda: watch.payloads() == [b"gone"], timeout=5)
            with clients(Client(broker.port, "dd-pub", V5)) as (pub,):
                pub.publish("dd/crash", b"still subscribed", qos=1)
            back = Client(
                broker.port, "dd-held", V5, clean_start=False, connect_properties=SESSION
            )
            with clients(back):
                assert back.connack is not None
                assert back.connack[0].session_present is True
                back.wait_messages(1)
                assert back.payloads() == [b"still subscribed"]


def test_a_data_dir_in_use_is_refused_clearly(tmp_path: Path) -> None:
    with broker_process("--data-dir", str(tmp_path)):
        second = subprocess.run(
            [*support.broker_command(), "--port", "0", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert second.returncode == 1
    assert "cannot start: storage error: cannot open" in second.stderr
    assert "locked by another process" in second.stderr
    assert "Traceback" not in second.stderr
