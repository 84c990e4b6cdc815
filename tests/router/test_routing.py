"""The scripted routing conversations (``tests/routing/*.route``) through the Python
binding: real engines, the router with engines attached, facts applied to a model
store, ``restart`` building a new router from it. ``tests/routing.rs`` runs the same
files in Rust; the format is in ``tests/routing/README.md``."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mqtt_common.models import Message, PublishProperties, Subscription
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.packets import (
    Connect,
    Disconnect,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
)
from mqtt_common.protocol import Closed, ConnectRequest, Delivered, Discarded, ServerConnection
from mqtt_common.router import Fact, Routed, Router
from mqtt_common.src.session import Session, Will
from mqtt_common.utils.codec import Decoder, encode

ROUTES = Path(__file__).resolve().parent.parent / "routing"
EPOCH = 1_700_000_000.0


@dataclass
class Script:
    """One conversation: its name and its numbered lines."""

    file: str
    name: str
    lines: list[tuple[int, str]] = field(default_factory=list)


def scripts() -> list[Script]:
    """Every conversation of every ``.route`` file."""
    found: list[Script] = []
    for path in sorted(ROUTES.glob("*.route")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.split("  #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("== "):
                found.append(Script(path.name, line[3:].strip()))
            else:
                found[-1].lines.append((number, line))
    return found


def number(text: str) -> int:
    """A decimal or ``0x`` hex number."""
    return int(text, 16) if text.startswith("0x") else int(text)


def words(text: str) -> tuple[list[str], dict[str, str]]:
    """The plain words of a line, and its ``key=value`` ones."""
    plain = [w for w in text.split() if "=" not in w]
    named = dict(w.split("=", 1) for w in text.split() if "=" in w)
    return plain, named


@dataclass
class Link:
    """A client's connection: its engine and what it received."""

    engine: ServerConnection
    decoder: Decoder
    received: deque[Any] = field(default_factory=deque)
    unacknowledged: list[tuple[int, int]] = field(default_factory=list)


