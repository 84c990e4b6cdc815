"""The scripted conversations of ``tests/conversations/*.conv``, through the Python API.

``tests/conversations.rs`` runs the same files through the Rust API, so both languages
answer every conversation with the same bytes and events. The format is described in
``tests/conversations/README.md``.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mqtt_common.models import Message, PublishProperties, Subscription
from mqtt_common.models.errors import MQTTError
from mqtt_common.protocol import (
    AuthStep,
    Closed,
    ConnectRequest,
    Delivered,
    Discarded,
    Event,
    ServerConfig,
    ServerConnection,
    SubscribeRequest,
    UnsubscribeRequest,
)
from mqtt_common.src.session import Session
from mqtt_common.utils.topic import merge_overlapping

DIRECTORY = Path(__file__).resolve().parent.parent / "conversations"


@dataclass
class Conversation:
    """One ``== name`` block of a file."""

    file: str
    name: str
    lines: list[tuple[int, str]] = field(default_factory=list)


def conversations() -> list[Conversation]:
    """Every conversation of every ``.conv`` file, in file order."""
    found: list[Conversation] = []
    for path in sorted(DIRECTORY.glob("*.conv")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("== "):
                found.append(Conversation(path.name, line[3:].strip()))
            else:
                found[-1].lines.append((number, line))
    return found


def bytes_of(text: str) -> bytes:
    """``10 0e | 00 04 "MQTT"``: hex pairs, quoted ASCII, ``|`` for the eye."""
    out = bytearray()
    for quoted, token in re.findall(r'"([^"]*)"|(\S+)', text):
        if quoted or token == "":
            out += quoted.encode("ascii")
        elif token != "|":
            out += bytes.fromhex(token)
    return bytes(out)


def number(text: str) -> int:
    """A decimal or ``0x`` hex number."""
    return int(text, 16) if text.startswith("0x") else int(text)


def arguments(text: str) -> dict[str, str]:
    """``key=value`` pairs."""
    return dict(pair.split("=", 1) for pair in text.split() if "=" in pair)


CONFIG_FLAGS = {
    "retain_available",
    "wildcard_subscription_available",
    "subscription_identifiers_available",
    "shared_subscription_available",
    "hold_acknowledgements",
}


def config_of(args: dict[str, str]) -> ServerConfig:
    """A ServerConfig from ``config`` arguments."""
    values: dict[str, object] = {
        key: number(value) != 0 if key in CONFIG_FLAGS else number(value)
        for key, value in args.items()
    }
    return ServerConfig(**values)  # type: ignore[arg-type]  # values are int or bool


class Runner:
    """Drives one ServerConnection through a conversation."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.connection = ServerConnection(config, now=0.0)
        self.events: deque[Event] = deque()
        self.now = 0.0
        self.saved: Session | None = None
        self.request: ConnectRequest | None = None

    def push(self, events: list[Event] | Closed | None) -> None:
        """Queue events for ``event`` steps, remembering the CONNECT and the session."""
        if events is None:
            return
        for event in events if isinstance(events, list) else [events]:
            if isinstance(event, ConnectRequest):
                self.request = event
            if isinstance(event, Closed) and event.session is not None:
                self.saved = event.session
            self.events.append(event)

    def step(self, line: str) -> None:
        """Run one line; ``call -> ErrorClass`` expects the call to raise that class."""
        call, _, expected = line.partition(" -> ")
        command, _, rest = call.strip().partition(" ")
        if not expected:
            self.run(command, rest)
            return
        with pytest.raises(MQTTError) as raised:
            self.run(command, rest)
        assert type(raised.value).__name__ == expected.strip(), raised.value

    def run(self, command: str, rest: str) -> None:  # noqa: PLR0912
        """One step of the format."""
        args = arguments(rest)
        connection = self.connection
        if command == "at":
            self.now = float(rest)
        elif command == "client":
            self.push(connection.receive_data(bytes_of(rest), self.now))
        elif command == "server":
            assert connection.data_to_send().hex(" ") == bytes_of(rest).hex(" ")
        elif command == "event":
            assert self.events, f"no event; expected {rest}"
            check_event(rest.split(maxsplit=1)[0], args, self.events.popleft())
        elif command == "no-events":
            assert not self.events, self.events
        elif command == "phase":
            assert connection.phase == rest.strip().replace("-", "_")
        elif command == "deadline":
            want = None if rest.strip() == "none" else float(rest)
            assert connection.next_deadline() == want
        elif command == "timeout":
            self.now = float(rest)
            self.push(connection.handle_timeout(self.now))
        elif command == "reconnect":
            self.connection = ServerConnection(self.config, now=self.now)
            self.events.clear()
        elif command == "lost":
            self.push(connection.connection_lost())
        elif command == "accept":
            auth_data = args["auth_data"].encode() if "auth_data" in args else None
            events = connection.accept(
                self.session_for(args),
                session_present=args.get("present") == "1",
                assigned_client_id=args.get("assigned"),
                authentication_data=auth_data,
            )
            self.push(events)
        elif command == "refuse":
            self.push(connection.refuse(number(args["reason"])))
        elif command == "disconnect":
            self.push(connection.disconnect(number(args.get("reason", "0"))))
        elif command == "auth-continue":
            connection.auth_continue(data_of(args))
        elif command == "auth-success":
            connection.auth_success(data_of(args))
        elif command == "publish-reason":
            connection.set_publish_reason(number(args["id"]), number(args["reason"]))
        elif command in {"answer-subscribe", "answer-unsubscribe"}:
            codes = [number(c) for c in args.get("codes", "").split(",") if c]
            answer = (
                connection.answer_subscribe
                if command == "answer-subscribe"
                else connection.answer_unsubscribe
            )
            self.push(answer(number(args["id"]), codes))
        elif command == "release":
            connection.release_acknowledgements(connection.acknowledgement_mark())
        elif command == "deliver":
            message, route = delivery(args)
            tag = number(args["tag"]) if "tag" in args else None
            outcome = connection.deliver(
                message, route, self.now, retained=args.get("retained") == "1", tag=tag
            )
            assert outcome == args.get("outcome", "sent")
        else:
            pytest.fail(f"unknown step {command!r}")

    def session_for(self, args: dict[str, str]) -> Session:
        """The session ``accept`` takes: the saved one, or a new one for the CONNECT."""
        if args.get("session") == "saved":
            assert self.saved is not None, "no saved session"
            return self.saved
        assert self.request is not None, "accept before any CONNECT"
        return Session(
            args.get("assigned", self.request.client_id),
            self.request.protocol_version,
            clean_start=self.request.clean_start,
            expiry_interval=self.request.session_expiry_interval,
        )


