"""The README's Python examples run against the installed wheel."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block(source: str) -> None:
    exec(compile(source, str(README), "exec"), {})


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4
