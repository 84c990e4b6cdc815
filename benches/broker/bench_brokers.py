"""Our brokers against mosquitto 2.0.11, rumqttd 0.20 and amqtt, in one run, on loopback.

Ours: the reference broker (Python, asyncio) and the tokio broker (``tokio-broker/``).

Run with ``./dev.sh bench`` (or ``python benches/broker/bench_brokers.py [--seconds S]
[--brokers a,b]`` after building the load generator and the tokio broker, and installing
rumqttd: ``./dev.sh bench`` does all three). Each broker runs as its own process pinned
to core 0 (``taskset``), fresh for each scenario, except "tokio-2cores"; the load
generator (Rust, threads and blocking sockets) runs on core 1, and its share of that
core is reported. MQTT 3.1.1, 256-byte payloads:

* fan-in: 8 publishers, 1 subscriber; fan-out: 1 publisher, 8 subscribers; at QoS 0
  and QoS 1 (publishers keep 64 QoS 1 messages in flight). Throughput is what the
  subscribers received per second.
* latency: one publisher at 1,000 messages per second, one subscriber: p50 and p99,
  and the broker's CPU time per message at that rate (``/proc/<pid>/schedstat``).
* memory: the broker's RSS growth with 1,000 idle connections, per connection, counted
  from after one connection came and went (so that what the first one pages in, the
  code it runs, is not counted as every connection's).
* scale: one client subscribes to 100,000 filters, 100 per SUBSCRIBE (the time, the
  cost of the last tenth of the SUBSCRIBE packets against the first, the memory per
  subscription); one client publishes 100,000 retained messages (the rate, the memory
  per message), then a new subscriber to ``r/#`` is sent them (how long, how many in
  30 s).

Reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from reference_broker.support import RedisServer  # noqa: E402

LOAD = ROOT / "target" / "release" / "mqtt_load"
#: The tokio broker (``cargo build --release -p mqtt-tokio-broker``).
TOKIO = ROOT / "target" / "release" / "mqtt-tokio-broker"
#: rumqttd 0.20, the tokio broker Rust users pick today
#: (``cargo install rumqttd --version 0.20.0 --root target/rumqttd``).
RUMQTTD = ROOT / "target" / "rumqttd" / "bin" / "rumqttd"
#: rumqttd's configuration: its defaults, one 3.1.1 listener on loopback.
RUMQTTD_CONFIG = """id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10
[v4.1]
name = "v4-1"
listen = "127.0.0.1:{port}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
"""
#: Filters subscribed and retained messages stored in the scale scenarios.
SCALE = 100_000
SCENARIOS = [
    ("fan-in  QoS 0 (msg/s)", ["fan-in", "--publishers", "8", "--qos", "0"]),
    ("fan-out QoS 0 (msg/s)", ["fan-out", "--subscribers", "8", "--qos", "0"]),
    ("fan-in  QoS 1 (msg/s)", ["fan-in", "--publishers", "8", "--qos", "1"]),
    ("fan-out QoS 1 (msg/s)", ["fan-out", "--subscribers", "8", "--qos", "1"]),
    # The subscriber keeps its session: a broker that stores keeps what it is owed
    # until it acknowledges it (--data-dir, --redis-url).
    (
        "fan-in  QoS 1 kept (msg/s)",
        ["fan-in", "--publishers", "8", "--qos", "1", "--persistent", "1"],
    ),
]


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_listening(port: int, timeout: float = 15.0) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def broker_command(name: str, port: int, workdir: Path, redis_url: str | None = None) -> list[str]:
    """Return the command that starts broker ``name`` on ``port``, pinned to core 0.

    "ours-redis" and "tokio-redis" keep their state in the Redis at ``redis_url``.

    "ours" is the reference broker, "ours-durable" it with ``--data-dir`` (a fresh one),
    as "tokio-durable" is the tokio broker;
    "tokio" is the tokio broker, "tokio-2cores" it on both cores (not pinned: it shares
    core 1 with the load generator); "mosquitto-persist" is mosquitto with
    ``persistence true`` (it saves to disk every 30 s, and at exit).
    """
    if name in {"tokio-redis", "ours-redis"}:
        base = "tokio" if name == "tokio-redis" else "ours"
        command = broker_command(base, port, workdir)
        return [*command, "--redis-url", str(redis_url), "--redis-prefix", f"bench{port}"]
    if name == "tokio-durable":
        data = Path(tempfile.mkdtemp(dir=workdir))
        return [*broker_command("tokio", port, workdir), "--data-dir", str(data)]
    if name in ("tokio", "tokio-2cores"):
        command = [str(TOKIO), "--port", str(port), "--log-level", "warning"]
        if name == "tokio-2cores":
            return command  # both cores, shared with the load generator
    elif name == "rumqttd":
        config = workdir / f"rumqttd-{port}.toml"
        config.write_text(RUMQTTD_CONFIG.format(port=port))
        command = [str(RUMQTTD), "--config", str(config)]
    elif name in ("ours", "ours-durable"):
        command = [sys.executable, str(ROOT / "examples" / "broker"), "--port", str(port)]
        command += ["--log-level", "WARNING"]
        if name == "ours-durable":
            data = Path(tempfile.mkdtemp(dir=workdir))
            command += ["--data-dir", str(data)]
    elif name in ("mosquitto", "mosquitto-persist"):
        config = workdir / f"mosquitto-{port}.conf"
        text = f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        if name == "mosquitto-persist":
            data = Path(tempfile.mkdtemp(dir=workdir))
            text += f"persistence true\npersistence_location {data}/\n"
        config.write_text(text)
        command = [shutil.which("mosquitto") or "mosquitto", "-c", str(config)]
    else:
        config = workdir / "amqtt.yaml"
        config.write_text(
            "listeners:\n  default:\n    type: tcp\n"
            f"    bind: 127.0.0.1:{port}\n"
            "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
            "    allow_anonymous: true\n"
        )
        command = [str(Path(sys.executable).parent / "amqtt"), "-c", str(config)]
    return ["taskset", "-c", "0", *command]


def rss_kib(pid: int) -> int:
    """Return a process's resident memory in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Broker:
    """A broker process for one scenario."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.port = free_port()
        self.redis: RedisServer | None = None
        if name.endswith("-redis"):
            # Its own redis-server (on no core in particular), with every write in the
            # append-only file before Redis answers, as --data-dir syncs each commit.
            self.redis = RedisServer(free_port(), workdir / f"redis-{self.port}")
            self.redis.directory.mkdir(parents=True, exist_ok=True)
            self.redis.start()
        redis_url = self.redis.url if self.redis is not None else None
        self.process = subprocess.Popen(
            broker_command(name, self.port, workdir, redis_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port)
        time.sleep(0.3)

    def stop(self) -> None:
        """Stop it by its process id."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.redis is not None:
            self.redis.kill()


