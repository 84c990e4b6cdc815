"""The reference broker on mosquitto's files (``--password-file``, ``--acl-file``), as
paho clients see it, and SIGHUP reloading them."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from paho.mqtt.enums import MQTTProtocolVersion

from mqtt_common.src.auth import hash_password

from . import support
from .support import V5, V311, Client, broker_process, clients, wait_for

ACL = """
user alice
topic readwrite alice/#
topic read news/#
user editor
topic write news/#
"""


def connack_code(
    port: int, username: str, password: str, protocol: MQTTProtocolVersion = V5
) -> int:
    return support.connack_code(port, "x", protocol, username=username, password=password)


def files(tmp_path: Path) -> tuple[Path, Path]:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.write_text(
        f"alice:{hash_password('s3cret')}\neditor:{hash_password('ed', 'argon2id')}\n"
    )
    acl.write_text(ACL)
    return passwd, acl


def test_passwords_and_acl_from_mosquitto_files(tmp_path: Path) -> None:
    passwd, acl = files(tmp_path)
    options = ("--password-file", str(passwd), "--acl-file", str(acl), "--no-allow-anonymous")
    with broker_process(*options) as broker:
        assert connack_code(broker.port, "alice", "s3cret") == 0
        assert connack_code(broker.port, "alice", "wrong") == 0x86
        assert connack_code(broker.port, "alice", "wrong", V311) == 0x86
        assert connack_code(broker.port, "mallory", "s3cret") == 0x86
        alice = Client(broker.port, "alice-1", username="alice", password="s3cret")
        editor = Client(broker.port, "editor-1", username="editor", password="ed")
        with clients(alice, editor):
            alice.subscribe("#", qos=1)  # subscribing is allowed; reading is checked
            editor.publish("news/today", b"headline", qos=1)
            editor.publish("alice/secret", b"not for the editor to write", qos=1)
            alice.publish("alice/note", b"mine", qos=1)
            wait_for(lambda: len(alice.payloads()) >= 2)
            time.sleep(0.2)
            assert alice.payloads() == [b"headline", b"mine"]


def test_sighup_reloads_the_files_and_keeps_them_when_bad(tmp_path: Path) -> None:
    passwd, acl = files(tmp_path)
    with broker_process("--password-file", str(passwd), "--acl-file", str(acl)) as broker:
        passwd.write_text(f"alice:{hash_password('new')}\n")
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "auth files reloaded" in broker.output())
        assert connack_code(broker.port, "alice", "new") == 0
        assert connack_code(broker.port, "alice", "s3cret") == 0x86
        passwd.write_text("alice:plain-text\n")
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "were not reloaded" in broker.output())
        assert "line 1" in broker.output()
        assert connack_code(broker.port, "alice", "new") == 0


def test_a_bad_file_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "acl"
    bad.write_text("topic read a/#\nfrobnicate\n")
    done = subprocess.run(
        [*support.broker_command(), "--port", "0", "--acl-file", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot start: " in done.stderr
    assert "line 2: unknown keyword" in done.stderr
    assert "Traceback" not in done.stderr
