"""Robustness of the reference broker under hostile and careless clients.

``python tests/reference_broker/chaos.py [--clients 200] [--seconds 30]`` (``./dev.sh
chaos``) starts the broker as a program and, for the given time, runs:

* clients that connect (3.1.1 or 5.0), publish QoS 1 messages, and disconnect or drop
  their connection at random;
* an auditor with a persistent session, subscribed at QoS 1, that drops and resumes its
  session at random: it must end up with every message a publisher had acknowledged;
* a client that sends garbage, one that sends half a packet and stalls, one that never
  reads what it is sent (the broker must disconnect it), one that connects in a loop.

Afterwards the broker must still serve a new client, have disconnected the non-reader,
and its memory (RSS) must be back near where it started. The test suite runs a short
version (``test_robustness.py``); this command is the full run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mqtt_common.models import Subscription
from mqtt_common.models.packets import (
    Connect,
    Disconnect,
    Puback,
    Publish,
    Subscribe,
)
from mqtt_common.utils.codec import Decoder, encode
from reference_broker.support import broker_process

TOPIC = "chaos"
#: How much the broker may keep over its warm baseline after the run (caches, freelists).
MEMORY_SLACK_KIB = 16 * 1024
AUDITOR = "auditor"


@dataclass
class Report:
    """What happened, for the checks."""

    acknowledged: set[str] = field(default_factory=set)
    received: set[str] = field(default_factory=set)
    connections: int = 0
    published: int = 0
    drops: int = 0
    loop_connections: int = 0
    never_reader_disconnected: bool = False
    errors: list[str] = field(default_factory=list)


def rss_kib(pid: int) -> int:
    """Return a process's resident memory in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Raw:
    """A minimal MQTT client on a raw socket, built on mqtt_common's codec."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.decoder = Decoder(version, direction="from_server")
        self.pending: deque[object] = deque()
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def connect(
        self, port: int, client_id: str, *, clean: bool = True, expiry: int = 0
    ) -> bool:
        """Connect; return the CONNACK's session present flag."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        properties = {"session_expiry_interval": expiry} if self.version == 5 and expiry else None
        connect = Connect(
            client_id,
            protocol_version=self.version,
            clean_start=clean,
            keep_alive=30,
            properties=properties,
        )
        self.writer.write(encode(connect, self.version))
        connack = await self.next_packet()
        return bool(getattr(connack, "session_present", False))

    async def next_packet(self) -> object:
        """Return the next packet, reading until one is complete."""
        while not self.pending:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed")
            self.pending.extend(self.decoder.feed(data))
        return self.pending.popleft()

    def drop(self) -> None:
        """Close without DISCONNECT."""
        self.writer.transport.abort()

    async def leave(self) -> None:
        """Disconnect normally."""
        self.writer.write(encode(Disconnect(), self.version))
        await self.writer.drain()
        self.writer.close()


async def publisher(port: int, serial: int, deadline: float, report: Report) -> None:
    """Connect, publish QoS 1, leave or drop; again and again until the deadline."""
    rng = random.Random(serial)
    round_ = 0
    while time.monotonic() < deadline:
        round_ += 1
        version = rng.choice((4, 5))
        client = Raw(version)
        try:
            await client.connect(port, f"pub-{serial}")
            report.connections += 1
            for n in range(rng.randint(1, 20)):
                mark = f"{serial}/{round_}/{n}"
                publish = Publish(TOPIC, mark.encode(), qos=1, packet_id=n + 1)
                client.writer.write(encode(publish, version))
                report.published += 1
                ack = await asyncio.wait_for(client.next_packet(), 10)
                if isinstance(ack, Puback) and ack.packet_id == n + 1:
                    report.acknowledged.add(mark)
            if rng.random() < 0.5:
                client.drop()
                report.drops += 1
            else:
                await client.leave()
        except (TimeoutError, ConnectionError, OSError) as err:
            report.errors.append(f"publisher {serial}: {err!r}")
        await asyncio.sleep(rng.random() * 0.05)


async def auditor(port: int, ready: asyncio.Event, done: asyncio.Event, report: Report) -> None:
    """A persistent QoS 1 subscriber that drops and resumes until the publishers are done,
    then resumes once more and reads until its session has nothing left."""
    rng = random.Random(7)
    subscribed = False
    while True:
        final = done.is_set()
        client = Raw(4)
        await client.connect(port, AUDITOR, clean=False)
        if not subscribed:
            client.writer.write(encode(Subscribe(1, [Subscription(TOPIC, qos=1)]), 4))
            await client.next_packet()  # SUBACK
            subscribed = True
            ready.set()  # from now on its session holds every message
        quiet_until = time.monotonic() + (1.0 if final else rng.random())
        while True:
            try:
                packet = await asyncio.wait_for(
                    client.next_packet(), max(0.01, quiet_until - time.monotonic())
                )
            except TimeoutError:
                break
            if isinstance(packet, Publish):
                report.received.add(packet.payload.decode())
                if packet.packet_id is not None:
                    client.writer.write(encode(Puback(packet.packet_id), 4))
            if final:
                quiet_until = time.monotonic() + 1.0  # stop after a quiet second
        if final:
            await client.leave()
            return
        client.drop()  # its session holds what comes meanwhile


