"""A short run of the chaos test (``chaos.py`` is the full one: ``./dev.sh chaos``)."""

from .chaos import MEMORY_SLACK_KIB, run


def test_the_broker_survives_hostile_and_careless_clients() -> None:
    report, memory, serving, output = run(clients=40, seconds=5.0, trim_every=1.0)
    assert report.connections > 100
    assert report.loop_connections > 100
    lost = report.acknowledged - report.received
    assert lost == set(), f"{len(lost)} acknowledged messages never reached the session"
    assert report.never_reader_disconnected, output[-2000:]
    assert serving
    assert memory["settled"] - memory["baseline"] < MEMORY_SLACK_KIB, memory
    assert "Traceback" not in output
