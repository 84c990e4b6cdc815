"""A contract kit that fails shows the values that differ, not a bare AssertionError."""

import subprocess
import sys
import textwrap
from pathlib import Path

BROKEN_STORAGE = textwrap.dedent(
    """
    from mqtt_common.src.storage import MemoryStorage
    from mqtt_common.testing import StorageContract


    class Forgetful(MemoryStorage):
        def queue_length(self, client_id):
            return 41


    class TestForgetful(StorageContract):
        def make_storage(self):
            return Forgetful()
    """
)


def test_a_failing_kit_shows_the_values(tmp_path: Path) -> None:
    (tmp_path / "test_forgetful.py").write_text(BROKEN_STORAGE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    # pytest rewrote the kit's asserts: the report shows the value the storage returned.
    assert "41" in result.stdout, result.stdout
    assert "where 41 = " in result.stdout or "assert 41 ==" in result.stdout, result.stdout