async def misbehaving(port: int, deadline: float, report: Report) -> None:
    """Garbage, half a packet, a client that never reads, a reconnect loop."""

    async def garbage() -> None:
        rng = random.Random(3)
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(rng.randbytes(rng.randint(1, 200)))
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.transport.abort()
            except OSError:
                pass

    async def half_packet() -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x10\x0e\x00")  # the start of a CONNECT, then nothing
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        writer.transport.abort()

    async def never_reads() -> None:
        client = Raw(4)
        await client.connect(port, "never-reads")
        client.writer.write(encode(Subscribe(1, [Subscription(f"{TOPIC}/big", qos=0)]), 4))
        # Stop reading: the socket buffers fill, then the broker's write buffer.
        transport = client.writer.transport
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        client.writer.transport.abort()

    async def flood_for_never_reader() -> None:
        client = Raw(4)
        await client.connect(port, "flood")
        payload = bytes(60_000)
        while time.monotonic() < deadline:
            client.writer.write(encode(Publish(f"{TOPIC}/big", payload), 4))
            await client.writer.drain()
            await asyncio.sleep(0.001)
        await client.leave()

    async def reconnect_loop() -> None:
        while time.monotonic() < deadline and report.loop_connections < 1000:
            client = Raw(5)
            try:
                await client.connect(port, "looper")
                await client.leave()
                report.loop_connections += 1
            except OSError as err:
                report.errors.append(f"looper: {err!r}")

    await asyncio.gather(
        garbage(), half_packet(), never_reads(), flood_for_never_reader(), reconnect_loop()
    )


async def still_serving(port: int) -> bool:
    """Return whether a new client can subscribe and get a message back."""
    client = Raw(5)
    await client.connect(port, "late")
    client.writer.write(encode(Subscribe(1, [Subscription("late/x", qos=1)]), 5))
    await client.next_packet()
    client.writer.write(encode(Publish("late/x", b"hello", qos=1, packet_id=1), 5))
    seen = [await asyncio.wait_for(client.next_packet(), 5) for _ in range(2)]
    await client.leave()
    return any(isinstance(p, Publish) and p.payload == b"hello" for p in seen)


async def chaos(port: int, clients: int, seconds: float, report: Report) -> bool:
    """Run everything; return whether the broker still serves afterwards."""
    ready, done = asyncio.Event(), asyncio.Event()
    watching = asyncio.create_task(auditor(port, ready, done, report))
    await ready.wait()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        misbehaving(port, deadline, report),
        *(publisher(port, n, deadline, report) for n in range(clients)),
    )
    done.set()
    await watching
    return await still_serving(port)


def run(
    clients: int, seconds: float, trim_every: float = 10.0
) -> tuple[Report, dict[str, int], bool, str]:
    """Start the broker, run the chaos, and measure; return what the checks need.

    The memory baseline is taken after a short warm-up of the same load: Python's
    allocator keeps the arenas a process has once used, so the question is whether the
    broker grows with the load it has served, not whether it returns memory to the OS.
    """
    report = Report()
    # Every message the auditor's session must hold fits its queue (the bound, 10,000 by
    # default, would otherwise drop the oldest while it is away under this load).
    options = ["--max-unread", str(1 << 20), "--max-queued", "10000000"]
    options += ["--trim-every", str(trim_every)]
    with broker_process(*options) as broker:
        pid = broker.process.pid
        memory = {"at_start": rss_kib(pid)}
        asyncio.run(chaos(broker.port, min(clients, 20), 1.0, Report()))
        time.sleep(1.0)
        memory["baseline"] = rss_kib(pid)
        serving = asyncio.run(chaos(broker.port, clients, seconds, report))
        memory["peak_after"] = rss_kib(pid)
        time.sleep(trim_every + 1.0)  # sessions ended; housekeeping gave memory back
        memory["settled"] = rss_kib(pid)
        output = broker.output()
    report.never_reader_disconnected = "never-reads does not read" in output
    return report, memory, serving, output


def main() -> int:
    """Run the full chaos test and print its figures; exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    report, memory, serving, _ = run(args.clients, args.seconds)
    lost = report.acknowledged - report.received
    print(
        f"{args.clients} clients for {args.seconds:.0f} s: {report.connections} connections, "
        f"{report.published} QoS 1 published, {len(report.acknowledged)} acknowledged, "
        f"{report.drops} dropped connections, {report.loop_connections} reconnect-loop "
        f"connections"
    )
    print(f"acknowledged but not received by the auditor's session: {len(lost)}")
    print(f"non-reader disconnected: {report.never_reader_disconnected}")
    print(f"still serving: {serving}")
    print(
        f"broker RSS: {memory['at_start']} KiB at start, {memory['baseline']} KiB after a "
        f"warm-up, {memory['peak_after']} KiB after the run, {memory['settled']} KiB settled"
    )
    grew = memory["settled"] - memory["baseline"]
    print(f"memory kept after the run: {grew} KiB over the warm baseline")
    ok = not lost and report.never_reader_disconnected and serving and grew < MEMORY_SLACK_KIB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
