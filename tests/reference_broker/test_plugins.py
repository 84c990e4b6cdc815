"""Plugins (``--auth-plugin``, ``--storage-plugin``, ``--session-plugin``,
``--plugin-opt``), met by real clients: the examples in ``examples/plugins`` loaded by
the reference broker, an auth plugin chained with the password file, the plugins'
stores across a crash, and one clear line for each plugin the broker cannot load."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from mqtt_common.src.auth import hash_password

from . import support
from .support import V5, V311, Client, broker_process, clients, connack_code, wait_for

PLUGINS = support.ROOT / "examples" / "plugins"
SESSION = {"SessionExpiryInterval": 300}


@pytest.fixture(autouse=True)
def plugins_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker started by a test imports the example plugins."""
    monkeypatch.setenv("PYTHONPATH", str(PLUGINS))


@pytest.fixture
def auth_files(tmp_path: Path) -> tuple[Path, Path]:
    """A token file for the plugin (tina), and a password file (alice)."""
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# user token\ntina tok-123\n")
    passwd = tmp_path / "passwd"
    passwd.write_text(f"alice:{hash_password('s3cret')}\n")
    return tokens, passwd


def test_an_auth_plugin_decides_for_its_users_and_the_files_for_the_others(
    auth_files: tuple[Path, Path],
) -> None:
    tokens, passwd = auth_files
    options = ["--auth-plugin", "token_auth:TokenAuth", "--plugin-opt", f"tokens_file={tokens}"]
    with broker_process(*options, "--password-file", str(passwd)) as broker:
        port = broker.port
        assert connack_code(port, "t1", V5, username="tina", password="tok-123") == 0
        assert connack_code(port, "t2", V5, username="tina", password="wrong") == 0x86
        assert connack_code(port, "t3", V311, username="tina", password="wrong") == 0x86
        # Alice is not the plugin's: the password file decides for her.
        assert connack_code(port, "a1", V5, username="alice", password="s3cret") == 0
        assert connack_code(port, "a2", V5, username="alice", password="tok-123") == 0x86
        assert connack_code(port, "b1", V5, username="bob", password="x") == 0x86
        # Beside an auth source, anonymous clients are refused unless allowed.
        assert connack_code(port, "anon", V5) == 0x87
        tina = Client(port, "tina-1", V5, username="tina", password="tok-123")
        alice = Client(port, "alice-1", V5, username="alice", password="s3cret")
        with clients(tina, alice):
            assert tina.subscribe("users/tina/#", qos=1) == [1]
            assert tina.subscribe("secret/#", qos=1) == [0x87]
            assert alice.subscribe("secret/#", qos=1) == [1]  # no ACL file: all hers
            assert tina.publish_code("users/tina/x", b"mine", 1) == 0
            assert tina.publish_code("secret/x", b"no", 1) == 0x87
            assert alice.publish_code("secret/x", b"yes", 1) == 0
            wait_for(lambda: alice.payloads() == [b"yes"])
            tina.wait_messages(1)
            assert tina.payloads() == [b"mine"]


def test_sighup_reloads_the_password_file_beside_an_auth_plugin(
    auth_files: tuple[Path, Path],
) -> None:
    tokens, passwd = auth_files
    with broker_process(
        *("--auth-plugin", "token_auth:TokenAuth", "--plugin-opt", f"tokens_file={tokens}"),
        *("--password-file", str(passwd)),
    ) as broker:
        assert connack_code(broker.port, "a1", V5, username="alice", password="s3cret") == 0
        passwd.write_text(f"alice:{hash_password('n3w')}\n")
        broker.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "auth files reloaded" in broker.output())
        assert connack_code(broker.port, "a2", V5, username="alice", password="n3w") == 0
        assert connack_code(broker.port, "a3", V5, username="alice", password="s3cret") == 0x86
        assert connack_code(broker.port, "t1", V5, username="tina", password="tok-123") == 0


def test_with_auth_rule_all_the_plugin_and_the_files_must_both_accept(
    auth_files: tuple[Path, Path],
) -> None:
    tokens, passwd = auth_files
    with broker_process(
        *("--auth-plugin", "token_auth:TokenAuth", "--plugin-opt", f"tokens_file={tokens}"),
        *("--password-file", str(passwd), "--auth-rule", "all"),
    ) as broker:
        assert connack_code(broker.port, "t1", V5, username="tina", password="tok-123") == 0x86
        assert connack_code(broker.port, "a1", V5, username="alice", password="s3cret") == 0x86


def test_the_plugins_stores_keep_what_was_acknowledged_across_a_crash(tmp_path: Path) -> None:
    options = [
        *("--storage-plugin", "sqlite_stores:Storage"),
        *("--session-plugin", "sqlite_stores:Sessions"),
        *("--plugin-opt", f"storage_path={tmp_path / 'plugin-storage.db'}"),
        *("--plugin-opt", f"sessions_path={tmp_path / 'plugin-sessions.db'}"),
    ]
    with broker_process(*options) as broker:
        away = Client(broker.port, "pl-away", V5, clean_start=False, connect_properties=SESSION)
        assert away.subscribe("pl/q", qos=1) == [1]
        away.disconnect()
        with clients(Client(broker.port, "pl-pub", V5)) as (pub,):
            for n in range(3):
                # PUBACK 0x10 (no one connected matches): queued for the session away.
                assert pub.publish_code("pl/q", f"m{n}".encode(), 1) in (0, 0x10)
            assert pub.publish_code("pl/retained", b"kept", 1, retain=True) in (0, 0x10)
        broker.process.send_signal(signal.SIGKILL)
        broker.process.wait()
    assert (tmp_path / "plugin-storage.db").exists()
    assert (tmp_path / "plugin-sessions.db").exists()
    with broker_process(*options) as broker:
        assert "stored sessions taken up from sqlite_stores:Sessions" in broker.output()
        back = Client(broker.port, "pl-away", V5, clean_start=False, connect_properties=SESSION)
        with clients(back, Client(broker.port, "pl-late", V5)) as (_, late):
            assert back.connack is not None
            assert back.connack[0].session_present is True
            back.wait_messages(3)
            assert back.payloads() == [b"m0", b"m1", b"m2"]
            late.subscribe("pl/retained", qos=1)
            late.wait_messages(1)
            assert late.payloads() == [b"kept"]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--auth-plugin", "no_such_module:X"], "cannot import no_such_module"),
        (["--auth-plugin", "token_auth"], "give module:Class"),
        (["--auth-plugin", "token_auth:Nothing"], "token_auth has no Nothing"),
        (["--auth-plugin", "sqlite_stores:Storage"], "not a subclass of AuthInterface or"),
        (["--auth-plugin", "token_auth:TokenAuth"], "TokenAuth() failed: TypeError"),
        (
            ["--auth-plugin", "token_auth:TokenAuth", "--plugin-opt", "tokens_file=/nonexistent"],
            "TokenAuth() failed: FileNotFoundError",
        ),
        (
            ["--session-plugin", "sqlite_stores:Sessions", "--plugin-opt", "sessions_path=x.db"],
            "--session-plugin needs the other store as well",
        ),
        (["--plugin-opt", "colour=blue"], "--plugin-opt colour: no plugin takes it"),
        (["--plugin-opt", "no value"], "give key=value"),
    ],
)
def test_a_plugin_that_cannot_be_loaded_stops_the_start_in_one_line(
    tmp_path: Path, options: list[str], said: str
) -> None:
    done = subprocess.run(
        [*support.broker_command(), "--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
