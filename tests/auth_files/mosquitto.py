"""A live mosquitto for the auth-file tests: started on 127.0.0.1 and a free port with
the files under test, stopped by its process id."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "mosquitto_passwd"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mosquitto(workdir: Path, *settings: str) -> Iterator[int]:
    """Run mosquitto with these configuration lines; yield its port."""
    port = free_port()
    config = workdir / f"mosquitto-{port}.conf"
    # `user root`: the files under test are the caller's, readable by it only.
    lines = [f"listener {port} 127.0.0.1", "user root", "sys_interval 1", *settings]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = (workdir / f"mosquitto-{port}.log").open("w")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    text = (workdir / f"mosquitto-{port}.log").read_text()
                    raise AssertionError(f"mosquitto did not start:\n{text}") from None
                time.sleep(0.02)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