def data_of(args: dict[str, str]) -> bytes | None:
    """``data=TEXT`` as bytes, or None."""
    return args["data"].encode() if "data" in args else None


def delivery(args: dict[str, str]) -> tuple[Message, Subscription]:
    """The message and the route of a ``deliver`` step."""
    properties = None
    if "expiry" in args:
        properties = PublishProperties(message_expiry_interval=number(args["expiry"]))
    message = Message(
        args.get("topic", "t"),
        args.get("payload", "").encode(),
        qos=number(args.get("qos", "0")),
        retain=args.get("retain") == "1",
        properties=properties,
    )
    route = Subscription(
        "#",
        qos=number(args.get("sub_qos", "2")),
        subscription_id=number(args["sub_id"]) if "sub_id" in args else None,
        retain_as_published=args.get("rap") == "1",
    )
    return message, route


def check_event(kind: str, args: dict[str, str], event: Event) -> None:
    """The event is of this kind and has these fields."""
    classes: dict[str, type] = {
        "connect": ConnectRequest,
        "auth": AuthStep,
        "message": Message,
        "subscribe": SubscribeRequest,
        "unsubscribe": UnsubscribeRequest,
        "delivered": Delivered,
        "discarded": Discarded,
        "closed": Closed,
    }
    assert isinstance(event, classes[kind]), event
    if isinstance(event, ConnectRequest):
        checks: dict[str, object] = {
            "client_id": event.client_id,
            "version": int(event.protocol_version),
            "clean_start": int(event.clean_start),
            "keep_alive": event.keep_alive,
            "needs_client_id": int(event.needs_client_id),
            "session_expiry": event.session_expiry_interval,
            "will": event.will.message.topic if event.will else "none",
            "username": event.username or "none",
            "auth_method": event.authentication_method or "none",
        }
    elif isinstance(event, AuthStep):
        checks = {
            "reason": int(event.reason_code),
            "data": (event.authentication_data or b"").decode(),
        }
    elif isinstance(event, Message):
        checks = {
            "topic": event.topic,
            "payload": event.payload.decode(),
            "qos": int(event.qos),
            "retain": int(event.retain),
            "id": event.message_id or 0,
        }
    elif isinstance(event, SubscribeRequest):
        checks = {
            "id": event.packet_id,
            "filters": ",".join(f"{s.topic_filter}@{int(s.qos)}" for s in event.subscriptions),
        }
    elif isinstance(event, UnsubscribeRequest):
        checks = {"id": event.packet_id, "filters": ",".join(event.topic_filters)}
    elif isinstance(event, Delivered):
        checks = {"id": event.packet_id, "tag": "none" if event.tag is None else str(event.tag)}
    elif isinstance(event, Discarded):
        checks = {"tag": event.tag}
    else:
        assert isinstance(event, Closed)
        checks = {
            "by": event.initiator,
            "reason": int(event.reason_code),
            "error": "none" if event.error is None else (event.error.spec_ref or "no-rule"),
            "will": event.will.message.topic if event.will else "none",
            "will_delay": event.will_delay,
            "session_expiry": event.session_expiry_interval,
            "undelivered": len(event.undelivered),
        }
    for key, want in args.items():
        got = checks[key]
        if isinstance(got, int):
            assert got == number(want), (key, got, want)
        else:
            assert got == want.strip('"'), (key, got, want)


