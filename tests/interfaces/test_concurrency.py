"""Several Python threads storing and reading at once lose nothing."""

import threading

from mqtt_common.models import Message, Subscription
from mqtt_common.src.session import MemorySessionStore
from mqtt_common.src.storage import MemoryStorage

THREADS = 8
PER_THREAD = 300


def test_threads_lose_nothing() -> None:
    storage = MemoryStorage(max_queue_length=None)
    sessions = MemorySessionStore()
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(PER_THREAD):
                client = f"client-{t}"
                storage.store_retained(Message(f"t{t}/m{i}", b"x", retain=True))
                storage.enqueue(client, Message("q", str(i).encode()))
                storage.add_subscription(client, Subscription(f"t{t}/f{i}", 1))
                storage.get_retained("#")
                storage.get_subscribers(f"t{t}/f{i}")
                session, _ = sessions.create_session(f"{client}-{i}", False, 60)
                sessions.save_session(session)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(storage.get_retained("#")) == THREADS * PER_THREAD
    for t in range(THREADS):
        queued = storage.dequeue(f"client-{t}")
        assert [m.payload for m in queued] == [str(i).encode() for i in range(PER_THREAD)]
        assert len(storage.get_subscriptions(f"client-{t}")) == PER_THREAD
    assert len(sessions) == THREADS * PER_THREAD