class Store:
    """What the stores hold: the router's facts, applied."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.wills: dict[str, Will] = {}
        self.subscriptions: dict[str, dict[str, Subscription]] = {}
        self.queues: dict[str, dict[int, tuple[Message, float]]] = {}
        self.retained: dict[str, tuple[Message, float]] = {}

    def apply(self, fact: Fact) -> None:
        """Apply one fact."""
        client = fact.client_id or ""
        if fact.kind == "retained":
            assert fact.message is not None
            assert fact.at is not None
            self.retained[fact.message.topic] = (fact.message, fact.at)
        elif fact.kind == "retained_cleared":
            self.retained.pop(fact.topic or "", None)
        elif fact.kind == "subscribed":
            assert fact.subscription is not None
            self.subscriptions.setdefault(client, {})[fact.subscription.topic_filter] = (
                fact.subscription
            )
        elif fact.kind == "unsubscribed":
            self.subscriptions.get(client, {}).pop(fact.topic_filter or "", None)
        elif fact.kind == "queued":
            assert fact.message is not None
            assert fact.seq is not None
            assert fact.at is not None
            self.queues.setdefault(client, {})[fact.seq] = (fact.message, fact.at)
        elif fact.kind == "dequeued":
            self.queues.get(client, {}).pop(fact.seq or 0, None)
        elif fact.kind == "session":
            assert fact.session is not None
            self.sessions[client] = fact.session
        elif fact.kind == "will":
            if fact.will is None:
                self.wills.pop(client, None)
            else:
                self.wills[client] = fact.will
        else:
            assert fact.kind == "session_ended"
            for table in (self.sessions, self.wills, self.subscriptions, self.queues):
                table.pop(client, None)


class Runner:
    """Drives clients, the router and the clock through one script."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}
        self.router = Router()
        self.store = Store()
        self.links: dict[int, Link] = {}
        self.now = EPOCH
        self.happened: deque[str] = deque()
        self.matched: bool | None = None
        self.reason: int | None = None
        self.codes: list[int] = []
        self.connected: tuple[str, int | bool] | None = None

    @property
    def clock(self) -> float:
        """The engines' clock: seconds since the script's start."""
        return self.now - EPOCH

    def act(self, routed: Routed) -> None:
        """Carry out a router's answer as a broker without authorization would."""
        for fact in routed.facts:
            self.store.apply(fact)
        for client_id in routed.dropped:
            self.happened.append(f"dropped {client_id}")
        for out in routed.retained:
            self.router.deliver(out, self.clock)
            self.read(out.connection)
        for connection in routed.touched:
            self.read(connection)
        for client_id, _owner, message in routed.wills:
            self.happened.append(f"will {client_id} {message.topic}")
            self.act(self.router.publish(message, self.now, self.clock, publisher=client_id))

    def read(self, connection: int) -> None:
        """Decode what an engine wrote since the last look."""
        link = self.links.get(connection)
        if link is None:
            return
        for packet in link.decoder.feed(link.engine.data_to_send()):
            if isinstance(packet, Publish) and packet.packet_id is not None:
                link.unacknowledged.append((packet.packet_id, int(packet.qos)))
            link.received.append(packet)

    def feed(self, connection: int, packets: list[Any]) -> None:
        """Send a client's packets; settle and close as a broker would."""
        link = self.links[connection]
        version = int(link.engine.protocol_version or 5)
        events: list[Any] = []
        for packet in packets:
            events += link.engine.receive_data(encode(packet, version), self.clock)
        self.events(connection, events)

    def events(self, connection: int, events: list[Any]) -> None:
        """Act on an engine's events."""
        for event in events:
            if isinstance(event, Delivered):
                if event.tag is not None:
                    self.act(self.router.settled(connection, event.tag))
            elif isinstance(event, Discarded):
                self.act(self.router.settled(connection, event.tag))
            elif isinstance(event, Closed):
                self.links.pop(connection, None)
                self.act(self.router.closed(connection, event, self.now, self.clock))
            else:
                pytest.fail(f"an unexpected event {event!r}")
        self.read(connection)

    def step(self, line: str) -> None:  # noqa: PLR0912  (one branch per step)
        """Run one line of a script."""
        command, _, rest = line.partition(" ")
        plain, named = words(rest)
        if command == "config":
            self.options = {key: value for key, value in named.items()}
            for key in (
                "max_queued_messages",
                "max_retained_messages",
                "max_retained_bytes",
                "max_connections",
            ):
                if key in self.options:
                    self.options[key] = number(self.options[key])
            self.router = Router(**self.options)
        elif command == "at":
            self.now = EPOCH + number(rest.strip())
        elif command == "timeout":
            self.now = EPOCH + number(rest.strip())
            self.act(self.router.handle_timeout(self.now, self.clock))
        elif command == "deadline":
            got = self.router.next_deadline()
            want = None if rest.strip() == "none" else EPOCH + number(rest.strip())
            assert got == want, (got, want)
        elif command == "connect":
            self.connect(plain, named)
        elif command == "publish":
            publisher = None if plain[0] == "-" else plain[0]
            message = message_of(plain[1], plain[2], named)
            receivers = named["allowed"].split(",") if "allowed" in named else None
            routed = self.router.publish(
                message, self.now, self.clock, publisher=publisher, receivers=receivers
            )
            self.matched = routed.matched
            self.reason = routed.reason_code
            self.act(routed)
        elif command == "subscribe":
            refused = [number(named["refused"])] if "refused" in named else None
            routed = self.router.subscribe(
                number(plain[0]), [subscription_of(plain[1], named)], self.now, refused=refused
            )
            self.codes = [int(code) for code in routed.reason_codes]
            self.act(routed)
        elif command == "unsubscribe":
            routed = self.router.unsubscribe(number(plain[0]), [plain[1]])
            self.codes = [int(code) for code in routed.reason_codes]
            self.act(routed)
        elif command == "ack":
            self.acknowledge(number(plain[0]))
        elif command == "lost":
            connection = number(plain[0])
            closed = self.links[connection].engine.connection_lost()
            assert closed is not None
            self.events(connection, [closed])
        elif command == "disconnect":
            properties = (
                {"session_expiry_interval": number(named["expiry"])} if "expiry" in named else None
            )
            code = ReasonCode.DISCONNECT_WITH_WILL_MESSAGE if named.get("will") == "1" else 0
            self.feed(number(plain[0]), [Disconnect(code, properties=properties)])
        elif command == "restart":
            self.restart()
        elif command == "present":
            assert self.connected == ("present", rest.strip() == "1"), self.connected
        elif command == "takeover":
            assert self.connected == ("takeover", number(rest.strip())), self.connected
        elif command == "matched":
            assert self.matched == (rest.strip() == "1")
        elif command == "reason":
            assert self.reason == (None if rest.strip() == "none" else number(rest.strip()))
        elif command == "bounds":

            def bound(key: str) -> int | None:
                value = named.get(key, "none")
                return None if value == "none" else number(value)

            self.router.set_bounds(
                max_retained_messages=bound("max_retained_messages"),
                max_retained_bytes=bound("max_retained_bytes"),
                max_connections=bound("max_connections"),
            )
        elif command == "refusal":
            refusal = self.router.connection_refusal(plain[0])
            assert refusal == (None if plain[1] == "none" else number(plain[1])), refusal
        elif command == "stats":
            stats = self.router.stats()
            for key, value in named.items():
                assert stats[key] == number(value), (key, stats[key], value)
        elif command == "codes":
            assert self.codes == [number(c.strip()) for c in rest.split(",")]
        elif command == "got":
            self.got(plain, named)
        elif command == "nothing":
            link = self.links[number(plain[0])]
            publishes = [p for p in link.received if isinstance(p, Publish)]
            assert publishes == [], publishes
        elif command == "tally":
            connections, _, alternatives = rest.partition("=")
            counts = ",".join(
                str(sum(isinstance(p, Publish) for p in self.links[number(c)].received))
                for c in connections.split()
            )
            assert counts in [a.strip() for a in alternatives.split("|")], counts
        elif command in {"will", "dropped"}:
            happened = self.happened.popleft() if self.happened else None
            assert happened == line, (happened, line)
        elif command == "stored":
            self.stored(plain)
        else:
            pytest.fail(f"unknown step {command!r}")

    def connect(self, plain: list[str], named: dict[str, str]) -> None:
        """A client connects: a real CONNECT through a real engine, then the router."""
        connection, client = number(plain[0]), plain[1]
        version = {"3": 3, "4": 4}.get(named.get("v", "5"), 5)
        will = None
        if "will" in named:
            will = Will(
                Message(
                    named["will"],
                    named.get("will_payload", "gone").encode(),
                    qos=number(named.get("will_qos", "1")),
                ),
                number(named.get("will_delay", "0")),
            )
        properties = (
            {"session_expiry_interval": number(named["expiry"])}
            if version == 5 and "expiry" in named
            else None
        )
        packet = Connect(
            "" if client == "-" else client,
            protocol_version=version,
            clean_start=named.get("clean") != "0",
            username=named.get("user"),
            will=will,
            properties=properties,
        )
        engine = ServerConnection(now=self.clock)
        [request] = engine.receive_data(encode(packet, version), self.clock)
        assert isinstance(request, ConnectRequest)
        client_id = self.router.assign_client_id() if request.needs_client_id else client
        connected = self.router.connect(
            connection, request, client_id, request.credentials, self.now
        )
        if connected.take_over is not None:
            self.connected = ("takeover", connected.take_over)
            return
        assert connected.session is not None
        self.connected = ("present", connected.session_present)
        for fact in connected.facts:
            self.store.apply(fact)
        events = engine.accept(
            connected.session,
            session_present=connected.session_present,
            assigned_client_id=client_id if request.needs_client_id else None,
        )
        assert events == []
        decoder = Decoder(version, direction="from_server", topic_alias_maximum=65535)
        self.links[connection] = Link(engine, decoder)
        self.read(connection)
        self.act(self.router.attach(connection, engine, self.clock))

    def acknowledge(self, connection: int) -> None:
        """The client acknowledges every PUBLISH it got and completes QoS 2 flows."""
        for _ in range(8):
            link = self.links[connection]
            packets: list[Any] = [
                Pubrec(packet_id) if qos == 2 else Puback(packet_id)
                for packet_id, qos in link.unacknowledged
            ]
            link.unacknowledged.clear()
            packets += [Pubcomp(p.packet_id) for p in link.received if isinstance(p, Pubrel)]
            link.received = deque(p for p in link.received if not isinstance(p, Pubrel))
            if not packets:
                return
            self.feed(connection, packets)

    def got(self, plain: list[str], named: dict[str, str]) -> None:
        """The next PUBLISH a connection got is this one."""
        link = self.links[number(plain[0])]
        while link.received and not isinstance(link.received[0], Publish):
            link.received.popleft()
        assert link.received, "got nothing"
        publish = link.received.popleft()
        assert (publish.topic, publish.payload.decode()) == (plain[1], plain[2])
        if "qos" in named:
            assert int(publish.qos) == number(named["qos"])
        if "retain" in named:
            assert publish.retain == (named["retain"] == "1")
        if "dup" in named:
            assert publish.dup == (named["dup"] == "1")
        properties = publish.properties or PublishProperties()
        if "expiry" in named:
            got = properties.message_expiry_interval
            assert ("none" if got is None else str(got)) == named["expiry"]
        if "ids" in named:
            ids = ",".join(str(i) for i in properties.subscription_identifiers) or "none"
            assert ids == named["ids"]

    def stored(self, plain: list[str]) -> None:
        """What the model store holds."""
        kind, key, want = plain
        store = self.store
        if kind == "queue":
            got = str(len(store.queues.get(key, {})))
        elif kind == "session":
            got = "yes" if key in store.sessions else "no"
        elif kind == "will":
            will = store.wills.get(key)
            got = "none" if will is None else will.message.topic
        elif kind == "retained":
            kept = store.retained.get(key)
            got = "none" if kept is None else kept[0].payload.decode()
        else:
            assert kind == "subscriptions"
            got = ",".join(sorted(store.subscriptions.get(key, {}))) or "none"
        assert got == want, (kind, key, got, want)

    def restart(self) -> None:
        """A crash: every connection gone; a new router takes the facts back."""
        self.links.clear()
        self.router = Router(**self.options)
        for client_id, session in self.store.sessions.items():
            queue = [
                (seq, message, at)
                for seq, (message, at) in sorted(self.store.queues.get(client_id, {}).items())
            ]
            subscriptions = list(self.store.subscriptions.get(client_id, {}).values())
            self.act(
                self.router.restore_session(
                    session, self.store.wills.get(client_id), subscriptions, queue, self.now
                )
            )
        for message, at in self.store.retained.values():
            self.router.restore_retained(message, at)
        self.act(self.router.handle_timeout(self.now, self.clock))