ALL = conversations()


def test_there_are_conversations_for_each_version() -> None:
    files = {conversation.file for conversation in ALL}
    assert {"v31.conv", "v311.conv", "v5.conv", "full_session.conv"} <= files


@pytest.mark.parametrize("conversation", ALL, ids=[f"{c.file}: {c.name}" for c in ALL])
def test_conversation(conversation: Conversation) -> None:
    lines = list(conversation.lines)
    config = ServerConfig()
    if lines and lines[0][1].startswith("config"):
        config = config_of(arguments(lines.pop(0)[1]))
    runner = Runner(config)
    for number_, line in lines:
        try:
            runner.step(line)
        except AssertionError as failure:
            pytest.fail(f"line {number_}: {line}\n{failure}")
    assert not runner.events, f"events nobody expected: {list(runner.events)}"


def test_a_delivery_of_merged_subscriptions_routes_like_a_subscription() -> None:
    connection = ServerConnection(now=0.0)
    connection.receive_data(b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1", 0.0)
    connection.accept(Session("c1", 4))
    connection.data_to_send()
    exact, wildcard = Subscription("a/b", qos=0), Subscription("a/+", qos=1)
    [merged] = merge_overlapping([("c1", exact), ("c1", wildcard)])
    assert connection.deliver(Message("a/b", b"hi", qos=2), merged, 0.0) == "sent"
    assert connection.deliver(Message("a/b", b"hi", qos=2), wildcard, 0.0) == "sent"
    # Both at QoS 1, the higher of the two subscriptions', with identifiers 1 and 2.
    assert connection.data_to_send() == (
        b"\x32\x09\x00\x03a/b\x00\x01hi" + b"\x32\x09\x00\x03a/b\x00\x02hi"
    )
