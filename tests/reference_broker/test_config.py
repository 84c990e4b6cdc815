"""The reference broker's ``--config FILE`` (TOML): every option round-trips through
the file, the command line overrides it, a mistake is one line naming the file and the
key, and SIGHUP reads it again (a changed password file, then a broken one, checked by
real clients; what needs a restart is said so), and new limits with it.
``--log-format json`` writes one JSON object per line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mqtt_broker.__main__ import arguments, make_parser
from mqtt_common.src.auth import hash_password

from .support import EXAMPLES, V5, Client, broker_process, clients, wait_for
from .support import connack_code as support_connack
from .test_auth_files import connack_code

#: Consistent sets of options (some exclude others), as a config file gives them.
SAMPLES: list[dict[str, Any]] = [
    {
        "host": "127.0.0.2",
        "port": 1884,
        "allow_anonymous": False,
        "max_keep_alive": 60,
        "max_unread": 1000,
        "max_queued": 5,
        "queue_full": "drop-oldest",
        "trim_every": 2.5,
        "tls_port": 8883,
        "websockets_port": 8080,
        "max_packet_size": 4096,
        "max_connections": 1000,
        "max_retained": 100000,
        "max_retained_bytes": 1048576,
        "max_inflight": 20,
        "max_publish_rate": 50,
        "sys_interval": 2.5,
        "metrics_port": 9100,
        "tls_cert": "server.pem",
        "tls_key": "server.key",
        "tls_ca": "ca.pem",
        "require_certificate": True,
        "use_identity_as_username": True,
        "password_file": "passwd",
        "acl_file": "acl",
        "data_dir": "data",
        "reuse_port": True,
        "log_level": "warning",
        "log_format": "json",
        "auth_plugin": ["tokens:TokenAuth", "audit:Audit"],
        "auth_rule": "all",
        "storage_plugin": "stores:Storage",
        "session_plugin": "stores:Sessions",
        "plugin_opt": ["url=https://auth.example", "timeout=2"],
    },
    {
        "allow_anonymous": True,
        "tls_cert": "server.pem",
        "tls_key": "server.key",
        "tls_ca": "ca.pem",
        "require_certificate": True,
        "use_subject_as_username": True,
        "redis_url": "redis://127.0.0.1:6390",
        "redis_prefix": "broker",
        "redis_ca": "redis-ca.pem",
        "node_id": "n7",
        "node_lease": 5,
    },
]


def toml(values: dict[str, Any]) -> str:
    """The values as TOML lines (strings quoted, booleans lowercase)."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | list):
            text = json.dumps(value)
        else:
            text = str(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def command_line(values: dict[str, Any]) -> list[str]:
    """The same values as command-line options, written out by hand's rule."""
    tokens: list[str] = []
    for key, value in values.items():
        option = "--" + key.replace("_", "-")
        if value is True:
            tokens.append(option)
        elif value is False:
            tokens.append("--no-" + option[2:])
        elif isinstance(value, list):
            for each in value:
                tokens += [option, str(each)]
        else:
            tokens += [option, str(value)]
    return tokens


def test_every_option_round_trips_through_the_file(tmp_path: Path) -> None:
    options = {
        o[2:].replace("-", "_")
        for action in make_parser()._actions
        for o in action.option_strings
        if o.startswith("--") and not o.startswith("--no-")
    } - {"help", "config"}
    assert options == {key for sample in SAMPLES for key in sample}, "a sample for each"
    for number, sample in enumerate(SAMPLES):
        path = tmp_path / f"broker{number}.toml"
        path.write_text(toml(sample))
        from_file = vars(arguments(["--config", str(path)]))
        from_command_line = vars(arguments(command_line(sample)))
        assert from_file.pop("config") == path
        assert from_command_line.pop("config") is None
        assert from_file == from_command_line


def test_the_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text(toml({"port": 1884, "data_dir": "data", "allow_anonymous": True}))
    args = arguments(
        ["--config", str(path), "--port", "1885", "--redis-url", "redis://127.0.0.1:1"]
    )
    assert (args.port, args.redis_url, args.data_dir) == (1885, "redis://127.0.0.1:1", None)
    assert args.allow_anonymous is True
    assert arguments(["--config", str(path), "--no-allow-anonymous"]).allow_anonymous is False


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("bogus = 1", "unknown key 'bogus'"),
        ("config = 'other.toml'", "unknown key 'config'"),
        ("port = 'x'", "port: 'x' is not a whole number"),
        ("port = 70000", "port: 70000 is not a port number"),
        ("reuse_port = 'yes'", "reuse_port is a flag: true or false"),
        ("queue_full = 'drop-all'", "queue_full: 'drop-all' is not one of"),
        ("host = ['a', 'b']", "host takes a single value"),
        ("port = ", "is not a TOML file"),
    ],
)
def test_a_mistake_in_the_file_is_one_line_naming_it(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "broker.toml"
    path.write_text(text + "\n")
    started = subprocess.run(
        [sys.executable, str(EXAMPLES / "broker"), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert started.returncode == 2
    [line] = started.stderr.splitlines()
    assert str(path) in line
    assert said in line


def test_sighup_reads_the_file_again_and_keeps_it_when_bad(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text(f"alice:{hash_password('one')}\n")
    second.write_text(f"alice:{hash_password('two')}\n")
    path = tmp_path / "broker.toml"
    path.write_text(toml({"password_file": str(first), "log_format": "json"}))
    with broker_process("--config", str(path)) as broker:
        assert connack_code(broker.port, "alice", "one") == 0
        path.write_text(
            toml({"password_file": str(second), "log_format": "json", "log_level": "debug"})
        )
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded: password_file" in broker.output())
        assert connack_code(broker.port, "alice", "two") == 0
        assert connack_code(broker.port, "alice", "one") == 0x86
        # A change that needs a restart is said so; a broken password file keeps the
        # old settings.
        second.write_text("alice:plain-text\n")
        path.write_text(toml({"password_file": str(second), "port": 1, "log_format": "json"}))
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "old settings stay" in broker.output())
        assert connack_code(broker.port, "alice", "two") == 0
        path.write_text("port = [\n")
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: broker.output().count("old settings stay") >= 2)
        assert connack_code(broker.port, "alice", "two") == 0
        # Every log line is a JSON object.
        logged = [line for line in broker.lines if line.startswith("{")]
        assert len(logged) > 5
        entries = [json.loads(line) for line in logged]
        assert {"time", "level", "logger", "message"} <= set(entries[0])
        errors = [e["message"] for e in entries if e["level"] == "ERROR"]
        assert any("is not a TOML file" in message for message in errors)


def test_a_change_that_needs_a_restart_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text(toml({"max_queued": 10}))
    with broker_process("--config", str(path)) as broker:
        path.write_text(toml({"max_queued": 20, "max_unread": 4096}))
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "takes effect at the next start" in broker.output())
        output = broker.output()
        assert "max_queued changed in" in output
        assert "reloaded: max_unread" in output


def test_sighup_applies_new_limits(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text(toml({"max_connections": 1, "max_packet_size": 4096}))
    with broker_process("--config", str(path)) as broker:
        first = Client(broker.port, "lim-first", V5)
        with clients(first):
            assert first.connack is not None
            assert first.connack[2].MaximumPacketSize == 4096
            assert support_connack(broker.port, "lim-second") == 0x97
            path.write_text(
                toml({"max_connections": 3, "max_packet_size": 8192, "max_retained": 1})
            )
            broker.process.send_signal(signal.SIGHUP)
            wait_for(lambda: "max_connections 1 -> 3" in broker.output())
            second = Client(broker.port, "lim-second", V5)
            with clients(second):
                # The engine's limits hold for the connections made from then on.
                assert second.connack is not None
                assert second.connack[2].MaximumPacketSize == 8192
                assert second.publish_code("r/a", b"1", 1, retain=True) == 0x10
                assert second.publish_code("r/b", b"2", 1, retain=True) == 0x97
