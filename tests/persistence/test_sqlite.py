"""The SQLite stores from Python: kill -9, a full disk, a restart in a new process, and
the clear errors at open."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from mqtt_common.models import Message, StorageError, Subscription, ValidationError
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.src.session import (
    AsyncSessionInterface,
    SqliteSessionStore,
    Will,
)
from mqtt_common.src.storage import AsyncStorageInterface, SqliteStorage

from . import crash


def test_kill_minus_nine_loses_nothing_reported(tmp_path: Path) -> None:
    """The short crash run (the full one is ``./dev.sh crash``: 100 cycles)."""
    report = crash.run(tmp_path, cycles=5, seed=2026)
    assert report.failures == []
    assert report.cycles == 5
    assert report.calls_confirmed > 1000


# A child that fills the disk: the file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so
# that writing past it fails with EFBIG rather than killing the process) stands for a
# full disk. It prints how many calls returned, then what the failing calls raised.
DISK_FULL_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from mqtt_common.models import Message, MQTTError
    from mqtt_common.src.storage import SqliteStorage
    from mqtt_common.src.session import SqliteSessionStore

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    storage = SqliteStorage(sys.argv[1] + "/storage.db", max_queue_length=None)
    sessions = SqliteSessionStore(sys.argv[1] + "/sessions.db")
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
    stored = 0
    errors = []
    while len(errors) < 5:
        try:
            storage.enqueue("c", Message("t/q", bytes([stored % 256]) * 1000, qos=1))
            storage.store_retained(Message(f"r/{stored}", b"x" * 500, retain=True))
            stored += 1
            print("stored", stored, flush=True)
        except MQTTError as err:
            errors.append(f"{type(err).__name__}: {err}")
    session, _ = sessions.create_session("s", False, 60)
    session.send_publish(Message("t", b"y" * 400_000, qos=1))
    try:
        sessions.save_session(session)
    except MQTTError as err:
        errors.append(f"{type(err).__name__}: {err}")
    print("queue", storage.queue_length("c"), flush=True)
    for error in errors:
        print("error", error, flush=True)
    storage.close()
    sessions.close()
    """
)


def test_a_full_disk_gives_storage_errors_and_keeps_what_was_stored(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    stored = max(int(line.split()[1]) for line in lines if line.startswith("stored"))
    errors = [line.removeprefix("error ") for line in lines if line.startswith("error")]
    assert stored > 10
    assert len(errors) == 6
    for error in errors:
        assert error.startswith("StorageError: "), error
        assert "disk" in error or "full" in error or "too large" in error, error
    # The failed calls changed nothing: the store still serves what was acknowledged.
    assert f"queue {stored}" in lines
    for name in ("storage.db", "sessions.db"):
        with sqlite3.connect(tmp_path / name) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with SqliteStorage(tmp_path / "storage.db", max_queue_length=None) as storage:
        queued = storage.dequeue("c")
        assert [m.payload[0] for m in queued] == [n % 256 for n in range(stored)]
        assert len(storage.get_retained("r/+")) == stored
        storage.enqueue("c", Message("t/q", b"room again", qos=1))  # space is back
    with SqliteSessionStore(tmp_path / "sessions.db") as sessions:
        session = sessions.get_session("s")
        assert session is not None
        assert session.outgoing() == []


WRITER = textwrap.dedent(
    """
    import sys
    from mqtt_common.models import Message, Subscription
    from mqtt_common.models.constants import ProtocolVersion
    from mqtt_common.src.session import SqliteSessionStore, Will
    from mqtt_common.src.storage import SqliteStorage

    with SqliteStorage(sys.argv[1] + "/storage.db", queue_full="drop_oldest",
                       max_queue_length=3) as storage:
        storage.store_retained(Message("a/b", b"kept", qos=1, retain=True,
                                       properties={"content_type": "text/plain"}))
        storage.add_subscription("c1", Subscription("a/#", qos=2, no_local=True))
        for n in range(5):
            storage.enqueue("c1", Message("a/b", str(n), qos=1))
    with SqliteSessionStore(sys.argv[1] + "/sessions.db") as sessions:
        session, _ = sessions.create_session("c1", False, 600, ProtocolVersion.V5)
        session.send_publish(Message("out/1", b"one", qos=1))
        session.send_publish(Message("out/2", b"two", qos=2))
        session.pubrec_received(2)
        session.publish_received(Message("in/1", b"in", qos=2, message_id=9))
        sessions.save_session(session)
        sessions.set_will("c1", Will(Message("will/c1", b"gone"), delay_interval=30))
    """
)


def test_written_then_reopened_in_a_new_process_reads_back_equal(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path)], check=True, timeout=60)
    with SqliteStorage(tmp_path / "storage.db", max_queue_length=3) as storage:
        assert storage.get_retained("#") == [
            Message("a/b", b"kept", qos=1, retain=True, properties={"content_type": "text/plain"})
        ]
        assert storage.get_subscribers("a/b") == [
            ("c1", Subscription("a/#", qos=2, no_local=True))
        ]
        assert [m.payload for m in storage.dequeue("c1")] == [b"2", b"3", b"4"]
    with SqliteSessionStore(tmp_path / "sessions.db") as sessions:
        session = sessions.get_session("c1")
        assert session is not None
        assert session.protocol_version == ProtocolVersion.V5
        assert session.expiry_interval == 600
        assert [(packet_id, stage.name) for packet_id, stage, _ in session.outgoing()] == [
            (1, "PUBACK"),
            (2, "PUBCOMP"),
        ]
        assert session.incoming() == [9]
        assert sessions.get_will("c1") == Will(Message("will/c1", b"gone"), delay_interval=30)
        assert sessions.client_ids() == ["c1"]


