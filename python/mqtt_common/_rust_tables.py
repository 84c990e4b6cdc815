"""The check that keeps a Python ``IntEnum`` equal to the Rust table it mirrors."""

from __future__ import annotations

import enum


def require_rust_members(cls: type[enum.IntEnum], rust_members: list[tuple[str, int]]) -> None:
    """Raise ``ImportError`` unless ``cls`` has exactly the Rust table's names and values.

    Aliases count as members, so a Rust alias needs its Python alias too.
    """
    python_members = {name: int(member) for name, member in cls.__members__.items()}
    if python_members != dict(rust_members):
        msg = f"{cls.__name__} differs from the Rust table: {sorted(rust_members)}"
        raise ImportError(msg)
