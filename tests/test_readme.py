"""The README's Python examples run against the installed wheel.

An example that talks to Redis at ``redis://127.0.0.1:6379`` runs against a
``redis-server`` this test starts on a free port instead.
"""

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from reference_broker.support import RedisServer, redis_server  # noqa: E402

README = TESTS.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("readme-redis")) as server:
        yield server


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block(source: str, request: pytest.FixtureRequest) -> None:
    if REDIS_URL in source:
        server: RedisServer = request.getfixturevalue("redis")
        source = source.replace(REDIS_URL, server.url)
    exec(compile(source, str(README), "exec"), {})


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4
    assert any(REDIS_URL in block for block in BLOCKS), "the Redis example runs too"
