"""Mosquitto's ACL file: each case below is decided by a live mosquitto 2.0 started with
the same file (a client publishes, subscribes, or waits for a message) and by
``AclFile`` / ``FileAuth``; the two answers must agree. The expected answers come from
mosquitto, not from us: the table only says what to ask."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_common.models import AuthorizationError
from mqtt_common.src.auth import AclFile, Action, AuthCredentials, FileAuth

from .mosquitto import mosquitto

# The writer that publishes the messages the "receive" cases wait for: its block is
# added at the end of each file (a user block changes nothing for the other clients).
WRITER = "\nuser acl-writer\ntopic write #\n"

FILES = {
    "users-and-patterns": """
# anonymous clients
topic read public/#
topic write inbox/anon
topic deny public/secret
user alice
topic readwrite alice/#
topic read shared/#
topic deny alice/private/#
topic write $SYS/broker/connection/alice/state
user bob
topic read #
topic deny bob/blocked
pattern readwrite clients/%c/#
pattern read users/%u/#
pattern write out/%u/%c
pattern deny clients/%c/locked
""",
    "empty": "# an ACL file without a rule\n",
    "patterns-only": """
pattern readwrite %u/#
pattern read devices/%c
""",
    "read-write-deny": """
topic readwrite sensors/#
topic deny sensors/+/raw
topic read $SYS/broker/#
user eve
topic write sensors/#
topic read sensors/+/summary
""",
}


@dataclass(frozen=True)
class Case:
    """Ask whether this client may do this."""

    file: str
    client_id: str
    username: str | None
    action: Action
    topic: str

    def __str__(self) -> str:
        who = f"{self.client_id}/{'-' if self.username is None else repr(self.username)}"
        return f"{self.file}:{who}:{self.action.name.lower()}:{self.topic}"


P, R, S = Action.PUBLISH, Action.RECEIVE, Action.SUBSCRIBE
UP = "users-and-patterns"
CASES = [
    # anonymous clients: their own lines, then the patterns
    Case(UP, "anon1", None, R, "public/news"),
    Case(UP, "anon1", None, P, "public/news"),
    Case(UP, "anon1", None, R, "public/secret"),
    Case(UP, "anon1", None, P, "inbox/anon"),
    Case(UP, "anon1", None, R, "inbox/anon"),
    Case(UP, "anon1", None, R, "alice/x"),
    Case(UP, "anon1", None, P, "clients/anon1/x"),
    Case(UP, "anon1", None, R, "clients/anon1/x"),
    Case(UP, "anon1", None, P, "clients/other/x"),
    Case(UP, "anon1", None, R, "users/x/y"),
    Case(UP, "anon1", None, P, "clients/anon1/locked"),
    Case(UP, "anon1", None, R, "$SYS/broker/version"),
    Case(UP, "anon1", None, P, "$SYS/broker/x"),
    Case(UP, "anon1", None, P, "$share/g/public"),
    Case(UP, "anon1", None, S, "bob/#"),
    Case(UP, "anon1", None, P, "public"),
    # an empty user name: mosquitto gives it the anonymous lines
    Case(UP, "anon2", "", R, "public/news"),
    Case(UP, "anon2", "", P, "inbox/anon"),
    Case(UP, "anon2", "", R, "alice/x"),
    Case(UP, "anon2", "", R, "users//x"),
    # a user with a block
    Case(UP, "alice-phone", "alice", P, "alice/x"),
    Case(UP, "alice-phone", "alice", R, "alice/x"),
    Case(UP, "alice-phone", "alice", R, "alice/private/diary"),
    Case(UP, "alice-phone", "alice", P, "alice/private/diary"),
    Case(UP, "alice-phone", "alice", R, "shared/news"),
    Case(UP, "alice-phone", "alice", P, "shared/news"),
    Case(UP, "alice-phone", "alice", R, "public/news"),
    Case(UP, "alice-phone", "alice", P, "clients/alice-phone/t"),
    Case(UP, "alice-phone", "alice", R, "users/alice/t"),
    Case(UP, "alice-phone", "alice", R, "users/bob/t"),
    Case(UP, "alice-phone", "alice", P, "out/alice/alice-phone"),
    Case(UP, "alice-phone", "alice", P, "out/alice/other"),
    Case(UP, "alice-phone", "alice", P, "$SYS/broker/connection/alice/state"),
    Case(UP, "alice-phone", "alice", P, "$SYS/broker/connection/bob/state"),
    Case(UP, "alice-phone", "alice", R, "$SYS/broker/version"),
    Case(UP, "alice-phone", "alice", S, "$share/g/alice/x"),
    Case(UP, "alice-phone", "alice", P, "$share/g/alice/x"),
    Case(UP, "alice-phone", "alice", S, "alice/private/#"),
    # "topic read #" and what it does not reach
    Case(UP, "bob-1", "bob", R, "anything/x"),
    Case(UP, "bob-1", "bob", P, "anything/x"),
    Case(UP, "bob-1", "bob", R, "bob/blocked"),
    Case(UP, "bob-1", "bob", R, "$SYS/broker/version"),
    Case(UP, "bob-1", "bob", R, "users/bob/z"),
    Case(UP, "bob-1", "bob", P, "clients/bob-1/z"),
    Case(UP, "bob-1", "bob", R, "clients/bob-1/locked"),
    # wildcards in a client id or user name get nothing from patterns (CVE-2017-7650)
    Case(UP, "+", None, P, "clients/victim/x"),
    Case(UP, "+", None, R, "clients/victim/x"),
    Case(UP, "#", None, R, "clients/x/y"),
    Case(UP, "+", None, R, "public/news"),
    Case(UP, "c9", "bo+b", R, "users/anyone/y"),
    Case(UP, "c9", "bo#", R, "users/bo/x"),
    # a user without a block: the patterns only
    Case(UP, "carol-1", "carol", R, "public/news"),
    Case(UP, "carol-1", "carol", R, "users/carol/x"),
    Case(UP, "carol-1", "carol", P, "clients/carol-1/x"),
    Case(UP, "carol-1", "carol", P, "out/carol/carol-1"),
    # an empty ACL file denies everything but subscribing (CVE-2018-12550)
    Case("empty", "anon1", None, P, "t"),
    Case("empty", "anon1", None, R, "$SYS/broker/version"),
    Case("empty", "alice-phone", "alice", P, "t"),
    Case("empty", "anon1", None, S, "t"),
    # patterns only; %u for a client without a user name
    Case("patterns-only", "d1", "dave", P, "dave/x"),
    Case("patterns-only", "d1", "dave", R, "devices/d1"),
    Case("patterns-only", "d1", "dave", R, "devices/d2"),
    Case("patterns-only", "a1", None, P, "anon/x"),
    Case("patterns-only", "a1", None, R, "devices/a1"),
    Case("patterns-only", "h", "#", R, "devices/h"),
    # read, write and deny lines, and '#' matching its parent level
    Case("read-write-deny", "s1", None, R, "sensors/1/temp"),
    Case("read-write-deny", "s1", None, R, "sensors/1/raw"),
    Case("read-write-deny", "s1", None, P, "sensors/1/raw"),
    Case("read-write-deny", "e1", "eve", P, "sensors/1/raw"),
    Case("read-write-deny", "e1", "eve", R, "sensors/1/raw"),
    Case("read-write-deny", "e1", "eve", R, "sensors/1/summary"),
    Case("read-write-deny", "e1", "eve", R, "sensors"),
    Case("read-write-deny", "s1", None, R, "sensors"),
    Case("read-write-deny", "s1", None, R, "$SYS/broker/version"),
    Case("read-write-deny", "e1", "eve", R, "$SYS/broker/version"),
]


class Probe:
    """A paho 5.0 client that records acknowledgements and messages."""

    def __init__(self, port: int, client_id: str, username: str | None) -> None:
        self.acks: dict[int, Any] = {}
        self.messages: list[str] = []
        self.ready = threading.Event()
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.paho.username_pw_set(username)
        self.paho.on_connect = lambda *_: self.ready.set()
        self.paho.on_publish = lambda c, u, mid, code, p: self.acks.__setitem__(mid, code)
        self.paho.on_subscribe = lambda c, u, mid, codes, p: self.acks.__setitem__(mid, codes[0])
        self.paho.on_message = lambda c, u, message: self.messages.append(message.topic)
        self.paho.connect("127.0.0.1", port)
        self.paho.loop_start()
        assert self.ready.wait(5), f"{client_id} could not connect"

    def answer(self, mid: int) -> Any:
        """Wait for the acknowledgement of a packet."""
        deadline = time.monotonic() + 5
        while mid not in self.acks:
            assert time.monotonic() < deadline, "no acknowledgement"
            time.sleep(0.005)
        return self.acks[mid]

    def close(self) -> None:
        """Disconnect."""
        self.paho.disconnect()
        self.paho.loop_stop()


def ask_mosquitto(port: int, case: Case) -> bool:
    """What mosquitto decides: a refused PUBACK, a refused SUBACK, or no delivery."""
    probe = Probe(port, case.client_id, case.username)
    try:
        if case.action == P:
            return bool(probe.answer(probe.paho.publish(case.topic, b"m", qos=1).mid) != 0x87)
        subscribed = probe.paho.subscribe(case.topic, qos=1)[1]
        assert subscribed is not None
        if case.action == S:
            return bool(probe.answer(subscribed) < 0x80)
        probe.answer(subscribed)
        if not case.topic.startswith("$SYS"):  # $SYS messages are retained: they come
            writer = Probe(port, "acl-writer-1", "acl-writer")
            try:
                sent = writer.answer(writer.paho.publish(case.topic, b"m", qos=1).mid)
                assert sent != 0x87, f"{case}: the writer may not publish the probe message"
            finally:
                writer.close()
        time.sleep(0.15)
        return case.topic in probe.messages
    finally:
        probe.close()


@pytest.fixture(scope="module")
def mosquitto_decisions(tmp_path_factory: pytest.TempPathFactory) -> dict[Case, bool]:
    workdir = tmp_path_factory.mktemp("acl")
    decisions = {}
    for name, text in FILES.items():
        path = workdir / f"{name}.acl"
        path.write_text(text + (WRITER if name != "empty" else ""), encoding="utf-8")
        with mosquitto(workdir, "allow_anonymous true", f"acl_file {path}") as port:
            for case in CASES:
                if case.file == name:
                    decisions[case] = ask_mosquitto(port, case)
    return decisions


def test_there_are_enough_cases_and_both_answers_occur() -> None:
    assert len(CASES) >= 60
    assert len(set(CASES)) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_decides_as_mosquitto(case: Case, mosquitto_decisions: dict[Case, bool]) -> None:
    text = FILES[case.file] + (WRITER if case.file != "empty" else "")
    ours = AclFile.parse(text).allows(case.client_id, case.username, case.topic, case.action)
    assert ours == mosquitto_decisions[case]


def test_answers_vary(mosquitto_decisions: dict[Case, bool]) -> None:
    answers = list(mosquitto_decisions.values())
    assert answers.count(True) >= 20
    assert answers.count(False) >= 20


@pytest.fixture
def acl_path(tmp_path: Path) -> Path:
    path = tmp_path / "acl"
    path.write_text(FILES["users-and-patterns"], encoding="utf-8")
    return path


def test_file_auth_authorizes_with_the_acl_and_reloads_it(acl_path: Path) -> None:
    auth = FileAuth(acl_file=acl_path, allow_anonymous=True)
    alice = AuthCredentials("alice-phone", username="alice")
    assert auth.authorize(alice, "alice/x", Action.PUBLISH) is True
    assert auth.authorize(alice, "bob/x", Action.PUBLISH) is False
    assert auth.authenticate(alice) is True  # no password file: as mosquitto
    acl_path.write_text("topic\n", encoding="utf-8")
    with pytest.raises(AuthorizationError, match="line 1"):
        auth.reload()
    assert auth.authorize(alice, "alice/x", Action.PUBLISH) is True
    acl_path.write_text("user alice\ntopic read alice/#\n", encoding="utf-8")
    auth.reload()
    assert auth.authorize(alice, "alice/x", Action.PUBLISH) is False
    assert auth.authorize(alice, "alice/x", Action.RECEIVE) is True


def test_bad_acl_lines_are_each_named() -> None:
    with pytest.raises(AuthorizationError) as raised:
        AclFile.parse("topic read a/#\nfrobnicate x\ntopic a/#/b\nuser\ntopic write\n")
    message = str(raised.value)
    for expected in ("line 2: unknown keyword", "line 3:", "line 4:", "line 5:"):
        assert expected in message