def load(arguments: list[str], port: int, seconds: float) -> dict[str, float]:
    """Run the load generator on core 1; return its last JSON line.

    With it, "load_cpu_percent": the share of a core the generator used.
    """
    command = ["taskset", "-c", "1", str(LOAD), *arguments, "--port", str(port)]
    command += ["--seconds", str(seconds)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    parsed: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    parsed["load_cpu_percent"] = 100 * used / elapsed
    return parsed


def idle_memory(name: str, workdir: Path, connections: int) -> float:
    """Return the broker's RSS growth per idle connection, in KiB (after a warm-up)."""
    broker = Broker(name, workdir)
    try:
        warm_up(broker.port)
        before = rss_kib(broker.process.pid)
        command = ["taskset", "-c", "1", str(LOAD), "idle", "--port", str(broker.port)]
        command += ["--connections", str(connections), "--hold", "8"]
        holder = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None
        line = holder.stdout.readline()  # printed once every connection is made
        if '"connected"' not in line:
            raise RuntimeError("the idle connections were not made")
        time.sleep(1.0)
        after = rss_kib(broker.process.pid)
        holder.wait(timeout=30)
        return (after - before) / connections
    finally:
        broker.stop()


def warm_up(port: int) -> None:
    """Connect one MQTT 3.1.1 client, then disconnect it.

    The broker has then run a connection's code once (paged in, per-thread buffers made).
    """
    body = b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x07warm-up"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(bytes([0x10, len(body)]) + body)
        if client.recv(4)[:1] != b"\x20":
            raise RuntimeError("the warm-up connection was not accepted")
        client.sendall(b"\xe0\x00")  # DISCONNECT
    time.sleep(0.5)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time a process's threads have used, in seconds.

    Nanosecond resolution; every thread counts (the tokio broker and rumqttd work on
    several).
    """
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stats:
                total += int(stats.read().split()[0])
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return total / 1e9


def measure(names: list[str], seconds: float, connections: int) -> dict[str, dict[str, float]]:
    """Run every scenario against every broker; return the figures by row and broker."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        for label, arguments in SCENARIOS:
            for name in names:
                broker = Broker(name, workdir)
                try:
                    result = load(arguments, broker.port, seconds)
                    results.setdefault(label, {})[name] = result["per_second"]
                    if label.startswith("fan-in  QoS 0"):
                        share = result["load_cpu_percent"]
                        results.setdefault("load's CPU, fan-in QoS 0 (%)", {})[name] = share
                except RuntimeError as err:
                    print(f"  {name}, {label.strip()}: {err}", file=sys.stderr)
                    results.setdefault(label, {})[name] = float("nan")
                finally:
                    broker.stop()
        for name in names:
            broker = Broker(name, workdir)
            try:
                cpu_before = cpu_seconds(broker.process.pid)
                result = load(["latency", "--rate", "1000"], broker.port, seconds)
                cpu = cpu_seconds(broker.process.pid) - cpu_before
                results.setdefault("latency p50 (us)", {})[name] = result["p50_us"]
                results.setdefault("latency p99 (us)", {})[name] = result["p99_us"]
                per_message = cpu / max(result["messages"], 1) * 1e6
                results.setdefault("CPU per message (us)", {})[name] = per_message
            finally:
                broker.stop()
            memory = idle_memory(name, workdir, connections)
            results.setdefault("KiB per idle connection", {})[name] = memory
        for name in names:
            if name in ("ours", "tokio", "mosquitto", "rumqttd"):
                for label, figure in scale(name, workdir, SCALE).items():
                    results.setdefault(label, {})[name] = figure
    return results


def scale(name: str, workdir: Path, count: int) -> dict[str, float]:
    """Run the two scale scenarios against one broker; return their figures."""
    figures: dict[str, float] = {}
    broker = Broker(name, workdir)
    try:
        before = rss_kib(broker.process.pid)
        command = [str(LOAD), "subscriptions", "--port", str(broker.port)]
        command += ["--filters", str(count), "--per-packet", "100", "--hold", "3"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as client:
            assert client.stdout is not None
            result = json.loads(client.stdout.readline())
            time.sleep(1.0)
            grown = rss_kib(broker.process.pid) - before
            client.wait(timeout=60)
        figures["subscribe 100k filters (s)"] = result["seconds"]
        figures["SUBSCRIBE last/first tenth"] = result["last_tenth_us"] / result["first_tenth_us"]
        figures["bytes per subscription"] = grown * 1024 / count
    finally:
        broker.stop()
    broker = Broker(name, workdir)
    try:
        before = rss_kib(broker.process.pid)
        command = [str(LOAD), "retained", "--port", str(broker.port)]
        command += ["--messages", str(count), "--hold", "2"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as client:
            assert client.stdout is not None
            stored = json.loads(client.stdout.readline())
            time.sleep(1.0)
            grown = rss_kib(broker.process.pid) - before
            delivered = json.loads(client.stdout.readline())
            client.wait(timeout=60)
        figures["retained stored (msg/s)"] = stored["stored_per_second"]
        figures["bytes per retained message"] = grown * 1024 / count
        figures["100k retained to r/# (s)"] = delivered["seconds"]
        figures["retained sent in 30 s (%)"] = delivered["delivered"] * 100 / count
    finally:
        broker.stop()
    return figures


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--baseline", default="ours", help="the broker the ratios are of")
    parser.add_argument(
        "--brokers",
        default="ours,ours-durable,tokio,tokio-2cores,mosquitto,mosquitto-persist,rumqttd,amqtt",
    )
    args = parser.parse_args()
    if not LOAD.exists():
        print(f"build the load generator first: {LOAD} is missing", file=sys.stderr)
        return 2
    names = args.brokers.split(",")
    results = measure(names, args.seconds, args.connections)
    cores = os.cpu_count()
    print(
        f"Brokers on loopback, each pinned to one core, the load on another ({cores} cores); "
        f"MQTT 3.1.1, 256 B payloads, {args.seconds:.0f} s per scenario"
    )
    header = f"{'scenario':26}" + "".join(f"{name:>18}" for name in names)
    base = args.baseline
    # Ratios against the plain brokers only (the variants are read from their columns).
    plain = ("ours", "tokio", "mosquitto", "rumqttd", "amqtt")
    others = [name for name in names if name != base and name in plain]
    header += "".join(f"{base + '/' + name:>26}" for name in others)
    print(header)
    print("-" * len(header))
    for label, row in results.items():
        digits = 2 if label.endswith(("(s)", "tenth")) else 1 if label.startswith("KiB") else 0
        line = f"{label:26}" + "".join(
            f"{row[name]:18.{digits}f}" if name in row else f"{'-':>18}" for name in names
        )
        for name in others:
            if row.get(base) and row.get(name):
                line += f"{row[base] / row[name]:25.2f}x"
            else:
                line += f"{'-':>26}"
        print(line)
    print("throughput: higher is better; latency, CPU, memory and times: lower is better")
    print("SUBSCRIBE last/first tenth: what the last tenth of the SUBSCRIBE packets cost against")
    print("the first (1.00: the same however many subscriptions the client already has)")
    print("-: not measured (the scale scenarios run against ours and mosquitto only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
