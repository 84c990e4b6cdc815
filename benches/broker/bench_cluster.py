"""Broker nodes of one cluster on Redis, in one run, on loopback.

Across nodes against within one node, and two processes on one port (``--reuse-port``)
against one. Run with ``./dev.sh bench-cluster`` (or ``python benches/broker/bench_cluster.py
[--broker tokio|python] [--seconds S]`` after building the load generator and the tokio
broker in release). ``--broker`` picks the tokio broker (the default) or the reference
broker.
One ``redis-server`` of the run's own (append-only file, ``appendfsync always``, as the
tests run it); each configuration gets fresh nodes under a fresh key prefix. MQTT 3.1.1,
256-byte payloads, the scenarios of ``bench_brokers.py``:

* "one node": publishers and subscribers on the same node (a cluster of one);
* "across": the subscribers on node n2, the publishers on node n1: every message
  crosses through Redis (n1's commit writes it to n2's inbox stream, n2 reads it);
* "1 process" and "2 processes": every client connects to one port; with two, the
  kernel spreads the connections between two nodes listening there with
  ``SO_REUSEPORT`` (``--reuse-port``), and what a publisher sends to a subscriber on the
  other process crosses.

The load generator runs on core 1 (as in ``bench_brokers.py``); the nodes and Redis are
not pinned: they share this machine's cores with it, so "across" pays for both nodes'
work and Redis' out of the same two cores. The "CPU per message" rows say what one
node spends: with each node on a machine of its own, the busiest node's figure is what
bounds the cluster. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_brokers import LOAD, ROOT, TOKIO, free_port, load, wait_listening
from reference_broker.support import RedisServer

THROUGHPUT = [
    ("fan-in  QoS 0 (msg/s)", ["fan-in", "--publishers", "8", "--qos", "0"]),
    ("fan-out QoS 0 (msg/s)", ["fan-out", "--subscribers", "8", "--qos", "0"]),
    ("fan-in  QoS 1 (msg/s)", ["fan-in", "--publishers", "8", "--qos", "1"]),
    ("fan-out QoS 1 (msg/s)", ["fan-out", "--subscribers", "8", "--qos", "1"]),
]
LATENCY = [
    ("QoS 0", ["latency", "--rate", "1000", "--qos", "0"]),
    ("QoS 1", ["latency", "--rate", "1000", "--qos", "1"]),
]
PREFIXES = count()


def broker(kind: str, port: int) -> list[str]:
    """Return the command that starts a broker of ``kind`` ("tokio", "python") on ``port``."""
    if kind == "python":
        return [sys.executable, str(ROOT / "examples" / "broker"), "--port", str(port)]
    return [str(TOKIO), "--port", str(port)]


class Nodes:
    """Broker nodes under one fresh prefix, stopped by their process ids."""

    #: Which broker: "tokio" or "python".
    kind = "tokio"

    def __init__(self, redis: RedisServer, count: int, reuse_port: bool) -> None:
        prefix = f"bench{next(PREFIXES)}"
        shared = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        for n in range(count):
            port = shared if reuse_port else free_port()
            command = [*broker(self.kind, port), "--log-level", "WARNING"]
            command += ["--redis-url", redis.url, "--redis-prefix", prefix]
            command += ["--node-id", f"n{n + 1}"]
            if reuse_port:
                command.append("--reuse-port")
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            self.processes.append(process)
            self.ports.append(port)
            wait_listening(port)
        time.sleep(0.5)

    def cpu_seconds(self) -> list[float]:
        """Each node's CPU time so far (user and system), in seconds."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = []
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            used.append((int(fields[11]) + int(fields[12])) / ticks)
        return used

    def stop(self) -> None:
        """Stop them by their process ids."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run(
    redis: RedisServer, count: int, reuse_port: bool, arguments: list[str], seconds: float
) -> dict[str, float]:
    """Run one scenario on fresh nodes.

    The subscribers connect to the last node's port, the publishers to the first's.
    """
    nodes = Nodes(redis, count, reuse_port)
    try:
        ports = ["--port", str(nodes.ports[-1]), "--publish-port", str(nodes.ports[0])]
        before = nodes.cpu_seconds()
        result = load([*arguments, *ports], nodes.ports[-1], seconds)
        after = nodes.cpu_seconds()
        busiest = max(b - a for a, b in zip(before, after, strict=True))
        result["busiest_us_per_message"] = 1e6 * busiest / max(result.get("messages", 0), 1)
        return result
    finally:
        nodes.stop()


def main() -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--broker", choices=["tokio", "python"], default="tokio")
    args = parser.parse_args()
    Nodes.kind = args.broker
    for needed in (LOAD, TOKIO):
        if not needed.exists():
            print(f"build it first (release): {needed} is missing", file=sys.stderr)
            return 2
    seconds = args.seconds
    with tempfile.TemporaryDirectory() as directory:
        redis = RedisServer(free_port(), Path(directory) / "redis")
        redis.directory.mkdir(parents=True)
        redis.start()
        try:
            rows: list[tuple[str, float, float, float]] = []
            cpu_rows: list[tuple[str, float, float, float]] = []
            for label, arguments in THROUGHPUT:
                one = run(redis, 1, False, arguments, seconds)
                across = run(redis, 2, False, arguments, seconds)
                rows.append((label, one["per_second"], across["per_second"], 0))
                cpu_label = "CPU/msg " + label.split(" (")[0].replace("  ", " ") + " (us)"
                cpu = (one["busiest_us_per_message"], across["busiest_us_per_message"])
                cpu_rows.append((cpu_label, *cpu, 0))
            rows.extend(cpu_rows)
            for qos, arguments in LATENCY:
                one = run(redis, 1, False, arguments, seconds)
                across = run(redis, 2, False, arguments, seconds)
                rows.append((f"latency p50 {qos} (us)", one["p50_us"], across["p50_us"], 0))
                rows.append((f"latency p99 {qos} (us)", one["p99_us"], across["p99_us"], 0))
            shared: list[tuple[str, float, float]] = []
            for label, arguments in THROUGHPUT:
                one_process = load_on_one_port(redis, 1, arguments, seconds)
                two_processes = load_on_one_port(redis, 2, arguments, seconds)
                shared.append((label, one_process, two_processes))
        finally:
            redis.kill()
    cores = os.cpu_count()
    name = "Tokio" if args.broker == "tokio" else "Reference"
    print(
        f"{name} broker nodes on one redis-server (AOF, fsync always), loopback, {cores} "
        f"cores shared by all; MQTT 3.1.1, 256 B payloads, {seconds:.0f} s per scenario"
    )
    header = f"{'scenario':26}{'one node':>14}{'across':>14}{'across/one':>14}"
    print(header)
    print("-" * len(header))
    for label, one, across, _ in rows:
        digits = 2 if label.startswith("CPU") else 0
        print(f"{label:26}{one:14.{digits}f}{across:14.{digits}f}{across / one:13.2f}x")
    print()
    header = f"{'one port':26}{'1 process':>14}{'2 processes':>14}{'2/1':>14}"
    print(header)
    print("-" * len(header))
    for label, one, two in shared:
        print(f"{label:26}{one:14.0f}{two:14.0f}{two / one:13.2f}x")
    print(
        "throughput: higher is better; latency and CPU per message (the busiest node's, "
        "per message delivered): lower is better"
    )
    return 0


def load_on_one_port(
    redis: RedisServer, count: int, arguments: list[str], seconds: float
) -> float:
    """Throughput with every client on one port served by ``count`` processes."""
    nodes = Nodes(redis, count, reuse_port=count > 1)
    try:
        return load(arguments, nodes.ports[0], seconds)["per_second"]
    finally:
        nodes.stop()


if __name__ == "__main__":
    sys.exit(main())
