"""A headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

The test starts it with ``--remote-debugging-pipe`` (no port, nothing on the network but
the page's own requests to the broker on loopback), attaches to the page it opened and
reads the DOM with ``Runtime.evaluate``. Stopped by its process id when done.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TIMEOUT = 20.0


class Browser:
    """One headless Chromium with one page, and a DevTools session on that page."""

    def __init__(self, process: subprocess.Popen[bytes], commands: int, answers: int) -> None:
        self.process = process
        self._commands = commands
        self._answers = answers
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a DevTools command (to the page, once attached); return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session is not None:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def attach_to_page(self) -> None:
        """Attach to the page the browser opened at start."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pages = [
                t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"
            ]
            if pages:
                attached = self.call(
                    "Target.attachToTarget", {"targetId": pages[0]["targetId"], "flatten": True}
                )
                self._session = attached["sessionId"]
                return
            time.sleep(0.1)
        raise AssertionError("Chromium opened no page")

    def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def text_of(self, element_id: str) -> str:
        """Return the text of the page's element with this id ("" if there is none)."""
        value = self.evaluate(
            f"(document.getElementById({json.dumps(element_id)}) || {{}}).textContent || ''"
        )
        return str(value)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(0.0, left))
            if not ready:
                raise AssertionError("Chromium did not answer in time")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise AssertionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed


def high_fd(fd: int) -> int:
    """Return a copy of ``fd`` numbered 10 or more, and close ``fd``."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


@contextmanager
def chromium(url: str) -> Iterator[Browser]:
    """Start headless Chromium on ``url``; stop it (its process group) at the end."""
    program = shutil.which("chromium")
    assert program is not None, "Debian's chromium is not installed (./dev.sh test installs it)"
    # The DevTools pipe is the browser's fds 3 (commands) and 4 (answers); its ends are
    # moved above 9 first, so that bash's redirections cannot overwrite one.
    commands_read, commands_write = os.pipe()
    answers_read, answers_write = os.pipe()
    commands_read, answers_write = high_fd(commands_read), high_fd(answers_write)
    # Chromium's helper processes may still write to the profile as they die.
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        args = [
            program,
            "--headless",
            "--no-sandbox",  # as root in CI; the page is our own, on loopback
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            url,
        ]
        shell = f'exec "$@" 3<&{commands_read} 4>&{answers_write}'
        process = subprocess.Popen(
            ["bash", "-c", shell, "bash", *args],
            pass_fds=(commands_read, answers_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: the browser and its helpers are stopped together.
            start_new_session=True,
        )
        os.close(commands_read)
        os.close(answers_write)
        browser = Browser(process, commands_write, answers_read)
        try:
            browser.attach_to_page()
            yield browser
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(TIMEOUT)
            os.close(commands_write)
            os.close(answers_read)