def test_a_second_user_of_a_file_is_refused(tmp_path: Path) -> None:
    with SqliteStorage(tmp_path / "s.db"):
        with pytest.raises(StorageError, match="locked by another"):
            SqliteStorage(tmp_path / "s.db")
        script = (
            "import sys; from mqtt_common.src.storage import SqliteStorage as S; S(sys.argv[1])"
        )
        other = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "s.db")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "StorageError: storage error: cannot open" in other.stderr
        assert "locked by another" in other.stderr


def test_files_that_are_not_ours_are_refused_clearly(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 1000)
    with pytest.raises(StorageError, match="not an SQLite database"):
        SqliteStorage(garbage)
    SqliteSessionStore(tmp_path / "sessions.db").close()
    with pytest.raises(StorageError, match="not the database of an mqtt-common storage"):
        SqliteStorage(tmp_path / "sessions.db")
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StorageError, match="not the database of an mqtt-common"):
        SqliteStorage(tmp_path / "other.db")
    with pytest.raises(StorageError, match="unable to open"):
        SqliteStorage(tmp_path / "missing" / "s.db")


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    SqliteStorage(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(StorageError, match="newer version of mqtt-common"):
        SqliteStorage(tmp_path / "s.db")


def test_options_are_validated_and_shown(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="durability"):
        SqliteStorage(tmp_path / "s.db", durability="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_queue_length"):
        SqliteStorage(tmp_path / "s.db", max_queue_length=-1)
    with SqliteStorage(tmp_path / "s.db", durability="process_crash_only") as storage:
        assert storage.path == tmp_path / "s.db"
        assert storage.durability == "process_crash_only"
        assert 'durability="process_crash_only"' in repr(storage)
    with SqliteSessionStore(str(tmp_path / "t.db")) as sessions:
        assert sessions.durability == "full"
        assert repr(sessions) == f'<SqliteSessionStore "{tmp_path / "t.db"}" durability="full">'


def test_the_async_adapter_waits_for_the_disk_off_the_event_loop(tmp_path: Path) -> None:
    callers: set[int] = set()

    class Watched(SqliteStorage):
        def enqueue(self, client_id: str, message: Message) -> None:
            callers.add(threading.get_ident())
            super().enqueue(client_id, message)

    storage = Watched(tmp_path / "s.db")
    sessions = SqliteSessionStore(tmp_path / "t.db")
    assert storage.blocking
    assert sessions.blocking

    async def main() -> int:
        adapted = AsyncStorageInterface.adapt(storage)
        adapted_sessions = AsyncSessionInterface.adapt(sessions)
        await asyncio.gather(
            *(adapted.enqueue("c", Message("t", str(n), qos=1)) for n in range(50))
        )
        _, present = await adapted_sessions.create_session("c", False, 10)
        assert not present
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert callers
    assert loop_thread not in callers
    # Concurrent calls, each on a worker thread: all stored, in no promised order.
    assert sorted(int(m.payload) for m in storage.dequeue("c")) == list(range(50))
    storage.close()
    sessions.close()
    with pytest.raises(StorageError):
        storage.queue_length("c")


class NoThreads(ThreadPoolExecutor):
    """An executor that refuses work: the adapter must not need one."""

    def submit(self, *args: object, **kwargs: object) -> Future[object]:  # type: ignore[override]
        raise AssertionError("the adapter used a worker thread")


def test_the_async_adapter_starts_writes_without_a_thread_per_call(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "s.db", max_queue_length=3)
    adapted = AsyncStorageInterface.adapt(storage)

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(NoThreads())
        clients = [f"c{n}" for n in range(40)]
        await asyncio.gather(*(adapted.enqueue(c, Message("t", c, qos=1)) for c in clients))
        assert [await adapted.queue_length(c) for c in clients] == [1] * 40
        for payload in ("2", "3"):
            await adapted.enqueue("c0", Message("t", payload, qos=1))
        with pytest.raises(StorageError, match="full"):
            await adapted.enqueue("c0", Message("t", "4", qos=1))
        taken = await adapted.dequeue("c0", limit=2)
        assert [m.payload for m in taken] == [b"c0", b"2"]
        assert await adapted.dequeue("nobody") == []
        assert await adapted.add_subscription("c1", Subscription("a/#", 1)) is False
        assert await adapted.remove_subscription("c1", "a/#") is True
        await adapted.store_retained(Message("r", b"kept", retain=True))
        assert await adapted.delete_retained("r") is True
        storage.close()
        with pytest.raises(StorageError, match="closed"):
            await adapted.enqueue("c0", Message("t", "5", qos=1))

    asyncio.run(main())