def message_of(topic: str, payload: str, named: dict[str, str]) -> Message:
    """The message of a ``publish`` step."""
    qos = number(named.get("qos", "0"))
    properties = (
        PublishProperties(message_expiry_interval=number(named["expiry"]))
        if "expiry" in named
        else None
    )
    return Message(
        topic,
        b"" if payload == "-" else payload.encode(),
        qos=qos,
        retain=named.get("retain") == "1",
        message_id=1 if qos else None,
        properties=properties,
    )


def subscription_of(topic_filter: str, named: dict[str, str]) -> Subscription:
    """The subscription of a ``subscribe`` step."""
    return Subscription(
        topic_filter,
        qos=number(named.get("qos", "0")),
        no_local=named.get("nl") == "1",
        retain_as_published=named.get("rap") == "1",
        retain_handling=number(named.get("rh", "0")),
        subscription_id=number(named["id"]) if "id" in named else None,
    )


SCRIPTS = scripts()


def test_there_are_enough_scripts() -> None:
    assert len(SCRIPTS) >= 40


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: f"{s.file}:{s.name}")
def test_routing_conversation(script: Script) -> None:
    runner = Runner()
    for number_, line in script.lines:
        try:
            runner.step(line)
        except AssertionError as err:
            raise AssertionError(f"{script.file}:{number_}: `{line}`: {err}") from err
    assert not runner.happened, f"not checked: {list(runner.happened)}"


def test_the_router_assigns_unique_ids() -> None:
    router = Router()
    ids = {router.assign_client_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("auto-") and len(i) == 41 for i in ids)
    assert time.time() > EPOCH
